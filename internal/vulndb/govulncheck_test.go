package vulndb

import (
	"errors"
	"strings"
	"testing"
)

// The shape govulncheck v1.9.0 writes with -format json (pretty-printed,
// one object after another), trimmed.
const streamConfig = `{
  "config": {
    "protocol_version": "v1.0.0",
    "scanner_name": "govulncheck",
    "scanner_version": "v1.9.0",
    "db": "file:///cache/vulndb/v0.0.0-20261105234957-e22db6528018",
    "db_last_modified": "2026-11-05T23:49:57Z",
    "go_version": "go1.27.3",
    "scan_level": "symbol",
    "scan_mode": "source"
  }
}
{"progress": {"message": "Scanning your code and 412 packages across 63 dependent modules for known vulnerabilities..."}}
{"SBOM": {"go_version": "go1.27.3", "modules": [{"path": "stdlib", "version": "v1.27.3"}], "roots": ["example.com/app"]}}
`

const streamEcho = streamConfig + `{"osv": {"id": "GO-2026-6872", "summary": "Rate Limiter Bypass", "affected": []}}
{"osv": {"id": "GO-2026-6840", "summary": "BodyDump without size limits"}}
{"finding": {"osv": "GO-2026-6872", "trace": [{"module": "github.com/labstack/echo/v4", "version": "v4.16.0"}]}}
{"finding": {"osv": "GO-2026-6840", "fixed_version": "v4.16.1", "trace": [{"module": "github.com/labstack/echo/v4", "version": "v4.16.0"}]}}
{"finding": {"osv": "GO-2026-6840", "fixed_version": "v4.16.1", "trace": [{"module": "github.com/labstack/echo/v4", "version": "v4.16.0", "package": "github.com/labstack/echo/v4/middleware"}]}}
{"finding": {"osv": "GO-2026-6872", "trace": [{"module": "github.com/labstack/echo/v4", "version": "v4.16.0", "package": "github.com/labstack/echo/v4"}]}}
{"finding": {"osv": "GO-2026-6872", "trace": [
  {"module": "github.com/labstack/echo/v4", "version": "v4.16.0", "package": "github.com/labstack/echo/v4", "function": "Header", "receiver": "*Response"},
  {"module": "example.com/app", "package": "example.com/app/web", "function": "serve", "position": {"filename": "/src/app/web/server.go", "line": 42, "column": 3, "offset": 900}},
  {"module": "example.com/app", "package": "example.com/app", "function": "main"}
]}}
{"finding": {"osv": "GO-2026-6872", "trace": [
  {"module": "github.com/labstack/echo/v4", "version": "v4.16.0", "package": "github.com/labstack/echo/v4/middleware", "function": "init"},
  {"module": "example.com/app", "package": "example.com/app/web", "function": "init"}
]}}
`

func TestParseStream(t *testing.T) {
	rep, err := ParseStream(strings.NewReader(streamEcho))
	if err != nil {
		t.Fatal(err)
	}
	if rep.GoVersion != "go1.27.3" || rep.ScanLevel != "symbol" || rep.ScannerVersion != "v1.9.0" ||
		rep.DBModified.Format("2006-01-02") != "2026-11-05" {
		t.Errorf("config = %+v", rep)
	}
	if len(rep.Vulns) != 2 {
		t.Fatalf("vulns = %+v, want 2", rep.Vulns)
	}
	called, imported := rep.Vulns[0], rep.Vulns[1]
	if called.ID != "GO-2026-6872" || called.Level != LevelSymbol || called.Summary != "Rate Limiter Bypass" ||
		called.FixedVersion != "" || called.Version != "v4.16.0" {
		t.Errorf("called = %+v", called)
	}
	// The shortest of the call traces is kept.
	if len(called.Example) != 2 || called.Example[0].Name() != "github.com/labstack/echo/v4/middleware.init" {
		t.Errorf("example = %+v", called.Example)
	}
	if imported.ID != "GO-2026-6840" || imported.Level != LevelPackage || imported.FixedVersion != "v4.16.1" {
		t.Errorf("imported = %+v", imported)
	}
}

func TestParseStreamRejects(t *testing.T) {
	finding := `{"finding": {"osv": "GO-2026-0001", "trace": [{"module": "m"}]}}`
	cases := []struct {
		name, stream string
	}{
		{"empty", ""},
		{"no config", `{"progress": {"message": "x"}}`},
		{"finding before config", finding + streamConfig},
		{"protocol v2", strings.Replace(streamConfig, `"v1.0.0"`, `"v2.0.0"`, 1)},
		{"two configs", streamConfig + streamConfig},
		{"not json", streamConfig + "Scanning your code..."},
		{"truncated", streamConfig + `{"finding": {"osv": "GO-2026-0001", "trace": [`},
		{"bad id", streamConfig + `{"finding": {"osv": "../../etc", "trace": [{"module": "m"}]}}`},
		{"no trace", streamConfig + `{"finding": {"osv": "GO-2026-0001"}}`},
		{"no module", streamConfig + `{"finding": {"osv": "GO-2026-0001", "trace": [{"package": "p"}]}}`},
		{"array", `[1, 2]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseStream(strings.NewReader(tc.stream)); !errors.Is(err, ErrStream) {
				t.Errorf("err = %v, want ErrStream", err)
			}
		})
	}
}

func TestFrameName(t *testing.T) {
	cases := []struct {
		f    Frame
		want string
	}{
		{Frame{Module: "m", Package: "m/p", Function: "F"}, "m/p.F"},
		{Frame{Module: "m", Package: "m/p", Function: "F", Receiver: "*T"}, "m/p.T.F"},
		{Frame{Module: "m", Package: "m/p"}, "m/p"},
		{Frame{Module: "m"}, "m"},
	}
	for _, tc := range cases {
		if got := tc.f.Name(); got != tc.want {
			t.Errorf("%+v: Name() = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func FuzzParseStream(f *testing.F) {
	f.Add([]byte(streamEcho))
	f.Add([]byte(streamConfig))
	f.Add([]byte(`{"finding": {"osv": "GO-2026-0001", "trace": [{"module": "m", "function": "F"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ParseStream(strings.NewReader(string(data)))
		if err != nil {
			if !errors.Is(err, ErrStream) {
				t.Fatalf("error %v does not wrap ErrStream", err)
			}
			return
		}
		for _, v := range rep.Vulns {
			if !idPattern.MatchString(v.ID) || v.Module == "" || v.Level < LevelModule || v.Level > LevelSymbol {
				t.Fatalf("accepted %+v", v)
			}
			if (v.Level == LevelSymbol) != (len(v.Example) > 0) {
				t.Fatalf("%s: level %s with %d example frames", v.ID, v.Level, len(v.Example))
			}
		}
		// Whatever parses can be checked and printed.
		var b strings.Builder
		if err := Print(&b, rep, Check(rep, nil, rep.DBModified)); err != nil {
			t.Fatal(err)
		}
	})
}
