// Command scan fails when a log file written through internal/testlog
// (HERALD_TEST_LOG_DIR) holds one of the test suite's fake secrets, a
// phone number in a common format, an e-mail address of the test domains,
// a Slack token or an integration key; it lists file:line for each.
//
//	go run ./internal/testlog/scan -dir "$HERALD_TEST_LOG_DIR"
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// suiteSecrets are the fixed fake secrets the tests configure (signing
// secrets, Twilio token, admin and webhook keys, claim-link secrets).
var suiteSecrets = []string{
	"e2e-signing-secret", "test-signing-secret", "8f742231b10e8888abcd99yyyzzz85a5",
	"e2etwilioauthtoken0123456789", "0123456789abcdef0123456789abcdef-admin",
	"whsec-test-secret", "e2e-claim-link-secret-0123456789abcdef",
	"from-the-environment-0123456789abcdef", "fedcba9876543210fedcba9876543210",
	"scan-secret-", // every secret of cmd/herald's secrets scan test
}

// patterns are shapes no log line may have, whatever test wrote it.
var patterns = []struct {
	name string
	re   *regexp.Regexp
}{
	{"Slack token", regexp.MustCompile(`xox[abpr]-[A-Za-z0-9][A-Za-z0-9-]*|xapp-[0-9][A-Za-z0-9-]*`)},
	{"integration key", regexp.MustCompile(`hrld_[A-Za-z0-9_-]{8,}`)},
	{"phone number", regexp.MustCompile(`\+1 ?555[0-9]{7}|(^|[^0-9])555[0-9]{7}([^0-9]|$)|\(555\) ?[0-9]{3}-[0-9]{4}`)},
	{"e-mail address", regexp.MustCompile(`[A-Za-z0-9._%+-]+@(example\.(com|org|net)|secrets\.test)`)},
}

func main() {
	dir := flag.String("dir", os.Getenv("HERALD_TEST_LOG_DIR"), "directory of the test log files")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "scan: -dir (or HERALD_TEST_LOG_DIR) is required")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(os.Stderr, "scan: no *.jsonl log files in %s (%v): did the tests run with HERALD_TEST_LOG_DIR set?\n", *dir, err)
		os.Exit(2)
	}
	sort.Strings(files)
	lines, findings := 0, 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scan:", err)
			os.Exit(2)
		}
		n, found := scan(f, filepath.Base(name), os.Stdout)
		f.Close()
		lines += n
		findings += found
	}
	fmt.Printf("scan: %d log lines in %d files, %d findings\n", lines, len(files), findings)
	if findings > 0 {
		os.Exit(1)
	}
}

// scan reports each line of r holding a secret; it returns the lines read
// and the findings.
func scan(r io.Reader, name string, out io.Writer) (lines, findings int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		lines++
		if what := finding(sc.Text()); what != "" {
			findings++
			line := sc.Text()
			if len(line) > 400 {
				line = line[:400] + "…"
			}
			fmt.Fprintf(out, "%s:%d: %s: %s\n", name, lines, what, line)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "%s:%d: unreadable: %v\n", name, lines, err)
		findings++
	}
	return lines, findings
}

// finding names what a line leaks, or is "".
func finding(line string) string {
	for _, s := range suiteSecrets {
		if strings.Contains(line, s) {
			return "test secret " + s
		}
	}
	for _, p := range patterns {
		if m := p.re.FindString(line); m != "" {
			return p.name + " " + strings.TrimSpace(m)
		}
	}
	return ""
}
