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

// Register installs the sealing and opening callbacks on db (this instance
// only: nothing global). Every *gorm.DB Herald opens goes through it.
func (c *FieldCipher) Register(db *gorm.DB) error {
	cb := db.Callback()
	if err := cb.Create().Before("gorm:create").Register("herald:seal", c.sealHook); err != nil {
		return fmt.Errorf("registering seal callback: %w", err)
	}
	if err := cb.Update().Before("gorm:update").Register("herald:seal", c.sealHook); err != nil {
		return fmt.Errorf("registering seal callback: %w", err)
	}
	if err := cb.Query().After("gorm:query").Register("herald:open", c.openHook); err != nil {
		return fmt.Errorf("registering open callback: %w", err)
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

func (c *FieldCipher) sealHook(db *gorm.DB) {
	st := db.Statement
	fields := encryptedFields(st.Schema)
	if len(fields) == 0 || db.Error != nil {
		return
	}
	pk := st.Schema.PrioritizedPrimaryField
	sealRow := func(row reflect.Value) error {
		key, zero := pk.ValueOf(st.Context, row)
		for _, f := range fields {
			v := f.ReflectValueOf(st.Context, row).Addr().Interface().(*EncryptedString)
			if v.plain == "" {
				continue
			}
			if zero {
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
	// Updates(map) and Update(column, value) carry the new values in Dest.
	if m, ok := st.Dest.(map[string]any); ok {
		key, zero := pk.ValueOf(st.Context, reflect.Indirect(st.ReflectValue))
		for _, f := range fields {
			for _, name := range []string{f.DBName, f.Name} {
				if v, ok := m[name].(EncryptedString); ok && v.plain != "" {
					if zero {
						_ = db.AddError(fmt.Errorf("%s: %w", st.Schema.Table, ErrNoRowKey))
						return
					}
					ct, err := c.Seal([]byte(v.plain), associatedData(st.Schema.Table, f.DBName, key))
					if err != nil {
						_ = db.AddError(err)
						return
					}
					v.sealed = ct
					m[name] = v
				}
			}
		}
		return
	}
	if err := eachRow(st.ReflectValue, sealRow); err != nil {
		_ = db.AddError(err)
	}
}

func (c *FieldCipher) openHook(db *gorm.DB) {
	st := db.Statement
	fields := encryptedFields(st.Schema)
	if len(fields) == 0 || db.Error != nil {
		return
	}
	pk := st.Schema.PrioritizedPrimaryField
	err := eachRow(st.ReflectValue, func(row reflect.Value) error {
		key, _ := pk.ValueOf(st.Context, row)
		for _, f := range fields {
			v := f.ReflectValueOf(st.Context, row).Addr().Interface().(*EncryptedString)
			if len(v.sealed) == 0 {
				continue
			}
			pt, err := c.Open(v.sealed, associatedData(st.Schema.Table, f.DBName, key))
			if err != nil {
				return fmt.Errorf("%s.%s of row %v: %w", st.Schema.Table, f.DBName, key, err)
			}
			v.plain, v.opened = string(pt), true
		}
		return nil
	})
	if err != nil {
		_ = db.AddError(err)
	}
}
