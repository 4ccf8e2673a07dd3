package notifications_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/notifications"
)

// go test ./notifications -run TestDMBlocksGolden -update rewrites
// testdata/dm_*.golden.json.
var update = flag.Bool("update", false, "rewrite golden files in testdata/ with the current output")

// TestDMBlocksGolden pins the Block Kit of a Slack DM page: an ordinary
// page (Claim and Resolve), a batched one (one "Claim all" button with the
// batch code) and an out-of-band note (no buttons), with Slack markup in
// user text escaped.
func TestDMBlocksGolden(t *testing.T) {
	tests := []struct {
		name string
		msg  notifications.Message
	}{
		{"dm_page", notifications.Message{IncidentID: 42, ClaimCode: "482913", Subject: "[Herald] #42", Body: "Incident #42 (SEV1): Checkout <!channel> is down & failing"}},
		{"dm_batch", notifications.Message{IncidentID: 57, ClaimCode: "615204", Batch: 12, Subject: "[Herald] 12 incidents need you",
			Body: "12 unclaimed incidents are paging you (high priority):\n#57 Disk full (SEV2)\n#56 Disk full (SEV2)\nClaim them all with code 615204."}},
		{"dm_note", notifications.Message{IncidentID: 42, OutOfBand: true, Body: "Incident #42 was claimed by alice. No action needed."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(notifications.DMBlocks(tt.msg)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./notifications -run TestDMBlocksGolden -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, buf.Bytes(), want)
			}
		})
	}
}
