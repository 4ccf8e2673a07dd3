package models

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// encryptedModels lists every model with EncryptedString fields: Rekey
// re-seals their rows. A new model with an encrypted field is added here.
var encryptedModels = []any{&ExternalUser{}, &Job{}, &ContactMethod{}}

// DefaultRekeyBatch is the number of rows Rekey reads at a time.
const DefaultRekeyBatch = 500

// RekeyTable counts what Rekey did to one table.
type RekeyTable struct {
	Table     string
	Examined  int64 // rows read
	Rewritten int64 // rows re-sealed under the primary key
}

// RekeyReport is the outcome of Rekey, one entry per table.
type RekeyReport struct {
	Tables []RekeyTable
}

// Rewritten is the number of rows re-sealed across all tables.
func (r RekeyReport) Rewritten() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Rewritten
	}
	return n
}

// Cipher returns the FieldCipher registered on the store's database, or nil.
func (s *Store) Cipher() *FieldCipher { return cipherOf(s.db) }

// Rekey re-seals, under the primary key of the store's cipher, every
// encrypted value sealed with another key of its keyset; afterwards the old
// keys can be dropped from ENCRYPTED_FIELD_KEY. It reads batch rows at a time
// (DefaultRekeyBatch when batch <= 0), each batch in its own transaction,
// and is safe to run while Herald serves: a value changed meanwhile is left
// as its writer sealed it. A value that cannot be decrypted stops it with an
// error wrapping ErrDecrypt.
func (s *Store) Rekey(ctx context.Context, batch int) (RekeyReport, error) {
	var rep RekeyReport
	c := s.Cipher()
	if c == nil {
		return rep, errors.New("rekey: no field cipher registered on this database")
	}
	if batch <= 0 {
		batch = DefaultRekeyBatch
	}
	for _, m := range encryptedModels {
		t, err := s.rekeyModel(ctx, c, m, batch)
		rep.Tables = append(rep.Tables, t)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (s *Store) rekeyModel(ctx context.Context, c *FieldCipher, model any, batch int) (RekeyTable, error) {
	st := &gorm.Statement{DB: s.db}
	if err := st.Parse(model); err != nil {
		return RekeyTable{}, fmt.Errorf("rekey: %T: %w", model, err)
	}
	sch := st.Schema
	rep := RekeyTable{Table: sch.Table}
	pk := sch.PrioritizedPrimaryField
	if pk == nil {
		return rep, fmt.Errorf("rekey %s: %w", sch.Table, ErrNoRowKey)
	}
	fields := encryptedFields(sch)
	cols := []string{pk.DBName}
	for _, f := range fields {
		cols = append(cols, f.DBName)
	}
	// Pages by primary key, so rows rewritten meanwhile are not read twice.
	var after any
	for {
		var n int
		var rewritten int64
		err := s.InTx(ctx, func(tx *Store) error {
			rows := reflect.New(reflect.SliceOf(sch.ModelType))
			q := tx.db.Select(cols).Order(clause.OrderByColumn{Column: clause.Column{Name: pk.DBName}}).Limit(batch)
			if after != nil {
				q = q.Where(clause.Gt{Column: clause.Column{Name: pk.DBName}, Value: after})
			}
			// Find runs the open callback, which decrypts with the whole keyset.
			if err := q.Find(rows.Interface()).Error; err != nil {
				return fmt.Errorf("reading %s: %w", sch.Table, err)
			}
			list := rows.Elem()
			n = list.Len()
			for i := range n {
				row := list.Index(i)
				updates := map[string]any{}
				upd := tx.db.Model(row.Addr().Interface())
				for _, f := range fields {
					v := f.ReflectValueOf(ctx, row).Interface().(EncryptedString)
					if len(v.sealed) == 0 || c.SealedWithPrimary(v.sealed) {
						continue
					}
					updates[f.DBName] = v
					// Only if unchanged since read: a concurrent writer's value wins.
					upd = upd.Where(clause.Eq{Column: clause.Column{Name: f.DBName}, Value: v.sealed})
				}
				if len(updates) > 0 {
					// UpdateColumns: the seal callback re-seals under the
					// primary key, without touching updated_at.
					res := upd.UpdateColumns(updates)
					if res.Error != nil {
						return fmt.Errorf("rewriting %s: %w", sch.Table, res.Error)
					}
					rewritten += res.RowsAffected
				}
			}
			if n > 0 {
				after, _ = pk.ValueOf(ctx, list.Index(n-1))
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("rekey: %w", err)
		}
		rep.Examined += int64(n)
		rep.Rewritten += rewritten
		if n < batch {
			return rep, nil
		}
	}
}

// String renders the report for `herald rekey`.
func (r RekeyReport) String() string {
	parts := make([]string, 0, len(r.Tables))
	for _, t := range r.Tables {
		parts = append(parts, fmt.Sprintf("%s: %d examined, %d rewritten", t.Table, t.Examined, t.Rewritten))
	}
	return strings.Join(parts, "; ")
}
