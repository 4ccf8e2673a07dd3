// Command gate reads `govulncheck -format json` on standard input, prints
// every finding, and exits 1 when a called vulnerability is not in the
// allow-list (or its entry expired), or when an allow-list entry is no
// longer needed; 2 when the stream or the allow-list cannot be read.
//
//	govulncheck -format json ./... | go run ./internal/vulndb/gate -allow .govulncheck-allow.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/heraldhq/herald/internal/vulndb"
)

func main() {
	allowPath := flag.String("allow", ".govulncheck-allow.yaml", "the reviewed allow-list")
	flag.Parse()
	os.Exit(run(*allowPath, time.Now()))
}

func run(allowPath string, now time.Time) int {
	data, err := os.ReadFile(allowPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		return 2
	}
	allow, err := vulndb.ParseAllowList(data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulncheck: %s: %v\n", allowPath, err)
		return 2
	}
	rep, err := vulndb.ParseStream(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		return 2
	}
	res := vulndb.Check(rep, allow, now)
	if err := vulndb.Print(os.Stdout, rep, res); err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		return 2
	}
	if !res.OK() {
		return 1
	}
	return 0
}
