package vulndb

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// The allow-list (.govulncheck-allow.yaml) names the called
// vulnerabilities that `make vulncheck` lets through after a review, each
// for one module, with why, when it was reviewed and when that review
// lapses. Check fails on anything else called, on an entry past its
// expiry, and on an entry no longer needed, so the list cannot rot.

// ErrAllowList is wrapped by every error about a malformed allow-list.
var ErrAllowList = errors.New("vulncheck allow-list")

// maxAllowLifetime bounds expires - reviewed: an exception is looked at
// again at least twice a year.
const maxAllowLifetime = 184 * 24 * time.Hour

// Allowance is one reviewed exception.
type Allowance struct {
	ID       string
	Module   string
	Reason   string
	Reviewed time.Time
	Expires  time.Time
}

type allowFile struct {
	Allow []struct {
		ID       string `yaml:"id"`
		Module   string `yaml:"module"`
		Reason   string `yaml:"reason"`
		Reviewed string `yaml:"reviewed"`
		Expires  string `yaml:"expires"`
	} `yaml:"allow"`
}

// ParseAllowList reads and checks the allow-list; unknown keys are errors.
func ParseAllowList(data []byte) ([]Allowance, error) {
	var f allowFile
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAllowList, err)
	}
	out := make([]Allowance, 0, len(f.Allow))
	seen := map[string]bool{}
	for i, e := range f.Allow {
		bad := func(why string) error { return fmt.Errorf("%w: entry %d (%q): %s", ErrAllowList, i+1, e.ID, why) }
		if !idPattern.MatchString(e.ID) {
			return nil, bad("id is not GO-YYYY-NNNN")
		}
		if strings.TrimSpace(e.Module) == "" {
			return nil, bad("module is required (stdlib for the standard library)")
		}
		if len(strings.Fields(e.Reason)) < 5 {
			return nil, bad("reason must say why (five words at least)")
		}
		k := e.ID + " " + e.Module
		if seen[k] {
			return nil, bad("listed twice for " + e.Module)
		}
		seen[k] = true
		reviewed, err := time.Parse(time.DateOnly, e.Reviewed)
		if err != nil {
			return nil, bad(fmt.Sprintf("reviewed %q is not YYYY-MM-DD", e.Reviewed))
		}
		expires, err := time.Parse(time.DateOnly, e.Expires)
		if err != nil {
			return nil, bad(fmt.Sprintf("expires %q is not YYYY-MM-DD", e.Expires))
		}
		if !expires.After(reviewed) || expires.Sub(reviewed) > maxAllowLifetime {
			return nil, bad("expires must fall within 184 days after reviewed")
		}
		out = append(out, Allowance{ID: e.ID, Module: e.Module, Reason: strings.TrimSpace(e.Reason),
			Reviewed: reviewed, Expires: expires})
	}
	return out, nil
}

// Verdict is one called vulnerability and the allow-list entry that
// covers it, if any.
type Verdict struct {
	Vuln
	Allowed *Allowance
	Expired bool // Allowed is set but lapsed
}

// Result is the outcome of Check.
type Result struct {
	Called    []Verdict
	NotCalled []Vuln      // required or imported only: reported, never failing
	Stale     []Allowance // entries whose ID is not called (any more)
	Problems  []string    // about the scan itself
}

// OK reports whether vulncheck passes.
func (r Result) OK() bool {
	if len(r.Stale) > 0 || len(r.Problems) > 0 {
		return false
	}
	for _, v := range r.Called {
		if v.Allowed == nil || v.Expired {
			return false
		}
	}
	return true
}

// Check applies the allow-list to a report; now decides expiry (an entry
// holds through its expires day, UTC).
func Check(rep Report, allow []Allowance, now time.Time) Result {
	var res Result
	if rep.ScanLevel != "symbol" {
		res.Problems = append(res.Problems, fmt.Sprintf("scan level %q: only a symbol scan tells what is called", rep.ScanLevel))
	}
	used := make([]bool, len(allow))
	for _, v := range rep.Vulns {
		if v.Level != LevelSymbol {
			res.NotCalled = append(res.NotCalled, v)
			continue
		}
		verdict := Verdict{Vuln: v}
		for i := range allow {
			if allow[i].ID == v.ID && allow[i].Module == v.Module {
				used[i] = true
				verdict.Allowed = &allow[i]
				verdict.Expired = !now.Before(allow[i].Expires.AddDate(0, 0, 1))
			}
		}
		res.Called = append(res.Called, verdict)
	}
	for i, a := range allow {
		if !used[i] {
			res.Stale = append(res.Stale, a)
		}
	}
	return res
}
