// Command herald is Herald's one binary: the server and its tools.
//
//	herald serve       run the server (the default)
//	herald migrate     apply database migrations and exit
//	herald keygen      print a new ENCRYPTED_FIELD_KEY
//	herald rekey       re-encrypt stored fields under the keyset's primary key
//	herald slack-sim   send a signed Slack request to a running server
//	herald healthcheck exit 0 when the local server is ready
//	herald doctor      check the configuration, database, Slack, Twilio and public URL
//	herald apply       apply a YAML file of the paging configuration (people … schedules)
//	herald export      write that configuration as YAML
//	herald bench       benchmark harnesses (bench engine: the paging engine)
//	herald version     print the version, commit and build date
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/logctx"
	"github.com/heraldhq/herald/models"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "herald:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: herald <command> [flags]

commands:
  serve       run the server (default)
  migrate     apply database migrations and exit
  keygen      print a new ENCRYPTED_FIELD_KEY (add --rotate to add a key to the current one)
  rekey       re-encrypt stored fields under the primary key of ENCRYPTED_FIELD_KEY
  slack-sim   send a signed Slack request to a running Herald (try: herald slack-sim -h)
  healthcheck exit 0 when the local server answers /readyz (for container health checks)
  doctor      check the configuration, database, Slack, Twilio and the public URL; exit 1 if any check fails
  apply       apply a YAML file of the paging configuration (people, teams, plans, services, schedules…): apply -f FILE [--prune] [--dry-run]
  export      write the paging configuration as YAML (add --include-secrets for contact destinations)
  integration manage integration keys: integration create|rotate|finish-rotation|revoke NAME [--service S ...] [--quota N], integration list
  login-link  print a one-time web UI sign-in link: login-link --as NAME [--role admin] or --slack USER_ID
  bench       benchmark harnesses: bench engine [--scenario burst|steady|claim|replicas|all] (see bench engine -h)
  version     print the version, commit and build date

Configuration comes from the environment and ./.env; see .env.example.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx)
	case "migrate":
		return migrate(ctx)
	case "keygen":
		return keygen(args, stdout)
	case "rekey":
		return rekey(ctx, stdout)
	case "slack-sim":
		return slackSim(ctx, args, stdout, stderr)
	case "apply":
		return applyCommand(ctx, args, stdout, stderr)
	case "export":
		return exportCommand(ctx, args, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, stdout)
	case "doctor":
		return doctorCommand(ctx, args, stdout)
	case "bench":
		return benchCommand(ctx, args, stdout, stderr)
	case "integration":
		return integrationCommand(ctx, args, stdout, stderr)
	case "login-link":
		return loginLinkCommand(ctx, args, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionLine(version, commit, buildDate, buildInfo()))
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q\n\n%s", cmd, usage)}
	}
}

// loadConfig reads .env and the environment, and sets up logging.
func loadConfig() (config.Config, *slog.Logger, error) {
	if err := config.LoadDotEnv(); err != nil {
		return config.Config{}, nil, err
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return config.Config{}, nil, err
	}
	return cfg, newLogger(cfg, os.Stderr), nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	// logctx adds what the context knows (the request id, the job) to
	// every line.
	if cfg.LogFormat == "json" {
		return slog.New(logctx.NewHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(logctx.NewHandler(slog.NewTextHandler(w, opts)))
}

func serve(ctx context.Context) error {
	cfg, log, err := loadConfig()
	if err != nil {
		return err
	}
	app, err := Build(ctx, cfg, log, BuildOptions{})
	if err != nil {
		return err
	}
	defer app.Close()
	if cfg.Demo {
		logDemoHelp(log, cfg)
	}
	return app.Serve(ctx)
}

func logDemoHelp(log *slog.Logger, cfg config.Config) {
	if cfg.SlackSigningSecret == config.DemoSigningSecret {
		log.Warn("DEMO MODE: using the public demo signing secret; never expose this server")
	}
	log.Info("try it: in another terminal run  go run ./cmd/herald slack-sim /incident Database is on fire",
		"or", "herald slack-sim mention help")
}

func migrate(ctx context.Context) error {
	cfg, log, err := loadConfig()
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	log.Info("database schema is current")
	return nil
}

func keygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	rotate := fs.Bool("rotate", false, "add a new primary key to the keyset in ENCRYPTED_FIELD_KEY instead of making a new keyset")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *rotate {
		if err := config.LoadDotEnv(); err != nil {
			return err
		}
		current := os.Getenv("ENCRYPTED_FIELD_KEY")
		if current == "" {
			return usageError{"keygen --rotate needs the current keyset in ENCRYPTED_FIELD_KEY"}
		}
		next, err := rotateKeyset(current)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, next)
		return nil
	}
	keys, err := generateKeyset()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, keys)
	return nil
}
