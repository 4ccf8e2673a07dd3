package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestParseIntegrationArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want integrationArgs
		err  string // "" for none
	}{
		{[]string{"create", "nagios", "--service", "a", "--service", "b", "--quota", "60"}, integrationArgs{action: "create", name: "nagios", services: []string{"a", "b"}, quota: 60}, ""},
		{[]string{"create", "--service", "a", "nagios"}, integrationArgs{action: "create", name: "nagios", services: []string{"a"}}, ""},
		{[]string{"rotate", "nagios"}, integrationArgs{action: "rotate", name: "nagios"}, ""},
		{[]string{"finish-rotation", "nagios"}, integrationArgs{action: "finish-rotation", name: "nagios"}, ""},
		{[]string{"revoke", "nagios"}, integrationArgs{action: "revoke", name: "nagios"}, ""},
		{[]string{"list"}, integrationArgs{action: "list"}, ""},
		{nil, integrationArgs{}, "usage"},
		{[]string{"create", "nagios"}, integrationArgs{}, "at least one --service"},
		{[]string{"create", "--service", "a"}, integrationArgs{}, "exactly one NAME"},
		{[]string{"rotate", "a", "b"}, integrationArgs{}, "exactly one NAME"},
		{[]string{"rotate", "a", "--quota", "5"}, integrationArgs{}, "create only"},
		{[]string{"create", "a", "--service", "s", "--quota", "many"}, integrationArgs{}, "invalid value"},
		{[]string{"delete", "a"}, integrationArgs{}, "unknown integration action"},
		{[]string{"list", "a"}, integrationArgs{}, "usage"},
	}
	for _, tt := range tests {
		got, err := parseIntegrationArgs(tt.args, io.Discard)
		if tt.err != "" {
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: error %v, want a usage error with %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || got.action != tt.want.action || got.name != tt.want.name || strings.Join(got.services, ",") != strings.Join(tt.want.services, ",") || got.quota != tt.want.quota {
			t.Errorf("%v: %+v %v, want %+v", tt.args, got, err, tt.want)
		}
	}
	if _, err := parseIntegrationArgs([]string{"create", "-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// TestIntegrationCommand: create prints the key alone on stdout (and it
// works), rotate prints a new one, finish-rotation and revoke say what they
// did, list never shows a key, and an unknown name is an error naming it.
func TestIntegrationCommand(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.New(t, d, nil)
			now := time.Now()
			checkNoErr(t, db.Gorm.Create(&models.Service{ID: uuid.NewString(), Name: "payments", DefaultSeverity: models.SEV3, CreatedAt: now, UpdatedAt: now}).Error)
			s := integrations{db.Store}
			run := func(args ...string) (string, string, error) {
				a, err := parseIntegrationArgs(args, io.Discard)
				checkNoErr(t, err)
				var out, errOut bytes.Buffer
				err = runIntegration(ctx, s, a, &out, &errOut)
				return out.String(), errOut.String(), err
			}
			out, msg, err := run("create", "nagios", "--service", "payments", "--quota", "30")
			checkNoErr(t, err)
			key := strings.TrimSpace(out)
			if strings.Count(out, "\n") != 1 || !strings.Contains(msg, "shown only now") {
				t.Fatalf("create printed %q / %q", out, msg)
			}
			if in, err := db.Store.AuthenticateKey(ctx, key); err != nil || in.QuotaPerMinute != 30 {
				t.Fatalf("the printed key: %v", err)
			}
			if _, _, err := run("create", "nagios", "--service", "payments"); err == nil || !strings.Contains(err.Error(), "exists") {
				t.Errorf("create twice: %v", err)
			}
			out, msg, err = run("rotate", "nagios")
			checkNoErr(t, err)
			second := strings.TrimSpace(out)
			if second == key || !strings.Contains(msg, "finish-rotation") {
				t.Fatalf("rotate printed %q / %q", out, msg)
			}
			out, _, err = run("list")
			checkNoErr(t, err)
			if !strings.Contains(out, "nagios") || !strings.Contains(out, "rotating") || strings.Contains(out, "hrld_") {
				t.Errorf("list: %q", out)
			}
			_, msg, err = run("finish-rotation", "nagios")
			checkNoErr(t, err)
			if _, aerr := db.Store.AuthenticateKey(ctx, key); !strings.Contains(msg, "no longer works") || !errors.Is(aerr, models.ErrBadKey) {
				t.Errorf("finish-rotation: %q, old key %v", msg, aerr)
			}
			_, _, err = run("revoke", "nagios")
			checkNoErr(t, err)
			if _, aerr := db.Store.AuthenticateKey(ctx, second); !errors.Is(aerr, models.ErrRevoked) {
				t.Errorf("after revoke: %v", aerr)
			}
			for _, action := range []string{"rotate", "finish-rotation", "revoke"} {
				if _, _, err := run(action, "nope"); err == nil || !strings.Contains(err.Error(), `no integration named "nope"`) {
					t.Errorf("%s nope: %v", action, err)
				}
			}
		})
	}
}

func checkNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
