package models

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// ErrNotSealed is returned when an EncryptedString would reach the database
// without passing through the FieldCipher's callbacks: Herald refuses to
// write plaintext rather than write it silently.
var ErrNotSealed = errors.New("encrypted field: value was not sealed before writing (is the FieldCipher registered on this *gorm.DB?)")

// ErrNoRowKey is returned when a row holding an encrypted field has no
// primary key yet: the key is part of the associated data, so models with
// encrypted fields set their primary key before insert.
var ErrNoRowKey = errors.New("encrypted field: row has no primary key to bind the ciphertext to")

// EncryptedString is a column stored as Tink ciphertext and read back as
// plaintext. The ciphertext is bound to its table, column and row, so it
// cannot be copied to another place and decrypted there.
//
// String and LogValue never reveal the plaintext; call Reveal.
type EncryptedString struct {
	plain  string
	sealed []byte
	// opened is false for a value scanned but not decrypted (a raw query).
	opened bool
}

// Secret wraps a plaintext for an encrypted column.
func Secret(plain string) EncryptedString { return EncryptedString{plain: plain, opened: true} }

// Reveal returns the plaintext ("" for NULL or for a value read without
// decryption).
func (e EncryptedString) Reveal() string { return e.plain }

// IsZero reports whether the value is empty.
func (e EncryptedString) IsZero() bool { return e.plain == "" && len(e.sealed) == 0 }

// String keeps secrets out of fmt output.
func (e EncryptedString) String() string { return "[encrypted]" }

// GoString keeps secrets out of %#v, which error messages of database
// drivers use for values they cannot encode.
func (e EncryptedString) GoString() string { return "models.EncryptedString([encrypted])" }

// Format keeps secrets out of every fmt verb (%d, %x... would otherwise
// print the struct's fields).
func (e EncryptedString) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(e.GoString()))
		return
	}
	_, _ = f.Write([]byte(e.String()))
}

// LogValue keeps secrets out of slog output.
func (e EncryptedString) LogValue() slog.Value { return slog.StringValue("[encrypted]") }

// Value implements driver.Valuer: only ciphertext is ever written.
func (e EncryptedString) Value() (driver.Value, error) {
	if !e.opened {
		// Read without decryption: write the ciphertext back untouched.
		if len(e.sealed) == 0 {
			return nil, nil
		}
		return e.sealed, nil
	}
	if e.plain == "" {
		return nil, nil
	}
	if len(e.sealed) == 0 {
		return nil, ErrNotSealed
	}
	return e.sealed, nil
}

// Scan implements sql.Scanner; the query callback decrypts afterwards.
func (e *EncryptedString) Scan(src any) error {
	*e = EncryptedString{}
	switch v := src.(type) {
	case nil:
		e.opened = true
	case []byte:
		e.sealed = append([]byte(nil), v...)
	case string:
		e.sealed = []byte(v)
	default:
		return fmt.Errorf("encrypted field: cannot scan %T", src)
	}
	return nil
}

// GormDataType tells gorm the column holds bytes.
func (EncryptedString) GormDataType() string { return "bytes" }

var encryptedStringType = reflect.TypeOf(EncryptedString{})

// cipherPlugin carries a FieldCipher on a *gorm.DB: gorm keeps plugins on
// the DB's shared config, so the Store finds the cipher again (Rekey).
type cipherPlugin struct{ c *FieldCipher }

const cipherPluginName = "herald:fieldcipher"

func (p cipherPlugin) Name() string { return cipherPluginName }

func (p cipherPlugin) Initialize(db *gorm.DB) error {
	c := p.c
	cb := db.Callback()
	if err := cb.Create().Before("gorm:create").Register("herald:seal", c.sealCreateHook); err != nil {
		return fmt.Errorf("registering seal callback: %w", err)
	}
	if err := cb.Update().Before("gorm:update").Register("herald:seal", c.sealUpdateHook); err != nil {
		return fmt.Errorf("registering seal callback: %w", err)
	}
	if err := cb.Query().After("gorm:query").Register("herald:open", c.openHook); err != nil {
		return fmt.Errorf("registering open callback: %w", err)
	}
	return nil
}

