package vulndb

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const allowEcho = `allow:
  - id: GO-2026-6872
    module: github.com/labstack/echo/v4
    reason: Herald uses neither RateLimiter nor RealIP.
    reviewed: 2026-12-06
    expires: 2027-03-06
`

func TestParseAllowList(t *testing.T) {
	got, err := ParseAllowList([]byte(allowEcho))
	if err != nil {
		t.Fatal(err)
	}
	want := Allowance{ID: "GO-2026-6872", Module: "github.com/labstack/echo/v4",
		Reason:   "Herald uses neither RateLimiter nor RealIP.",
		Reviewed: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Expires: time.Date(2027, 3, 6, 0, 0, 0, 0, time.UTC)}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if empty, err := ParseAllowList([]byte("allow: []\n")); err != nil || len(empty) != 0 {
		t.Errorf("empty list: %v, %v", empty, err)
	}
}

// The project's own list must stay valid.
func TestProjectAllowList(t *testing.T) {
	data, err := os.ReadFile("../../.govulncheck-allow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseAllowList(data); err != nil {
		t.Fatal(err)
	}
}

func TestParseAllowListRejects(t *testing.T) {
	cases := []struct{ name, old, new string }{
		{"unknown key", "    expires:", "    owner: me\n    expires:"},
		{"bad id", "GO-2026-6872", "CVE-2026-1"},
		{"no module", "module: github.com/labstack/echo/v4", "module: ' '"},
		{"short reason", "Herald uses neither RateLimiter nor RealIP.", "fine"},
		{"bad reviewed", "reviewed: 2026-12-06", "reviewed: 6/12/2026"},
		{"bad expires", "expires: 2027-03-06", "expires: soon"},
		{"expires before reviewed", "expires: 2027-03-06", "expires: 2026-12-01"},
		{"expires too late", "expires: 2027-03-06", "expires: 2027-12-06"},
		{"not a list", allowEcho, "allow: GO-2026-6872\n"},
		{"twice", allowEcho, allowEcho + strings.TrimPrefix(allowEcho, "allow:\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(allowEcho, tc.old, tc.new, 1)
			if in == allowEcho {
				t.Fatal("the case changes nothing")
			}
			if _, err := ParseAllowList([]byte(in)); !errors.Is(err, ErrAllowList) {
				t.Errorf("err = %v, want ErrAllowList", err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	echoAllow := Allowance{ID: "GO-2026-6872", Module: "github.com/labstack/echo/v4", Reason: "not used",
		Reviewed: day("2026-12-06"), Expires: day("2027-03-06")}
	called := Vuln{ID: "GO-2026-6872", Module: "github.com/labstack/echo/v4", Level: LevelSymbol}
	stdlib := Vuln{ID: "GO-2026-6599", Module: "stdlib", Level: LevelSymbol, FixedVersion: "v1.27.3"}
	imported := Vuln{ID: "GO-2026-6840", Module: "github.com/labstack/echo/v4", Level: LevelPackage}
	otherModule := called
	otherModule.Module = "github.com/labstack/echo/v5"
	notCalledAny := called
	notCalledAny.Level = LevelPackage
	cases := []struct {
		name      string
		vulns     []Vuln
		scanLevel string
		now       string
		ok        bool
		stale     int
	}{
		{"allowed", []Vuln{called, imported}, "symbol", "2026-12-06", true, 0},
		{"allowed on its expiry day", []Vuln{called}, "symbol", "2027-03-06", true, 0},
		{"expired", []Vuln{called}, "symbol", "2027-03-07", false, 0},
		{"not allowed", []Vuln{called, stdlib}, "symbol", "2026-12-06", false, 0},
		{"imported only is no failure", []Vuln{imported, called}, "symbol", "2026-12-06", true, 0},
		{"stale: gone", nil, "symbol", "2026-12-06", false, 1},
		{"stale: only imported now", []Vuln{notCalledAny}, "symbol", "2026-12-06", false, 1},
		{"another module is not covered", []Vuln{otherModule}, "symbol", "2026-12-06", false, 1},
		{"package scan cannot pass", []Vuln{called}, "package", "2026-12-06", false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := Report{ScanLevel: tc.scanLevel, Vulns: tc.vulns}
			res := Check(rep, []Allowance{echoAllow}, day(tc.now).Add(23*time.Hour))
			if res.OK() != tc.ok || len(res.Stale) != tc.stale {
				t.Errorf("OK = %v, stale = %d; want %v, %d (%+v)", res.OK(), len(res.Stale), tc.ok, tc.stale, res)
			}
			var out strings.Builder
			if err := Print(&out, rep, res); err != nil {
				t.Fatal(err)
			}
			last := out.String()[strings.LastIndex(strings.TrimSuffix(out.String(), "\n"), "\n")+1:]
			if wantWord := map[bool]string{true: "vulncheck ok", false: "vulncheck FAILED"}[tc.ok]; !strings.HasPrefix(last, wantWord) {
				t.Errorf("last line %q, want %q", last, wantWord)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	rep, err := ParseStream(strings.NewReader(streamEcho))
	if err != nil {
		t.Fatal(err)
	}
	allow, err := ParseAllowList([]byte(allowEcho))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Print(&out, rep, Check(rep, allow, time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"govulncheck v1.9.0, go1.27.3, scan level symbol, database of 2026-11-05",
		"allow GO-2026-6872 called in github.com/labstack/echo/v4@v4.16.0, no fixed version: Rate Limiter Bypass",
		"allowed (reviewed 2026-12-06, expires 2027-03-06): Herald uses neither RateLimiter nor RealIP.",
		"e.g. example.com/app/web.init -> github.com/labstack/echo/v4/middleware.init",
		"info  GO-2026-6840 imported in github.com/labstack/echo/v4@v4.16.0 (not called), fixed in v4.16.1",
		"vulncheck ok: 1 called (1 allowed, 0 not), 1 not called, 0 stale allow-list entries",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestTraceText(t *testing.T) {
	trace := []Frame{
		{Module: "e", Package: "e/echo", Function: "Header", Receiver: "*Response"},
		{Module: "a", Package: "a/web", Function: "serve", Position: &struct {
			Filename string `json:"filename,omitempty"`
			Line     int    `json:"line"`
		}{Filename: "/home/ci/src/a/web/server.go", Line: 42}},
	}
	if got, want := traceText(trace), "a/web.serve (web/server.go:42) -> e/echo.Response.Header"; got != want {
		t.Errorf("traceText = %q, want %q", got, want)
	}
}

func FuzzParseAllowList(f *testing.F) {
	f.Add([]byte(allowEcho))
	f.Add([]byte("allow: []\n"))
	f.Add([]byte("allow:\n  - id: GO-2026-0001\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := ParseAllowList(data)
		if err != nil {
			if !errors.Is(err, ErrAllowList) {
				t.Fatalf("error %v does not wrap ErrAllowList", err)
			}
			return
		}
		for _, a := range list {
			if !idPattern.MatchString(a.ID) || a.Module == "" || a.Reason == "" || !a.Expires.After(a.Reviewed) {
				t.Fatalf("accepted %+v", a)
			}
		}
	})
}
