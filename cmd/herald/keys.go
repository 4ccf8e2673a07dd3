package main

import (
	"context"
	"fmt"
	"io"

	"github.com/heraldhq/herald/models"
)

func generateKeyset() (string, error)             { return models.GenerateKeyset() }
func rotateKeyset(current string) (string, error) { return models.RotateKeyset(current) }

// rekey re-seals every encrypted field under the keyset's primary key, so
// an old key can then be removed from ENCRYPTED_FIELD_KEY.
func rekey(ctx context.Context, stdout io.Writer) error {
	cfg, log, err := loadConfig()
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	report, err := models.NewStore(db, nil).Rekey(ctx, 500)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, report)
	return nil
}
