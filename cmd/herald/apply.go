package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// applyCommand is `herald apply -f FILE [--prune] [--dry-run]`: make the
// paging configuration (catalogSections) what FILE says.
func applyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "YAML file of "+catalogSections+" (- reads standard input)")
	prune := fs.Bool("prune", false, "remove the "+catalogSections+" the file does not declare (maintenance windows made over the API stay)")
	dryRun := fs.Bool("dry-run", false, "report what would change, write nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: herald apply -f FILE [--prune] [--dry-run]\n\nMakes the paging configuration match FILE, in one transaction. See examples/demo.yaml.\n"+
			"A person entry without a contacts (priorities) key keeps the contact methods\n(priority preferences) the database has, such as a phone added on the web UI;\n"+
			"with the key, even empty (contacts: [], priorities: {}), the file's are all of them.\n"+
			"--prune deletes what the file does not declare, services and integrations\ncreated on the web UI included.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if *file == "" || fs.NArg() > 0 {
		return usageError{"usage: herald apply -f FILE [--prune] [--dry-run]"}
	}
	data, err := readConfigFile(*file)
	if err != nil {
		return err
	}
	catalog, err := parseConfigFile(*file, data)
	if err != nil {
		return err
	}
	cfg, log, err := loadConfig()
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	return applyCatalog(ctx, models.NewStore(db, nil), *file, catalog, notifications.ApplyOptions{Prune: *prune, DryRun: *dryRun}, stdout)
}

// catalogSections are what a configuration file declares: every section
// of notifications.Catalog.
const catalogSections = "people, teams, templates, plans, services, integrations, heartbeats, maintenance windows and schedules"

func readConfigFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, notifications.MaxCatalogBytes+1))
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return data, nil
}

// parseConfigFile parses a file, naming it in errors.
func parseConfigFile(name string, data []byte) (*notifications.Catalog, error) {
	c, err := notifications.ParseCatalog(data)
	if err != nil {
		return nil, configError(name, err)
	}
	return c, nil
}

// configError lists every problem of a file, one a line.
func configError(name string, err error) error {
	var errs notifications.Errors
	if errors.As(err, &errs) {
		lines := make([]string, len(errs))
		for i, e := range errs {
			lines[i] = "  " + e.Error()
		}
		return fmt.Errorf("%s: %d problem(s), nothing applied:\n%s", name, len(errs), strings.Join(lines, "\n"))
	}
	return fmt.Errorf("%s: %w", name, err)
}

// applyCatalog applies a parsed file and prints the report.
func applyCatalog(ctx context.Context, store *models.Store, name string, c *notifications.Catalog, o notifications.ApplyOptions, stdout io.Writer) error {
	report, err := notifications.Apply(ctx, store, c, o)
	if err != nil {
		return configError(name, err)
	}
	fmt.Fprint(stdout, report)
	return nil
}

// exportCommand is `herald export [--include-secrets] [-o FILE]`: write the
// paging configuration as a file `herald apply` takes.
func exportCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secrets := fs.Bool("include-secrets", false, "write contact destinations (phone numbers, addresses); without it they are "+notifications.Redacted)
	out := fs.String("o", "", "write to this file (mode 0600) instead of standard output")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"usage: herald export [--include-secrets] [-o FILE]"}
	}
	cfg, log, err := loadConfig()
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	if *out == "" {
		return exportCatalog(ctx, models.NewStore(db, nil), *secrets, stdout)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing configuration: %w", err)
	}
	if err := exportCatalog(ctx, models.NewStore(db, nil), *secrets, f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// exportCatalog writes the configuration as YAML.
func exportCatalog(ctx context.Context, store *models.Store, secrets bool, w io.Writer) error {
	c, err := notifications.Export(ctx, store, notifications.ExportOptions{IncludeSecrets: secrets})
	if err != nil {
		return err
	}
	data, err := notifications.MarshalCatalog(c)
	if err != nil {
		return err
	}
	header := "# Herald paging configuration, written by `herald export`; apply with `herald apply -f FILE`.\n"
	if !secrets {
		header += "# Contact destinations are " + notifications.Redacted + ": `herald apply` refuses them. Export with --include-secrets for a file it accepts.\n"
	}
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