// Register installs the sealing and opening callbacks on db (this instance
// only: nothing global). Every *gorm.DB Herald opens goes through it.
func (c *FieldCipher) Register(db *gorm.DB) error {
	if err := db.Use(cipherPlugin{c}); err != nil {
		return fmt.Errorf("registering field cipher: %w", err)
	}
	return nil
}

// cipherOf returns the FieldCipher registered on db, or nil.
func cipherOf(db *gorm.DB) *FieldCipher {
	if p, ok := db.Config.Plugins[cipherPluginName].(cipherPlugin); ok {
		return p.c
	}
	return nil
}

// associatedData binds a ciphertext to its table, column and row.
func associatedData(table, column string, rowKey any) []byte {
	return fmt.Appendf(nil, "herald/v1/%s/%s/%v", table, column, rowKey)
}

func encryptedFields(s *schema.Schema) []*schema.Field {
	if s == nil {
		return nil
	}
	var out []*schema.Field
	for _, f := range s.Fields {
		if f.FieldType == encryptedStringType {
			out = append(out, f)
		}
	}
	return out
}

// hasEncryptedField reports whether struct type t (or a struct it embeds)
// has an EncryptedString field.
func hasEncryptedField(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == encryptedStringType || (f.Anonymous && hasEncryptedField(f.Type)) {
			return true
		}
	}
	return false
}

// rowKey is the primary key an encrypted field of row is bound to; ok is
// false when it is not set.
func rowKey(st *gorm.Statement, s *schema.Schema, row reflect.Value) (key any, ok bool) {
	pk := s.PrioritizedPrimaryField
	if pk == nil {
		return nil, false
	}
	key, zero := pk.ValueOf(st.Context, row)
	return key, !zero
}

// eachRow calls fn for every addressable struct in a statement's value.
func eachRow(rv reflect.Value, fn func(reflect.Value) error) error {
	rv = reflect.Indirect(rv)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if err := eachRow(rv.Index(i), fn); err != nil {
				return err
			}
		}
	case reflect.Struct:
		return fn(rv)
	}
	return nil
}

// sealRow seals the encrypted fields of row, bound to key. Rows of another
// type than the model are left alone: their values fail with ErrNotSealed.
func (c *FieldCipher) sealRow(st *gorm.Statement, row reflect.Value, key any, hasKey bool) error {
	if row.Type() != st.Schema.ModelType {
		return nil
	}
	for _, f := range encryptedFields(st.Schema) {
		v := f.ReflectValueOf(st.Context, row).Addr().Interface().(*EncryptedString)
		if v.plain == "" {
			continue
		}
		if !hasKey {
			return fmt.Errorf("%s: %w", st.Schema.Table, ErrNoRowKey)
		}
		ct, err := c.Seal([]byte(v.plain), associatedData(st.Schema.Table, f.DBName, key))
		if err != nil {
			return err
		}
		v.sealed = ct
	}
	return nil
}

// sealMap seals the encrypted values of Updates(map) and Update(column,
// value), bound to the model's key.
func (c *FieldCipher) sealMap(st *gorm.Statement, m map[string]any) error {
	key, hasKey := rowKey(st, st.Schema, reflect.Indirect(st.ReflectValue))
	for _, f := range encryptedFields(st.Schema) {
		for _, name := range []string{f.DBName, f.Name} {
			v, ok := m[name].(EncryptedString)
			if !ok || v.plain == "" {
				continue
			}
			if !hasKey {
				return fmt.Errorf("%s: %w", st.Schema.Table, ErrNoRowKey)
			}
			ct, err := c.Seal([]byte(v.plain), associatedData(st.Schema.Table, f.DBName, key))
			if err != nil {
				return err
			}
			v.sealed = ct
			m[name] = v
		}
	}
	return nil
}

