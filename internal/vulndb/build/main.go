// Command build makes the Go vulnerability database for `make vulncheck`
// without vuln.go.dev: it downloads the golang.org/x/vulndb module through
// the Go module proxy (go mod download), indexes its data/osv entries into
// CACHE/VERSION, and prints that folder for govulncheck -db file://.
// A version already built is reused.
//
//	go run ./internal/vulndb/build -module golang.org/x/vulndb@latest -cache ~/.cache/herald/vulndb
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald/internal/vulndb"
)

func main() {
	module := flag.String("module", "golang.org/x/vulndb@latest", "module@version that holds data/osv")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "herald-vulndb"), "folder for the built databases, one per module version")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := run(ctx, *module, *cache)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulndb build:", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}

// download is what `go mod download -json` says of a module.
type download struct {
	Version string
	Dir     string
	Info    string
	Error   string
}

func run(ctx context.Context, module, cache string) (string, error) {
	mod, err := goModDownload(ctx, module)
	if err != nil {
		return "", err
	}
	out := filepath.Join(cache, mod.Version)
	if _, err := os.Stat(filepath.Join(out, "index", "db.json")); err == nil {
		fmt.Fprintf(os.Stderr, "vulndb: reusing %s\n", out)
		return out, nil
	}
	snapshot, err := commitTime(mod.Info)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	// Built aside and renamed, so an interrupted run never leaves a
	// half-written database that a later run would reuse.
	tmp, err := os.MkdirTemp(cache, ".build-")
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	sum, err := vulndb.Build(filepath.Join(mod.Dir, "data", "osv"), tmp, snapshot)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	fmt.Fprintf(os.Stderr, "vulndb: %s: %d entries, %d modules, newest %s, snapshot %s\n",
		mod.Version, sum.Entries, sum.Modules, sum.NewestID, sum.Modified.Format(time.DateOnly))
	return out, nil
}

// goModDownload runs outside any module (an empty temporary folder), so
// the project's go.mod and go.sum are never touched.
func goModDownload(ctx context.Context, module string) (download, error) {
	empty, err := os.MkdirTemp("", "vulndb-dl-")
	if err != nil {
		return download{}, err
	}
	defer os.RemoveAll(empty)
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module)
	cmd.Dir = empty
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var d download
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		return download{}, fmt.Errorf("go mod download %s: %v: %s", module, runErr, stderr.Bytes())
	}
	if d.Error != "" || runErr != nil {
		return download{}, fmt.Errorf("go mod download %s: %s %v", module, d.Error, runErr)
	}
	return d, nil
}

// commitTime reads the commit time of the module version from its .info.
func commitTime(infoFile string) (time.Time, error) {
	data, err := os.ReadFile(infoFile)
	if err != nil {
		return time.Time{}, fmt.Errorf("module info: %w", err)
	}
	var info struct{ Time time.Time }
	if err := json.Unmarshal(data, &info); err != nil {
		return time.Time{}, fmt.Errorf("module info: %w", err)
	}
	return info.Time, nil
}
