package vulndb

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Print writes every finding of res: the called ones with their verdict
// and shortest trace, then those only required or imported, then stale
// allow-list entries and a one-line summary.
func Print(w io.Writer, rep Report, res Result) error {
	p := &printer{w: w}
	p.f("govulncheck %s, %s, scan level %s, database of %s (%s)\n", rep.ScannerVersion, rep.GoVersion,
		rep.ScanLevel, rep.DBModified.Format(time.DateOnly), rep.DB)
	for _, msg := range res.Problems {
		p.f("FAIL  %s\n", msg)
	}
	allowed, failing := 0, 0
	for _, v := range res.Called {
		tag := "FAIL"
		if v.Allowed != nil && !v.Expired {
			tag = "allow"
			allowed++
		} else {
			failing++
		}
		p.f("%-5s %s called in %s@%s, %s: %s\n", tag, v.ID, v.Module, v.Version, fixText(v.Vuln), v.Summary)
		if a := v.Allowed; a != nil {
			note := "allowed"
			if v.Expired {
				note = "allow-list entry EXPIRED, review it again"
			}
			p.f("      %s (reviewed %s, expires %s): %s\n", note, a.Reviewed.Format(time.DateOnly),
				a.Expires.Format(time.DateOnly), oneLine(a.Reason))
		}
		if len(v.Example) > 0 {
			p.f("      e.g. %s\n", traceText(v.Example))
		}
	}
	for _, v := range res.NotCalled {
		p.f("info  %s %s in %s@%s (not called), %s: %s\n", v.ID, v.Level, v.Module, v.Version, fixText(v), v.Summary)
	}
	for _, a := range res.Stale {
		p.f("FAIL  allow-list entry %s (%s) is stale: it is not called any more, remove it\n", a.ID, a.Module)
	}
	verdict := "ok"
	if !res.OK() {
		verdict = "FAILED"
	}
	p.f("vulncheck %s: %d called (%d allowed, %d not), %d not called, %d stale allow-list entries\n",
		verdict, len(res.Called), allowed, failing, len(res.NotCalled), len(res.Stale))
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

func fixText(v Vuln) string {
	if v.FixedVersion == "" {
		return "no fixed version"
	}
	return "fixed in " + v.FixedVersion
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// traceText reads the trace from Herald's entry point to the symbol.
func traceText(trace []Frame) string {
	names := make([]string, 0, len(trace))
	for i := len(trace) - 1; i >= 0; i-- {
		n := trace[i].Name()
		if pos := trace[i].Position; pos != nil && i == len(trace)-1 && pos.Filename != "" {
			n += " (" + shortPath(pos.Filename) + fmt.Sprintf(":%d)", pos.Line)
		}
		names = append(names, n)
	}
	return strings.Join(names, " -> ")
}

// shortPath keeps the last two elements of a file path: the full one
// names the checkout or the module cache.
func shortPath(p string) string {
	parts := strings.Split(p, "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}