func (c *FieldCipher) sealCreateHook(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || len(encryptedFields(st.Schema)) == 0 {
		return
	}
	var err error
	if m, ok := st.Dest.(map[string]any); ok {
		err = c.sealMap(st, m)
	} else {
		err = eachRow(st.ReflectValue, func(row reflect.Value) error {
			key, hasKey := rowKey(st, st.Schema, row)
			return c.sealRow(st, row, key, hasKey)
		})
	}
	if err != nil {
		_ = db.AddError(err)
	}
}

func (c *FieldCipher) sealUpdateHook(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || len(encryptedFields(st.Schema)) == 0 {
		return
	}
	// By now st.ReflectValue is the model; the new values are in Dest.
	var err error
	switch dest := st.Dest.(type) {
	case map[string]any:
		err = c.sealMap(st, dest)
	default:
		if st.Dest == st.Model {
			// Save: the model carries the values and each row its key.
			err = eachRow(st.ReflectValue, func(row reflect.Value) error {
				key, hasKey := rowKey(st, st.Schema, row)
				return c.sealRow(st, row, key, hasKey)
			})
			break
		}
		// Updates(struct): seal the values (a copy when passed by value, as
		// the caller's cannot be changed) under the model's key.
		dv := reflect.ValueOf(st.Dest)
		if dv.Kind() != reflect.Pointer {
			if dv.Type() != st.Schema.ModelType {
				break
			}
			cp := reflect.New(dv.Type())
			cp.Elem().Set(dv)
			dv, st.Dest = cp, cp.Interface()
		}
		key, hasKey := rowKey(st, st.Schema, reflect.Indirect(st.ReflectValue))
		if row := reflect.Indirect(dv); row.Kind() == reflect.Struct {
			err = c.sealRow(st, row, key, hasKey)
		}
	}
	if err != nil {
		_ = db.AddError(err)
	}
}

// maxOpenDepth bounds how deep openRow follows relations (they can cycle).
const maxOpenDepth = 3

func (c *FieldCipher) openHook(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || st.Schema == nil {
		return
	}
	err := eachRow(st.ReflectValue, func(row reflect.Value) error {
		return c.openRow(st, st.Schema, row, 0)
	})
	if err != nil {
		_ = db.AddError(err)
	}
}

// openRow decrypts the encrypted fields of a row of schema s, then those of
// the relations loaded into it by Joins (Preload runs its own query and
// callback).
func (c *FieldCipher) openRow(st *gorm.Statement, s *schema.Schema, row reflect.Value, depth int) error {
	if row.Type() != s.ModelType {
		// Find or Pluck into another type than the model: its fields do
		// not line up with the schema's, so refuse rather than guess.
		if row.Type() == encryptedStringType || hasEncryptedField(row.Type()) {
			return fmt.Errorf("encrypted field: cannot decrypt %s rows into %s; read them into %s", s.Table, row.Type(), s.ModelType)
		}
		return nil
	}
	if fields := encryptedFields(s); len(fields) > 0 {
		key, hasKey := rowKey(st, s, row)
		for _, f := range fields {
			v := f.ReflectValueOf(st.Context, row).Addr().Interface().(*EncryptedString)
			if v.opened || len(v.sealed) == 0 {
				continue
			}
			if !hasKey {
				return fmt.Errorf("%s.%s: %w (select the primary key too)", s.Table, f.DBName, ErrNoRowKey)
			}
			pt, err := c.Open(v.sealed, associatedData(s.Table, f.DBName, key))
			if err != nil {
				return fmt.Errorf("%s.%s of row %v: %w", s.Table, f.DBName, key, err)
			}
			v.plain, v.opened = string(pt), true
		}
	}
	if depth >= maxOpenDepth {
		return nil
	}
	for _, rels := range [][]*schema.Relationship{s.Relationships.BelongsTo, s.Relationships.HasOne} {
		for _, rel := range rels {
			if rel.FieldSchema == nil {
				continue
			}
			err := eachRow(rel.Field.ReflectValueOf(st.Context, row), func(r reflect.Value) error {
				return c.openRow(st, rel.FieldSchema, r, depth+1)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}
