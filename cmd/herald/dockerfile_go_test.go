package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The image must be built by the Go that `make` builds and vulnchecks
// with (the Makefile's GOTOOLCHAIN), not an older one with known
// standard-library vulnerabilities.
func TestDockerfileBuildsWithMakefileGo(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^GOTOOLCHAIN \?= go([0-9]+\.[0-9]+\.[0-9]+)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("the Makefile sets no GOTOOLCHAIN ?= goX.Y.Z")
	}
	want := "golang:" + string(m[1])
	var builders []string
	for _, in := range readDockerfile(t) {
		if in.Op != "FROM" {
			continue
		}
		if image, _, _ := strings.Cut(in.Args, " "); strings.HasPrefix(image, "golang:") {
			builders = append(builders, image)
		}
	}
	if len(builders) == 0 {
		t.Fatal("the Dockerfile has no golang builder stage")
	}
	for _, image := range builders {
		if image != want {
			t.Errorf("builder image %s, want %s (the Makefile's GOTOOLCHAIN)", image, want)
		}
	}
}
