package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestCreateIncidentSequentialNumbers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		for want := int64(1); want <= 3; want++ {
			inc, created, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: fmt.Sprintf("incident %d", want), Severity: models.SEV2, Source: "slack"})
			if err != nil {
				t.Fatal(err)
			}
			if !created || inc.Number != want {
				t.Errorf("incident %d: number %d, created %v", want, inc.Number, created)
			}
			got, err := db.Store.IncidentByNumber(ctx, want)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != inc.ID || got.Title != inc.Title || got.Severity != models.SEV2 || got.Status != models.StatusInvestigating || !got.IsOpen() {
				t.Errorf("IncidentByNumber(%d) = %+v", want, got)
			}
			if !got.ReportedAt.Equal(t0) {
				t.Errorf("reported_at = %v, want the clock's %v", got.ReportedAt, t0)
			}
		}
		if _, err := db.Store.IncidentByNumber(ctx, 4); !models.IsNotFound(err) {
			t.Errorf("IncidentByNumber(4): err = %v, want not found", err)
		}
	})
}

func TestCreateIncidentConcurrentNumbersAreGapless(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		const n = 20
		numbers := make([]int64, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: fmt.Sprintf("concurrent %d", i)})
				if err != nil {
					t.Error(err)
					return
				}
				numbers[i] = inc.Number
			})
		}
		wg.Wait()
		slices.Sort(numbers)
		for i, got := range numbers {
			if got != int64(i+1) {
				t.Fatalf("numbers = %v, want 1..%d each once", numbers, n)
			}
		}
	})
}

func TestCreateIncidentIdempotencyKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		first, created, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "first", IdempotencyKey: "alert-1"})
		if err != nil || !created {
			t.Fatalf("first declaration: created %v, err %v", created, err)
		}
		again, created, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "retried", IdempotencyKey: "alert-1"})
		if err != nil {
			t.Fatal(err)
		}
		if created || again.ID != first.ID || again.Title != "first" {
			t.Errorf("retry: created %v, incident %d %q; want the first, not created", created, again.ID, again.Title)
		}

		// Ten replicas declaring the same alert at once.
		const n = 10
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			ids   = map[int64]bool{}
			fresh int
		)
		for range n {
			wg.Go(func() {
				inc, c, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "race", IdempotencyKey: "alert-2"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[inc.ID] = true
				if c {
					fresh++
				}
			})
		}
		wg.Wait()
		if len(ids) != 1 || fresh != 1 {
			t.Errorf("%d goroutines with one key: %d incidents, %d reported created; want 1 and 1", n, len(ids), fresh)
		}
		if got := count(t, db, "incidents"); got != 2 {
			t.Errorf("%d incidents stored, want 2", got)
		}
		// The losers' number allocations were rolled back: no gap.
		next, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "next"})
		if err != nil {
			t.Fatal(err)
		}
		if next.Number != 3 {
			t.Errorf("next number = %d, want 3", next.Number)
		}
	})
}

func TestCreateIncidentValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		in   models.NewIncident
	}{
		{"empty title", models.NewIncident{}},
		{"blank title", models.NewIncident{Title: " \t\n"}},
		{"title too long", models.NewIncident{Title: strings.Repeat("é", models.MaxTitleLength+1)}},
		{"severity too high", models.NewIncident{Title: "t", Severity: 5}},
		{"negative severity", models.NewIncident{Title: "t", Severity: -1}},
	}
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		jobs := func(*models.Incident) []models.NewJob { return []models.NewJob{{Kind: "k"}} }
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.in.Jobs = jobs
				inc, created, err := db.Store.CreateIncident(ctx, tt.in)
				if !errors.Is(err, models.ErrInvalid) {
					t.Errorf("err = %v, want ErrInvalid", err)
				}
				if inc != nil || created {
					t.Errorf("returned %+v, created %v", inc, created)
				}
			})
		}
		for _, table := range []string{"incidents", "timeline_events", "jobs"} {
			if n := count(t, db, table); n != 0 {
				t.Errorf("%d rows in %s after invalid declarations", n, table)
			}
		}
		// The longest title is accepted; numbering starts at 1.
		inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: strings.Repeat("é", models.MaxTitleLength)})
		if err != nil || inc.Number != 1 {
			t.Errorf("150-character title: %v, number %v", err, inc)
		}
	})
}

func TestCreateIncidentIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		reporter, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", DisplayName: "Ada", Email: secretEmail})
		if err != nil {
			t.Fatal(err)
		}
		var seen *models.Incident
		inc, created, err := db.Store.CreateIncident(ctx, models.NewIncident{
			Title:      "  checkout is down  ",
			ReporterID: &reporter.ID,
			Jobs: func(inc *models.Incident) []models.NewJob {
				seen = inc
				return []models.NewJob{
					{Kind: "create_channel", Payload: fmt.Appendf(nil, `{"incident":%d}`, inc.ID)},
					{Kind: "post_headline", Payload: fmt.Appendf(nil, `{"incident":%d}`, inc.ID), DedupKey: fmt.Sprintf("headline-%d", inc.ID)},
				}
			},
		})
		if err != nil || !created {
			t.Fatalf("created %v, err %v", created, err)
		}
		if inc.Title != "checkout is down" {
			t.Errorf("title = %q, want it trimmed", inc.Title)
		}
		if seen == nil || seen.ID != inc.ID || inc.ID == 0 {
			t.Fatalf("Jobs saw incident %+v, want the stored one (id %d)", seen, inc.ID)
		}

		timeline, err := db.Store.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(timeline) != 1 || timeline[0].Kind != models.TimelineDeclared || !strings.Contains(timeline[0].Text, "checkout is down") {
			t.Fatalf("timeline = %+v, want one declared entry", timeline)
		}
		if a := timeline[0].Author; a == nil || a.ID != reporter.ID || a.Email.Reveal() != secretEmail {
			t.Errorf("declared entry author = %+v, want the reporter with email", a)
		}

		jobs, err := db.Store.LeaseJobs(ctx, "w", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"incident":%d}`, inc.ID)
		if len(jobs) != 2 || jobs[0].Payload.Reveal() != want || jobs[1].Payload.Reveal() != want {
			t.Errorf("jobs = %+v, want 2 with payload %s", jobs, want)
		}

		// A declaration failing half-way (unknown reporter) stores nothing.
		// (On PostgreSQL its number is skipped: numbers come from a
		// sequence, so creations never wait on each other.)
		_, _, err = db.Store.CreateIncident(ctx, models.NewIncident{Title: "bad", ReporterID: ptr("no-such-user"), Jobs: func(*models.Incident) []models.NewJob {
			return []models.NewJob{{Kind: "k"}}
		}})
		if err == nil {
			t.Fatal("declaration with an unknown reporter succeeded")
		}
		next, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "next"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{models.DialectPostgres: 3, models.DialectSQLite: 2}[db.Dialect]; next.Number != want {
			t.Errorf("number after a failed declaration = %d, want %d", next.Number, want)
		}
		var stored int64
		if err := db.Gorm.Model(&models.Incident{}).Count(&stored).Error; err != nil || stored != 2 {
			t.Errorf("%d incidents stored (%v), want 2", stored, err)
		}
		if n, _ := db.Store.PendingJobs(ctx); n != 2 {
			t.Errorf("%d pending jobs, want the first declaration's 2", n)
		}
	})
}

func TestUpsertSlackUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		if _, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{}); err == nil {
			t.Error("empty user id accepted")
		}
		created := clock.Now()
		first, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", DisplayName: "Ada", Email: "ada@example.com", TimeZone: "Europe/London"})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)

		tests := []struct {
			name string
			in   models.SlackUser
			want models.SlackUser // expected state afterwards
			bump bool             // updated_at moves
		}{
			{"unchanged", models.SlackUser{ID: "U1", DisplayName: "Ada"}, models.SlackUser{DisplayName: "Ada", Email: "ada@example.com", TimeZone: "Europe/London"}, false},
			{"new name and email", models.SlackUser{ID: "U1", DisplayName: "Ada L.", Email: "ada@new.example"}, models.SlackUser{DisplayName: "Ada L.", Email: "ada@new.example", TimeZone: "Europe/London"}, true},
			{"empty fields keep what is known", models.SlackUser{ID: "U1"}, models.SlackUser{DisplayName: "Ada L.", Email: "ada@new.example", TimeZone: "Europe/London"}, false},
			{"new time zone", models.SlackUser{ID: "U1", TimeZone: "Asia/Tokyo"}, models.SlackUser{DisplayName: "Ada L.", Email: "ada@new.example", TimeZone: "Asia/Tokyo"}, true},
		}
		for _, tt := range tests {
			updatedBefore := readUser(t, db, first.ID).UpdatedAt
			got, err := db.Store.UpsertSlackUser(ctx, tt.in)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			stored := readUser(t, db, first.ID)
			for _, u := range []*models.ExternalUser{got, stored} {
				if u.ID != first.ID || u.SlackUserID != "U1" || u.DisplayName != tt.want.DisplayName || u.Email.Reveal() != tt.want.Email || u.TimeZone != tt.want.TimeZone {
					t.Errorf("%s: user = %+v (email %q), want %+v", tt.name, u, u.Email.Reveal(), tt.want)
				}
			}
			if moved := !stored.UpdatedAt.Equal(updatedBefore); moved != tt.bump {
				t.Errorf("%s: updated_at moved = %v, want %v", tt.name, moved, tt.bump)
			}
			if !stored.CreatedAt.Equal(created) {
				t.Errorf("%s: created_at = %v, want %v", tt.name, stored.CreatedAt, created)
			}
			clock.Advance(time.Minute)
		}
		if n := count(t, db, "external_users"); n != 1 {
			t.Errorf("%d users stored, want 1", n)
		}
	})
}

func readUser(t *testing.T, db *testdb.DB, id string) *models.ExternalUser {
	t.Helper()
	var u models.ExternalUser
	if err := db.Gorm.Take(&u, "id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	return &u
}

func TestAddTimelineEventSourceRef(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "t"})
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "other"})
		if err != nil {
			t.Fatal(err)
		}
		add := []struct {
			incident int64
			kind     models.TimelineKind
			ref      *string
		}{
			{inc.ID, models.TimelinePin, ptr("1700000000.000100")},
			{inc.ID, models.TimelinePin, ptr("1700000000.000100")}, // Slack retry: skipped
			{inc.ID, models.TimelineNote, ptr("1700000000.000100")},
			{other.ID, models.TimelinePin, ptr("1700000000.000100")},
			{inc.ID, models.TimelineNote, nil},
			{inc.ID, models.TimelineNote, nil}, // no ref: both kept
		}
		for i, a := range add {
			clock.Advance(time.Second)
			if err := db.Store.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: a.incident, Kind: a.kind, Text: fmt.Sprint(i), SourceRef: a.ref}); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		timeline, err := db.Store.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, e := range timeline {
			texts = append(texts, e.Text)
		}
		// Declared first, then in order of occurrence; the retry is gone.
		if got, want := strings.Join(texts[1:], ","), "0,2,4,5"; got != want || timeline[0].Kind != models.TimelineDeclared {
			t.Errorf("timeline texts = %v, want declared then %s", texts, want)
		}
	})
}

func TestHeadlinePost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Store.HeadlinePostFor(ctx, inc.ID); !models.IsNotFound(err) {
			t.Errorf("before posting: err = %v, want not found", err)
		}
		if err := db.Store.SaveHeadlinePost(ctx, inc.ID, "C1", "1.1"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		if err := db.Store.SaveHeadlinePost(ctx, inc.ID, "C2", "2.2"); err != nil {
			t.Fatal(err)
		}
		hp, err := db.Store.HeadlinePostFor(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if hp.ChannelID != "C2" || hp.MessageTS != "2.2" || !hp.UpdatedAt.Equal(clock.Now()) || hp.CreatedAt.Equal(clock.Now()) {
			t.Errorf("headline post = %+v, want C2/2.2 updated now, created earlier", hp)
		}
		if n := count(t, db, "headline_posts"); n != 1 {
			t.Errorf("%d headline posts, want 1", n)
		}
	})
}

func TestIncidentByCommsChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		lead, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", Email: secretEmail})
		if err != nil {
			t.Fatal(err)
		}
		var incs []*models.Incident
		for i := range 2 {
			inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: fmt.Sprint(i), LeadID: &lead.ID})
			if err != nil {
				t.Fatal(err)
			}
			cc := models.CommsChannel{IncidentID: inc.ID, ChannelID: fmt.Sprintf("C%d", i), ChannelName: fmt.Sprintf("inc-%d", inc.Number), CreatedAt: t0}
			if err := db.Gorm.Create(&cc).Error; err != nil {
				t.Fatal(err)
			}
			incs = append(incs, inc)
		}
		got, err := db.Store.IncidentByCommsChannel(ctx, "C1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != incs[1].ID || got.Lead == nil || got.Lead.Email.Reveal() != secretEmail {
			t.Errorf("IncidentByCommsChannel(C1) = %+v, want incident %d with its lead", got, incs[1].ID)
		}
		if _, err := db.Store.IncidentByCommsChannel(ctx, "C9"); !models.IsNotFound(err) {
			t.Errorf("unknown channel: err = %v, want not found", err)
		}
	})
}
