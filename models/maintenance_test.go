package models_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func mustParseWindow(t *testing.T, in models.MaintenanceInput) *models.MaintenanceWindow {
	t.Helper()
	w, err := models.ParseMaintenance(in)
	if err != nil {
		t.Fatalf("ParseMaintenance(%+v): %v", in, err)
	}
	return w
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestOccurrenceAt: one-off windows hold [starts_at, ends_at); weekly ones
// hold their days' occurrences in their zone (DST included), clipped to
// starts_at and ends_at, overnight ones across midnight.
func TestOccurrenceAt(t *testing.T) {
	oneOff := mustParseWindow(t, models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T02:00:00Z", EndsAt: "2026-03-01T04:00:00Z"})
	// Tuesdays and Thursdays 23:00-01:00 London time, from 2026-03-01
	// until 2026-04-30; the clocks go forward on 2026-03-29.
	weekly := mustParseWindow(t, models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T00:00:00Z", EndsAt: "2026-04-30T00:00:00Z",
		Weekly: &models.WeeklyInput{Weekdays: []string{"Thursday", "tue"}, Start: "23:00", Duration: "2h", TimeZone: "Europe/London"}})
	// Open-ended, starting mid-occurrence: clipped to starts_at.
	clipped := mustParseWindow(t, models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-03T23:30:00Z",
		Weekly: &models.WeeklyInput{Weekdays: []string{"tue"}, Start: "23:00", Duration: "2h", TimeZone: "UTC"}})
	tests := []struct {
		name       string
		w          *models.MaintenanceWindow
		t          string
		ok         bool
		start, end string
	}{
		{"before a one-off", oneOff, "2026-03-01T01:59:59Z", false, "", ""},
		{"a one-off's first second", oneOff, "2026-03-01T02:00:00Z", true, "2026-03-01T02:00:00Z", "2026-03-01T04:00:00Z"},
		{"a one-off's last second", oneOff, "2026-03-01T03:59:59Z", true, "2026-03-01T02:00:00Z", "2026-03-01T04:00:00Z"},
		{"a one-off's end", oneOff, "2026-03-01T04:00:00Z", false, "", ""},
		{"Tuesday 23:00 GMT", weekly, "2026-03-03T23:00:00Z", true, "2026-03-03T23:00:00Z", "2026-03-04T01:00:00Z"},
		{"past midnight", weekly, "2026-03-04T00:59:59Z", true, "2026-03-03T23:00:00Z", "2026-03-04T01:00:00Z"},
		{"after the occurrence", weekly, "2026-03-04T01:00:00Z", false, "", ""},
		{"Wednesday evening", weekly, "2026-03-04T23:30:00Z", false, "", ""},
		{"Thursday", weekly, "2026-03-05T23:30:00Z", true, "2026-03-05T23:00:00Z", "2026-03-06T01:00:00Z"},
		{"Tuesday before the start", weekly, "2026-03-03T22:59:59Z", false, "", ""},
		{"Tuesday 23:00 BST is 22:00 UTC", weekly, "2026-03-31T22:00:00Z", true, "2026-03-31T22:00:00Z", "2026-04-01T00:00:00Z"},
		{"BST: 23:00 UTC is after midnight", weekly, "2026-03-31T23:59:59Z", true, "2026-03-31T22:00:00Z", "2026-04-01T00:00:00Z"},
		{"after ends_at", weekly, "2026-05-05T22:30:00Z", false, "", ""},
		{"clipped to starts_at", clipped, "2026-03-03T23:45:00Z", true, "2026-03-03T23:30:00Z", "2026-03-04T01:00:00Z"},
		{"before starts_at", clipped, "2026-03-03T23:15:00Z", false, "", ""},
		{"a year on", clipped, "2027-03-02T23:15:00Z", true, "2027-03-02T23:00:00Z", "2027-03-03T01:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, ok := tt.w.OccurrenceAt(at(tt.t))
			if ok != tt.ok {
				t.Fatalf("OccurrenceAt(%s) ok = %v, want %v", tt.t, ok, tt.ok)
			}
			if ok && (!start.Equal(at(tt.start)) || !end.Equal(at(tt.end))) {
				t.Errorf("OccurrenceAt(%s) = %s – %s, want %s – %s", tt.t, start, end, tt.start, tt.end)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	w := mustParseWindow(t, models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T02:00:00Z", EndsAt: "2026-03-01T04:00:00Z",
		Match: map[string]string{"env": "staging", "team": "db"}})
	all := mustParseWindow(t, models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T02:00:00Z", EndsAt: "2026-03-01T04:00:00Z"})
	for _, tt := range []struct {
		labels map[string]string
		w      *models.MaintenanceWindow
		want   bool
	}{
		{map[string]string{"env": "staging", "team": "db", "extra": "x"}, w, true},
		{map[string]string{"env": "staging"}, w, false},
		{map[string]string{"env": "production", "team": "db"}, w, false},
		{nil, w, false},
		{nil, all, true},
		{map[string]string{"env": "x"}, all, true},
	} {
		if got := tt.w.Matches(tt.labels); got != tt.want {
			t.Errorf("%s matches %v = %v, want %v", tt.w.Matchers, tt.labels, got, tt.want)
		}
	}
	if got := models.IncidentLabels(`{"labels":{"env":"staging","team":"db"},"env":"prod","n":1}`); !reflect.DeepEqual(got, map[string]string{"env": "staging", "team": "db"}) {
		t.Errorf("IncidentLabels = %v", got)
	}
	if got := models.IncidentLabels(`not json`); got != nil {
		t.Errorf("IncidentLabels(not json) = %v", got)
	}
}

// TestParseMaintenance: every problem is reported at its field.
func TestParseMaintenance(t *testing.T) {
	ok := models.MaintenanceInput{Name: "db-upgrade", Reason: "Postgres 17", StartsAt: "2026-03-01T02:00:00+01:00", EndsAt: "2026-03-01T04:00:00Z"}
	w := mustParseWindow(t, ok)
	if !w.StartsAt.Equal(at("2026-03-01T01:00:00Z")) || w.StartsAt.Location() != time.UTC || w.EndsAt == nil || w.Recurring() {
		t.Errorf("window = %+v", w)
	}
	weekly := mustParseWindow(t, models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T00:00:00Z",
		Weekly: &models.WeeklyInput{Weekdays: []string{"SUN", "monday", "Wed"}, Start: "02:30", Duration: "90m", TimeZone: "UTC"}})
	if weekly.Weekdays != "mon,wed,sun" || weekly.DurationSeconds != 5400 || weekly.EndsAt != nil {
		t.Errorf("weekly = %+v", weekly)
	}
	if in := weekly.Input(); in.Weekly.Duration != "1h30m" || !reflect.DeepEqual(in.Weekly.Weekdays, []string{"mon", "wed", "sun"}) {
		t.Errorf("Input() = %+v", in.Weekly)
	}
	tests := []struct {
		name string
		in   models.MaintenanceInput
		want []string // field: message fragment
	}{
		{"empty", models.MaintenanceInput{}, []string{"name: required", "reason: required", "starts_at: required", "ends_at: required"}},
		{"bad name and times", models.MaintenanceInput{Name: "a b", Reason: "r", StartsAt: "yesterday", EndsAt: "2026-03-01"},
			[]string{`name: "a b" is not a valid name`, `starts_at: "yesterday" is not an RFC 3339 time`, `ends_at: "2026-03-01" is not an RFC 3339 time`}},
		{"ends before it starts", models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T02:00:00Z", EndsAt: "2026-03-01T02:00:00Z"},
			[]string{"ends_at: must be after starts_at"}},
		{"bad matcher", models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T02:00:00Z", EndsAt: "2026-03-01T03:00:00Z", Match: map[string]string{"": "x"}},
			[]string{"match: label names"}},
		{"bad weekly", models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T02:00:00Z",
			Weekly: &models.WeeklyInput{Weekdays: []string{"mon", "funday", "Monday"}, Start: "25:00", Duration: "8d", TimeZone: "Mars/Olympus"}},
			[]string{`weekly.weekdays[1]: "funday" is not a day`, "weekly.weekdays[2]: mon is listed twice", "weekly.start:", `weekly.duration: "8d" is not a duration`, `weekly.time_zone: unknown time zone "Mars/Olympus"`}},
		{"weekly too long", models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T02:00:00Z",
			Weekly: &models.WeeklyInput{Weekdays: []string{"mon"}, Start: "01:00", Duration: "169h", TimeZone: "Local"}},
			[]string{"weekly.duration: must be whole seconds between", `weekly.time_zone: "Local" depends on the machine`}},
		{"weekly empty", models.MaintenanceInput{Name: "w", Reason: "r", StartsAt: "2026-03-01T02:00:00Z", Weekly: &models.WeeklyInput{}},
			[]string{"weekly.weekdays: required", "weekly.start: required", "weekly.duration: required", "weekly.time_zone: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := models.ParseMaintenance(tt.in)
			var problems models.InputErrors
			if !errors.As(err, &problems) {
				t.Fatalf("err = %v, want InputErrors", err)
			}
			if len(problems) != len(tt.want) {
				t.Errorf("%d problems, want %d: %v", len(problems), len(tt.want), problems)
			}
			text := problems.Error()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("problems lack %q: %s", w, text)
				}
			}
		})
	}
}

