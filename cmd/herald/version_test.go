package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2025-03-14T09:26:53Z"}, {Key: "vcs.modified", Value: "true"}}}
	cases := []struct {
		name, version, commit, date string
		info                        *debug.BuildInfo
		want                        string
	}{
		{"release build", "v1.4.0", "89abcdef0123", "2025-04-01T12:00:00Z", stamped,
			"herald v1.4.0 (commit 89abcdef0123, built 2025-04-01T12:00:00Z, go1.26.8)"},
		{"go build in a checkout", "dev", "", "", stamped,
			"herald dev (commit 0123456789ab-dirty, built 2025-03-14T09:26:53Z, go1.26.8)"},
		{"no stamp at all", "dev", "", "", &debug.BuildInfo{GoVersion: "go1.26.8"},
			"herald dev (commit unknown, built unknown, go1.26.8)"},
		{"no build info", "dev", "", "", nil, "herald dev (commit unknown, built unknown, unknown)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionLine(tc.version, tc.commit, tc.date, tc.info); got != tc.want {
				t.Errorf("versionLine = %q, want %q", got, tc.want)
			}
		})
	}
}
