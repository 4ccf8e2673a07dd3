package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// This file reads what `govulncheck -format json` writes: a stream of JSON
// objects, each with one of config, progress, SBOM, osv or finding
// (https://pkg.go.dev/golang.org/x/vuln/internal/govulncheck, protocol
// v1.0.0). Findings come at increasing precision: module (required),
// package (imported), then symbol (called), so one ID can appear many times.

// ErrStream is wrapped by every error about a malformed govulncheck stream.
var ErrStream = errors.New("govulncheck stream")

// Level is how close a finding comes to Herald's code.
type Level int

const (
	LevelModule  Level = iota + 1 // the module is required
	LevelPackage                  // a vulnerable package is imported
	LevelSymbol                   // a vulnerable symbol is reachable: "called"
)

func (l Level) String() string {
	switch l {
	case LevelModule:
		return "required"
	case LevelPackage:
		return "imported"
	case LevelSymbol:
		return "called"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// Frame is one step of a finding's trace; Trace[0] is the vulnerable
// symbol (or package, or module), the last frame Herald's entry point.
type Frame struct {
	Module   string `json:"module"`
	Version  string `json:"version,omitempty"`
	Package  string `json:"package,omitempty"`
	Function string `json:"function,omitempty"`
	Receiver string `json:"receiver,omitempty"`
	Position *struct {
		Filename string `json:"filename,omitempty"`
		Line     int    `json:"line"`
	} `json:"position,omitempty"`
}

// Name is pkg.Func or pkg.Recv.Func, or the package or module alone.
func (f Frame) Name() string {
	switch {
	case f.Function != "" && f.Receiver != "":
		return f.Package + "." + strings.TrimPrefix(f.Receiver, "*") + "." + f.Function
	case f.Function != "":
		return f.Package + "." + f.Function
	case f.Package != "":
		return f.Package
	}
	return f.Module
}

// Vuln is everything the stream says about one ID in one module.
type Vuln struct {
	ID           string
	Summary      string
	Module       string
	Version      string
	FixedVersion string // empty: no fixed version of this module
	Level        Level
	// Example is the shortest call trace (only for LevelSymbol).
	Example []Frame
}

// Report is a parsed stream.
type Report struct {
	Protocol       string
	ScannerVersion string
	GoVersion      string
	DB             string
	DBModified     time.Time
	ScanLevel      string
	Vulns          []Vuln // sorted by level (called first), then ID and module
}

type message struct {
	Config *struct {
		ProtocolVersion string     `json:"protocol_version"`
		ScannerVersion  string     `json:"scanner_version"`
		DB              string     `json:"db"`
		DBLastModified  *time.Time `json:"db_last_modified"`
		GoVersion       string     `json:"go_version"`
		ScanLevel       string     `json:"scan_level"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []Frame `json:"trace"`
	} `json:"finding"`
}

// ParseStream reads a whole govulncheck JSON stream. It needs the config
// message of protocol v1 (so that a change of format fails loudly rather
// than reading as "no findings").
func ParseStream(r io.Reader) (Report, error) {
	var rep Report
	dec := json.NewDecoder(r)
	type key struct{ id, module string }
	vulns := map[key]*Vuln{}
	summaries := map[string]string{}
	sawConfig := false
	for n := 1; ; n++ {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Report{}, fmt.Errorf("%w: message %d: %v", ErrStream, n, err)
		}
		switch {
		case m.Config != nil:
			if sawConfig {
				return Report{}, fmt.Errorf("%w: message %d: a second config", ErrStream, n)
			}
			sawConfig = true
			c := m.Config
			if !strings.HasPrefix(c.ProtocolVersion, "v1.") {
				return Report{}, fmt.Errorf("%w: protocol %q, want v1.x", ErrStream, c.ProtocolVersion)
			}
			rep.Protocol, rep.ScannerVersion, rep.GoVersion = c.ProtocolVersion, c.ScannerVersion, c.GoVersion
			rep.DB, rep.ScanLevel = c.DB, c.ScanLevel
			if c.DBLastModified != nil {
				rep.DBModified = c.DBLastModified.UTC()
			}
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil:
			f := m.Finding
			if !sawConfig {
				return Report{}, fmt.Errorf("%w: message %d: a finding before the config", ErrStream, n)
			}
			if !idPattern.MatchString(f.OSV) {
				return Report{}, fmt.Errorf("%w: message %d: finding id %q is not GO-YYYY-NNNN", ErrStream, n, f.OSV)
			}
			if len(f.Trace) == 0 || f.Trace[0].Module == "" {
				return Report{}, fmt.Errorf("%w: message %d: %s: finding without a module", ErrStream, n, f.OSV)
			}
			top := f.Trace[0]
			level := LevelModule
			switch {
			case top.Function != "":
				level = LevelSymbol
			case top.Package != "":
				level = LevelPackage
			}
			k := key{f.OSV, top.Module}
			v := vulns[k]
			if v == nil {
				v = &Vuln{ID: f.OSV, Module: top.Module}
				vulns[k] = v
			}
			v.Version = top.Version
			if f.FixedVersion != "" {
				v.FixedVersion = f.FixedVersion
			}
			v.Level = max(v.Level, level)
			if level == LevelSymbol && shorter(f.Trace, v.Example) {
				v.Example = f.Trace
			}
		}
	}
	if !sawConfig {
		return Report{}, fmt.Errorf("%w: no config message (did govulncheck run?)", ErrStream)
	}
	for _, v := range vulns {
		v.Summary = summaries[v.ID]
		rep.Vulns = append(rep.Vulns, *v)
	}
	sort.Slice(rep.Vulns, func(i, j int) bool {
		a, b := rep.Vulns[i], rep.Vulns[j]
		if a.Level != b.Level {
			return a.Level > b.Level
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Module < b.Module
	})
	return rep, nil
}

// shorter orders call traces by length, then by text, so that the example
// shown does not change from run to run.
func shorter(a, b []Frame) bool {
	if len(b) == 0 || len(a) != len(b) {
		return len(b) == 0 || len(a) < len(b)
	}
	return traceText(a) < traceText(b)
}