func FuzzParseMaintenance(f *testing.F) {
	f.Add("w", "2026-03-01T02:00:00Z", "2026-03-01T04:00:00Z", "", "", "", "", "env", "staging")
	f.Add("w", "2026-03-01T02:00:00Z", "", "mon", "23:00", "2h", "Europe/London", "", "")
	f.Add("", "x", "y", "funday", "99:99", "-1h", "Local", "\xff", "")
	f.Fuzz(func(t *testing.T, name, start, end, day, clock, dur, zone, label, value string) {
		in := models.MaintenanceInput{Name: name, Reason: "fuzz", StartsAt: start, EndsAt: end}
		if label != "" {
			in.Match = map[string]string{label: value}
		}
		if day != "" {
			in.Weekly = &models.WeeklyInput{Weekdays: []string{day}, Start: clock, Duration: dur, TimeZone: zone}
		}
		w, err := models.ParseMaintenance(in)
		if err != nil {
			var problems models.InputErrors
			if w != nil || !errors.As(err, &problems) || len(problems) == 0 {
				t.Fatalf("ParseMaintenance = %v, %v", w, err)
			}
			return
		}
		// A valid window round-trips, and its occurrences hold what they
		// claim to.
		back, err := models.ParseMaintenance(w.Input())
		if err != nil {
			t.Fatalf("Input() %+v does not parse back: %v", w.Input(), err)
		}
		if back.Matchers != w.Matchers || !back.StartsAt.Equal(w.StartsAt) || back.Weekdays != w.Weekdays || back.DurationSeconds != w.DurationSeconds {
			t.Fatalf("round trip changed %+v into %+v", w, back)
		}
		for _, probe := range []time.Time{w.StartsAt, w.StartsAt.Add(36 * time.Hour), w.StartsAt.Add(-time.Second)} {
			if s, e, ok := w.OccurrenceAt(probe); ok && (probe.Before(s) || !probe.Before(e)) {
				t.Fatalf("OccurrenceAt(%s) = %s – %s does not hold it", probe, s, e)
			}
		}
	})
}

