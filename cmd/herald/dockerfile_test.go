package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/heraldhq/herald/config"
)

// The image's final stage is distroless: no shell. A shell-form CMD,
// ENTRYPOINT or HEALTHCHECK would fail only when the container starts (or
// silently never turns healthy), so these tests read the Dockerfile and
// docker-compose.yml instead of waiting for that.

// dockerInstruction is one instruction, continuation lines joined.
type dockerInstruction struct {
	Op   string // upper case: FROM, USER, CMD...
	Args string
}

func readDockerfile(t *testing.T) []dockerInstruction {
	t.Helper()
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstruction
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if body, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		op, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{Op: strings.ToUpper(op), Args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// finalStage is the instructions after the last FROM.
func finalStage(t *testing.T, ins []dockerInstruction) []dockerInstruction {
	t.Helper()
	last := -1
	for i, in := range ins {
		if in.Op == "FROM" {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("the Dockerfile has no FROM")
	}
	return ins[last:]
}

// execForm parses an exec-form argument list (a JSON array of strings).
func execForm(t *testing.T, op, args string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil || len(argv) == 0 {
		t.Errorf("%s %s is in shell form: the final image has no shell, use a JSON array", op, args)
		return nil
	}
	return argv
}

// isCommand reports whether herald has the subcommand name (its usage
// lists every one).
func isCommand(name string) bool {
	return regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` `).MatchString(usage)
}

func TestDockerfileFinalStage(t *testing.T) {
	stage := finalStage(t, readDockerfile(t))
	var user, exposed string
	var entrypoint, cmd, health []string
	for _, in := range stage {
		switch in.Op {
		case "USER":
			user = in.Args
		case "EXPOSE":
			exposed = in.Args
		case "ENTRYPOINT":
			entrypoint = execForm(t, in.Op, in.Args)
		case "CMD":
			cmd = execForm(t, in.Op, in.Args)
		case "HEALTHCHECK":
			_, args, ok := strings.Cut(in.Args, "CMD ")
			if !ok {
				t.Errorf("HEALTHCHECK %s has no CMD", in.Args)
				continue
			}
			health = execForm(t, in.Op, args)
		}
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("the final stage runs as %q, want a non-root USER", user)
	}
	if want := strings.TrimPrefix(config.DefaultAddr, ":"); exposed != want {
		t.Errorf("EXPOSE %q, want HERALD_ADDR's default port %s", exposed, want)
	}
	if len(entrypoint) != 1 || entrypoint[0] != "/herald" || len(cmd) != 1 || !isCommand(cmd[0]) {
		t.Errorf("ENTRYPOINT %q CMD %q, want /herald and one of its commands", entrypoint, cmd)
	}
	if len(health) != 2 || health[0] != "/herald" || health[1] != "healthcheck" || !isCommand("healthcheck") {
		t.Errorf("HEALTHCHECK runs %q, want /herald healthcheck", health)
	}
}

// TestComposeGivesShutdownTime: docker compose stops a container with
// SIGTERM and kills it when stop_grace_period runs out; that must leave
// Herald its whole HERALD_SHUTDOWN_TIMEOUT to drain the pages in flight.
func TestComposeGivesShutdownTime(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build struct {
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
			Environment     map[string]string `yaml:"environment"`
			StopGracePeriod string            `yaml:"stop_grace_period"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	herald, ok := compose.Services["herald"]
	if !ok {
		t.Fatal("docker-compose.yml has no herald service")
	}
	if _, ok := compose.Services["postgres"]; !ok {
		t.Error("docker-compose.yml has no postgres service")
	}
	if herald.Build.Dockerfile != "Dockerfile" {
		t.Errorf("the herald service builds from %q, want the Dockerfile", herald.Build.Dockerfile)
	}
	shutdown := config.DefaultShutdown
	// ${HERALD_SHUTDOWN_TIMEOUT:-15s}: the default compose passes.
	if v := herald.Environment["HERALD_SHUTDOWN_TIMEOUT"]; v != "" {
		if _, def, ok := strings.Cut(strings.TrimSuffix(v, "}"), ":-"); ok {
			v = def
		}
		if shutdown, err = time.ParseDuration(v); err != nil {
			t.Fatalf("HERALD_SHUTDOWN_TIMEOUT %q: %v", v, err)
		}
	}
	grace, err := time.ParseDuration(herald.StopGracePeriod)
	if err != nil {
		t.Fatalf("stop_grace_period %q: %v", herald.StopGracePeriod, err)
	}
	if grace <= shutdown {
		t.Errorf("stop_grace_period %s is not longer than HERALD_SHUTDOWN_TIMEOUT %s: Docker would kill Herald mid-drain", grace, shutdown)
	}
}
