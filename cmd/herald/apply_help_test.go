package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestApplyHelpSaysWhatItKeepsAndPrunes: `herald apply -h` states the
// rule for a person's left-out contacts and priorities keys, and that
// --prune deletes what was created on the web UI too.
func TestApplyHelpSaysWhatItKeepsAndPrunes(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"apply", "-h"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	help := strings.Join(strings.Fields(errOut.String()), " ")
	for _, want := range []string{
		"A person entry without a contacts (priorities) key keeps the contact methods (priority preferences) the database has",
		"even empty (contacts: [], priorities: {})",
		"--prune deletes what the file does not declare, services and integrations created on the web UI included.",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("apply -h lacks %q:\n%s", want, errOut.String())
		}
	}
}
