package models_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
)

func TestParseSeverity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    models.Severity
		wantErr bool
	}{
		{"1", models.SEV1, false},
		{"4", models.SEV4, false},
		{"sev2", models.SEV2, false},
		{"SEV3", models.SEV3, false},
		{"  Sev1 ", models.SEV1, false},
		{"critical", models.SEV1, false},
		{"Major", models.SEV2, false},
		{"minor", models.SEV3, false},
		{"TRIVIAL", models.SEV4, false},
		{"0", models.SeverityUnset, true},
		{"5", models.SeverityUnset, true},
		{"-1", models.SeverityUnset, true},
		{"sev", models.SeverityUnset, true},
		{"sev0", models.SeverityUnset, true},
		{"sevcritical", models.SEV1, false}, // the prefix is optional, also before names
		{"+1", models.SEV1, false},          // strconv accepts a sign
		{"", models.SeverityUnset, true},
		{"high", models.SeverityUnset, true},
		{"1.0", models.SeverityUnset, true},
	}
	for _, tt := range tests {
		got, err := models.ParseSeverity(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && !got.Valid() {
			t.Errorf("ParseSeverity(%q) = %v: not valid", tt.in, got)
		}
	}
}

func TestSeverityString(t *testing.T) {
	t.Parallel()
	tests := map[models.Severity]string{
		models.SEV1:          "SEV1 (critical)",
		models.SEV4:          "SEV4 (trivial)",
		models.SeverityUnset: "unset",
		9:                    "unset",
	}
	for s, want := range tests {
		if got := s.String(); got != want {
			t.Errorf("Severity(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    models.Status
		wantErr bool
	}{
		{"investigating", models.StatusInvestigating, false},
		{"Identified", models.StatusIdentified, false},
		{" MONITORING\n", models.StatusMonitoring, false},
		{"resolved", models.StatusResolved, false},
		{"", "", true},
		{"closed", "", true},
		{"resolve", "", true},
	}
	for _, tt := range tests {
		got, err := models.ParseStatus(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for _, s := range models.Statuses {
		if got, err := models.ParseStatus(strings.ToUpper(string(s))); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v", strings.ToUpper(string(s)), got, err)
		}
	}
}

func TestIncidentDuration(t *testing.T) {
	t.Parallel()
	inc := models.Incident{ReportedAt: t0, Status: models.StatusInvestigating}
	if got := inc.Duration(t0.Add(time.Hour)); got != time.Hour || !inc.IsOpen() {
		t.Errorf("open incident: duration %v, open %v", got, inc.IsOpen())
	}
	inc.Status, inc.ResolvedAt = models.StatusResolved, ptr(t0.Add(10*time.Minute))
	if got := inc.Duration(t0.Add(time.Hour)); got != 10*time.Minute || inc.IsOpen() {
		t.Errorf("resolved incident: duration %v, open %v", got, inc.IsOpen())
	}
}

// FuzzParseSeverity: go test -fuzz FuzzParseSeverity ./models
func FuzzParseSeverity(f *testing.F) {
	for _, s := range []string{"1", "sev4", "SEV2", "critical", " minor ", "0", "-1", "9999999999999999999999", "sev", "\x00", "ｓｅｖ１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := models.ParseSeverity(in)
		if err != nil {
			if s != models.SeverityUnset {
				t.Errorf("ParseSeverity(%q) failed but returned %v", in, s)
			}
			return
		}
		if !s.Valid() {
			t.Errorf("ParseSeverity(%q) = %d, not a valid severity", in, int(s))
		}
		// A parsed severity's number parses back to itself.
		if again, err := models.ParseSeverity(strings.TrimPrefix(strings.Fields(s.String())[0], "SEV")); err != nil || again != s {
			t.Errorf("round trip of %v: %v, %v", s, again, err)
		}
	})
}
