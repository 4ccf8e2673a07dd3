package main

import (
	"fmt"
	"runtime/debug"
)

// commit and buildDate are set at build time, like version (see `make
// release`): -ldflags "-X main.commit=... -X main.buildDate=...".
var (
	commit    = ""
	buildDate = ""
)

// versionLine is what `herald version` prints. Without ldflags (go run,
// go build in a checkout) the commit and its time come from the VCS stamp
// Go embeds in the binary.
func versionLine(version, commit, date string, info *debug.BuildInfo) string {
	goVersion := "unknown"
	if info != nil {
		goVersion = info.GoVersion
		vcs := map[string]string{}
		for _, s := range info.Settings {
			vcs[s.Key] = s.Value
		}
		if commit == "" && vcs["vcs.revision"] != "" {
			commit = shortCommit(vcs["vcs.revision"])
			if vcs["vcs.modified"] == "true" {
				commit += "-dirty"
			}
		}
		if date == "" {
			date = vcs["vcs.time"]
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	return fmt.Sprintf("herald %s (commit %s, built %s, %s)", version, commit, date, goVersion)
}

func shortCommit(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func buildInfo() *debug.BuildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return info
}