func noiseService(t *testing.T, db *testdb.DB, name string) *models.Service {
	t.Helper()
	s := &models.Service{ID: uuid.NewString(), Name: name, DefaultSeverity: models.SEV3, CreatedAt: t0, UpdatedAt: t0}
	if err := db.Gorm.Create(s).Error; err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMaintenanceStore: windows of the service and of every service hold
// its alerts while in an occurrence; a cancel_pending window is swept once
// per occurrence; the admin API cannot delete the file's windows.
func TestMaintenanceStore(t *testing.T) {
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		checkout, other := noiseService(t, db, "checkout"), noiseService(t, db, "other")
		add := func(in models.MaintenanceInput, svc *models.Service, managed string) *models.MaintenanceWindow {
			w := mustParseWindow(t, in)
			if svc != nil {
				w.ServiceID = &svc.ID
			}
			w.CreatedBy, w.ManagedBy = "test", managed
			if err := db.Store.CreateMaintenanceWindow(ctx, w); err != nil {
				t.Fatal(err)
			}
			return w
		}
		add(models.MaintenanceInput{Name: "everything", Reason: "r", StartsAt: "2026-03-01T13:00:00Z", EndsAt: "2026-03-01T14:00:00Z", CancelPending: true}, nil, models.ManagedByConfig)
		add(models.MaintenanceInput{Name: "checkout-weekly", Reason: "r", StartsAt: "2026-03-01T00:00:00Z", CancelPending: true,
			Weekly: &models.WeeklyInput{Weekdays: []string{"sun"}, Start: "12:30", Duration: "1h", TimeZone: "UTC"}}, checkout, models.ManagedByAPI)
		add(models.MaintenanceInput{Name: "other", Reason: "r", StartsAt: "2026-03-01T00:00:00Z", EndsAt: "2026-03-02T00:00:00Z"}, other, models.ManagedByAPI)
		dup := mustParseWindow(t, models.MaintenanceInput{Name: "other", Reason: "r", StartsAt: "2026-03-01T00:00:00Z", EndsAt: "2026-03-02T00:00:00Z"})
		dup.CreatedBy = "test"
		if err := db.Store.CreateMaintenanceWindow(ctx, dup); !errors.Is(err, models.ErrDuplicate) {
			t.Errorf("a second window named other: %v", err)
		}

		names := func(ws []models.MaintenanceWindow, err error) []string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, w := range ws {
				out = append(out, w.Name)
			}
			return out
		}
		// 2026-03-01 is a Sunday.
		for _, tt := range []struct {
			t    string
			want []string
		}{
			{"2026-03-01T12:00:00Z", nil},
			{"2026-03-01T12:30:00Z", []string{"checkout-weekly"}},
			{"2026-03-01T13:15:00Z", []string{"checkout-weekly", "everything"}},
			{"2026-03-01T13:30:00Z", []string{"everything"}},
			{"2026-03-08T12:45:00Z", []string{"checkout-weekly"}},
		} {
			if got := names(db.Store.ActiveMaintenance(ctx, checkout.ID, at(tt.t))); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ActiveMaintenance(checkout, %s) = %v, want %v", tt.t, got, tt.want)
			}
		}
		if got := names(db.Store.ActiveMaintenance(ctx, other.ID, at("2026-03-01T12:45:00Z"))); !reflect.DeepEqual(got, []string{"other"}) {
			t.Errorf("ActiveMaintenance(other) = %v", got)
		}

		sweep := func(ts string) []string {
			ws, err := db.Store.WindowsToSweep(ctx, at(ts))
			got := names(ws, err)
			for _, w := range ws {
				start, _, _ := w.OccurrenceAt(at(ts))
				if err := db.Store.MarkWindowSwept(ctx, w.ID, start); err != nil {
					t.Fatal(err)
				}
			}
			return got
		}
		for _, tt := range []struct {
			t    string
			want []string
		}{
			{"2026-03-01T12:31:00Z", []string{"checkout-weekly"}},
			{"2026-03-01T12:59:00Z", nil},
			{"2026-03-01T13:00:00Z", []string{"everything"}},
			{"2026-03-01T13:20:00Z", nil},
			{"2026-03-08T12:30:00Z", []string{"checkout-weekly"}}, // the next occurrence
		} {
			if got := sweep(tt.t); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("WindowsToSweep(%s) = %v, want %v", tt.t, got, tt.want)
			}
		}

		all, err := db.Store.MaintenanceWindows(ctx)
		if err != nil || len(all) != 3 || all[0].Name != "checkout-weekly" || all[0].ServiceName != "checkout" || all[1].ServiceName != "" {
			t.Fatalf("MaintenanceWindows = %+v, %v", all, err)
		}
		if err := db.Store.DeleteMaintenanceWindow(ctx, "everything"); !errors.Is(err, models.ErrManagedByConfig) {
			t.Errorf("deleting the file's window: %v", err)
		}
		if err := db.Store.DeleteMaintenanceWindow(ctx, "nope"); !models.IsNotFound(err) {
			t.Errorf("deleting an unknown window: %v", err)
		}
		if err := db.Store.DeleteMaintenanceWindow(ctx, "other"); err != nil {
			t.Errorf("deleting other: %v", err)
		}
	})
}
