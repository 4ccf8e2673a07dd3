package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/notifications"
)

func TestApplyExportUsage(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{"apply"}, {"apply", "-f"}, {"apply", "-f", "a.yaml", "b.yaml"}, {"apply", "--bogus"}, {"export", "extra"},
	} {
		var out, errOut bytes.Buffer
		err := run(ctx, args, &out, &errOut)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("herald %v = %v, want a usage error", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"help"}, &out, &out); err != nil || !strings.Contains(out.String(), "apply       apply a YAML file") || !strings.Contains(out.String(), "export      write") {
		t.Errorf("usage = %q, %v", out.String(), err)
	}
}

// A bad file is refused before the database is opened, every problem named.
func TestApplyRejectsBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := "people:\n  - {name: a, time_zone: Nowhere/Land}\nplans:\n  - name: p\n    steps: [{notifications: [{role: oncal-primary, target: t, priority: low}]}]\n"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parseConfigFile(path, []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	store := testdb.New(t, "sqlite", fakeclock.New(testStart)).Store
	var out bytes.Buffer
	err = applyCatalog(context.Background(), store, path, c, notifications.ApplyOptions{}, &out)
	want := path + `: 2 problem(s), nothing applied:
  people[0].time_zone: unknown time zone "Nowhere/Land" (an IANA name, like Europe/London)
  plans[0].steps[0].notifications[0].role: unknown role "oncal-primary" (roles: user, team, oncall-primary, oncall-secondary, manager, slack-channel)`
	if err == nil || err.Error() != want {
		t.Errorf("apply = %v\nwant %s", err, want)
	}
	if err := run(context.Background(), []string{"apply", "-f", filepath.Join(t.TempDir(), "missing.yaml")}, &out, &out); err == nil || !strings.Contains(err.Error(), "reading configuration") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := parseConfigFile("x.yaml", []byte("people: [\n")); err == nil || !strings.HasPrefix(err.Error(), "x.yaml: invalid YAML") {
		t.Errorf("invalid YAML: %v", err)
	}
}

// The demo file applies on both dialects, once; its export applies to a
// fresh database and exports the same again.
func TestApplyDemoFile(t *testing.T) {
	demo, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			store := testdb.New(t, d, fakeclock.New(testStart)).Store
			c, err := parseConfigFile("examples/demo.yaml", demo)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := applyCatalog(ctx, store, "examples/demo.yaml", c, notifications.ApplyOptions{}, &out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "people:    3 created, 0 updated, 0 unchanged, 0 deleted\n") || strings.Contains(out.String(), "warning") {
				t.Errorf("first apply:\n%s", out.String())
			}
			out.Reset()
			if err := applyCatalog(ctx, store, "examples/demo.yaml", c, notifications.ApplyOptions{}, &out); err != nil {
				t.Fatal(err)
			}
			want := "people:    0 created, 0 updated, 3 unchanged, 0 deleted\nteams:     0 created, 0 updated, 1 unchanged, 0 deleted\n" +
				"templates: 0 created, 0 updated, 1 unchanged, 0 deleted\nplans:     0 created, 0 updated, 1 unchanged, 0 deleted\n" + demoServicesUnchanged
			if out.String() != want {
				t.Errorf("second apply:\n%s\nwant\n%s", out.String(), want)
			}
			if pv, err := store.ActivePlanVersion(ctx, "demo"); err != nil || pv.Version != 1 {
				t.Errorf("demo plan: %+v, %v", pv, err)
			}
			if p, err := store.PersonBySlackID(ctx, "U0DEMOUSER"); err != nil || p.Name != "demo" {
				t.Errorf("demo user: %+v, %v", p, err)
			}

			var redacted bytes.Buffer
			if err := exportCatalog(ctx, store, false, &redacted); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(redacted.String(), "example.com") || strings.Contains(redacted.String(), "+4477") || !strings.Contains(redacted.String(), "destination: <redacted>") {
				t.Errorf("redacted export:\n%s", redacted.String())
			}
			var full bytes.Buffer
			if err := exportCatalog(ctx, store, true, &full); err != nil {
				t.Fatal(err)
			}
			fresh := testdb.New(t, d, fakeclock.New(testStart.Add(time.Hour))).Store
			c, err = parseConfigFile("export.yaml", full.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if err := applyCatalog(ctx, fresh, "export.yaml", c, notifications.ApplyOptions{}, &out); err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := exportCatalog(ctx, fresh, true, &again); err != nil {
				t.Fatal(err)
			}
			if again.String() != full.String() {
				t.Errorf("export → apply → export differs:\n%s\n---- then ----\n%s", full.String(), again.String())
			}
		})
	}
}

// The subcommands end to end, on the embedded store as `make run` uses it.
func TestApplyExportCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ENCRYPTED_FIELD_KEY", "")
	t.Setenv("HERALD_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("HERALD_DEMO", "true")
	t.Setenv("HERALD_LOG_LEVEL", "error")
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"apply", "-f", "../../examples/demo.yaml", "--dry-run"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "dry run: nothing was written\npeople:    3 created") {
		t.Errorf("dry run:\n%s", out.String())
	}
	for i, want := range []string{"people:    3 created", "people:    0 created, 0 updated, 3 unchanged"} {
		out.Reset()
		if err := run(ctx, []string{"apply", "-f", "../../examples/demo.yaml"}, &out, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), want) {
			t.Errorf("apply %d:\n%s", i+1, out.String())
		}
	}
	exported := filepath.Join(dir, "export.yaml")
	if err := run(ctx, []string{"export", "--include-secrets", "-o", exported}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(exported); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file: %v, %v", fi, err)
	}
	out.Reset()
	if err := run(ctx, []string{"apply", "--prune", "-f", exported}, &out, &out); err != nil {
		t.Fatal(err)
	}
	unchanged := "people:    0 created, 0 updated, 3 unchanged, 0 deleted\nteams:     0 created, 0 updated, 1 unchanged, 0 deleted\n" +
		"templates: 0 created, 0 updated, 1 unchanged, 0 deleted\nplans:     0 created, 0 updated, 1 unchanged, 0 deleted\n" + demoServicesUnchanged
	if out.String() != unchanged {
		t.Errorf("applying the export changed something:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"export"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "destination: <redacted>") || !strings.HasPrefix(out.String(), "# Herald paging configuration") {
		t.Errorf("export:\n%s", out.String())
	}
}

// demoServicesUnchanged ends the report of applying the demo file again:
// its service, integration (still without a key) and maintenance window.
const demoServicesUnchanged = "services:  0 created, 0 updated, 1 unchanged, 0 deleted\n" +
	"integrations: 0 created, 0 updated, 1 unchanged, 0 deleted\nmaintenance: 0 created, 0 updated, 1 unchanged, 0 deleted\n" +
	"schedules: 0 created, 0 updated, 1 unchanged, 0 deleted\n" +
	"note: integration grafana has no key: mint one with `herald integration rotate grafana` (or POST /api/v1/integrations/grafana/rotate); it is shown once\n"
