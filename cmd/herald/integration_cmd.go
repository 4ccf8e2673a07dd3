package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/heraldhq/herald/models"
)

const integrationUsage = `usage: herald integration <action> [NAME] [flags]

actions:
  create NAME --service S [--service S2 ...] [--quota N]
                          create an integration scoped to the services, print its key (shown once)
  rotate NAME             print a new key; the old one keeps working until finish-rotation
  finish-rotation NAME    stop the old key after a rotation
  revoke NAME             stop every key of the integration at once
  list                    list integrations (never their keys)

The key goes to standard output alone, so it can be piped into a secret store.`

// stringsFlag collects a repeated flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// integrationArgs is a parsed `herald integration` command line.
type integrationArgs struct {
	action   string
	name     string
	services []string
	quota    int
}

// parseIntegrationArgs reads ACTION [NAME] with flags before or after NAME.
func parseIntegrationArgs(args []string, stderr io.Writer) (integrationArgs, error) {
	var a integrationArgs
	if len(args) == 0 {
		return a, usageError{integrationUsage}
	}
	a.action, args = args[0], args[1:]
	fs := flag.NewFlagSet("integration "+a.action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var services stringsFlag
	fs.Var(&services, "service", "a service the key may raise incidents for (repeat for more)")
	fs.IntVar(&a.quota, "quota", 0, "requests a minute (0: unlimited)")
	fs.Usage = func() { fmt.Fprintln(stderr, integrationUsage) }
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return a, flag.ErrHelp
			}
			return a, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	a.services = services
	switch a.action {
	case "list":
		if len(rest) != 0 {
			return a, usageError{"usage: herald integration list"}
		}
		return a, nil
	case "create", "rotate", "finish-rotation", "revoke":
	default:
		return a, usageError{fmt.Sprintf("unknown integration action %q\n\n%s", a.action, integrationUsage)}
	}
	if len(rest) != 1 {
		return a, usageError{fmt.Sprintf("herald integration %s needs exactly one NAME\n\n%s", a.action, integrationUsage)}
	}
	a.name = rest[0]
	if a.action == "create" && len(a.services) == 0 {
		return a, usageError{"herald integration create needs at least one --service"}
	}
	if a.action != "create" && (len(a.services) > 0 || a.quota != 0) {
		return a, usageError{"--service and --quota go with create only"}
	}
	return a, nil
}

// integrationCommand is `herald integration ...`.
func integrationCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a, err := parseIntegrationArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
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
	return runIntegration(ctx, integrations{models.NewStore(db, nil)}, a, stdout, stderr)
}

// runIntegration carries out a parsed command: a key goes alone to stdout,
// what it means to stderr.
func runIntegration(ctx context.Context, s integrations, a integrationArgs, stdout, stderr io.Writer) error {
	var key string
	var err error
	switch a.action {
	case "list":
		return listIntegrations(ctx, s, stdout)
	case "create":
		key, err = s.create(ctx, models.NewIntegration{Name: a.name, Services: a.services, QuotaPerMinute: a.quota})
		if errors.Is(err, models.ErrIntegrationExists) {
			return fmt.Errorf("integration %q exists: rotate its key with `herald integration rotate %s`", a.name, a.name)
		}
	case "rotate":
		var oldKept bool
		key, oldKept, err = s.rotate(ctx, a.name)
		if err == nil && oldKept {
			defer fmt.Fprintf(stderr, "The old key keeps working until `herald integration finish-rotation %s`.\n", a.name)
		}
	case "finish-rotation":
		var had bool
		if had, err = s.finishRotation(ctx, a.name); err == nil {
			if had {
				fmt.Fprintf(stderr, "The old key of %s no longer works.\n", a.name)
			} else {
				fmt.Fprintf(stderr, "%s had no old key to drop.\n", a.name)
			}
		}
	case "revoke":
		if err = s.revoke(ctx, a.name); err == nil {
			fmt.Fprintf(stderr, "Every key of %s is revoked; `herald integration rotate %s` issues a new one.\n", a.name, a.name)
		}
	}
	if models.IsNotFound(err) && a.action != "create" {
		return fmt.Errorf("no integration named %q", a.name)
	}
	if err != nil {
		return err
	}
	if key != "" {
		fmt.Fprintf(stderr, "The key of %s follows. It is shown only now: store it in your monitoring system's secrets.\n", a.name)
		fmt.Fprintln(stdout, key)
	}
	return nil
}

func listIntegrations(ctx context.Context, s integrations, stdout io.Writer) error {
	ins, err := s.store.IntegrationSummaries(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSERVICES\tQUOTA/MIN\tSTATE")
	for _, in := range ins {
		state := "active"
		switch {
		case in.Revoked:
			state = "revoked"
		case in.HasSecondary:
			state = "rotating"
		}
		quota := "unlimited"
		if in.QuotaPerMinute > 0 {
			quota = fmt.Sprint(in.QuotaPerMinute)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", in.Name, strings.Join(in.Services, ","), quota, state)
	}
	return w.Flush()
}
