package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSearchIncidents(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := db.Store
		start := clock.Now() // the dialects share the clock
		team := &models.Team{ID: uuid.NewString(), Name: "payments", CreatedAt: t0, UpdatedAt: t0}
		must(t, db.Gorm.Create(team).Error)
		pay := &models.Service{ID: uuid.NewString(), Name: "checkout", TeamID: &team.ID, DefaultSeverity: models.SEV3, CreatedAt: t0, UpdatedAt: t0}
		web := &models.Service{ID: uuid.NewString(), Name: "web", DefaultSeverity: models.SEV3, CreatedAt: t0, UpdatedAt: t0}
		must(t, db.Gorm.Create(pay).Error)
		must(t, db.Gorm.Create(web).Error)
		// #1..#6, a day apart.
		for i, n := range []models.NewIncident{
			{Title: "Checkout down", Severity: models.SEV1, ServiceID: &pay.ID, Summary: "100% of payments fail"},
			{Title: "Slow pages", Severity: models.SEV3, ServiceID: &web.ID, Summary: "p99 up"},
			{Title: "Refunds stuck", Severity: models.SEV2, ServiceID: &pay.ID},
			{Title: "snake_case bug", Severity: models.SEV3},
			{Title: "CHECKOUT retries", Severity: models.SEV2, Summary: "retries loop"},
			{Title: "Disk full", Severity: models.SEV4, ServiceID: &web.ID},
		} {
			n.Source = "test"
			inc, _, err := s.CreateIncident(ctx, n)
			must(t, err)
			if i == 2 {
				_, err := s.ChangeIncident(ctx, inc.ID, nil, func(inc *models.Incident) (models.Change, error) {
					inc.Status = models.StatusResolved
					return models.Change{}, nil
				})
				must(t, err)
			}
			clock.Advance(24 * time.Hour)
		}
		day := func(d int) time.Time { return start.Add(time.Duration(d) * 24 * time.Hour) }
		for _, tc := range []struct {
			name string
			q    models.IncidentQuery
			want []int64
		}{
			{"all", models.IncidentQuery{}, []int64{6, 5, 4, 3, 2, 1}},
			{"open", models.IncidentQuery{IncidentFilter: models.IncidentFilter{Status: "open"}}, []int64{6, 5, 4, 2, 1}},
			{"resolved", models.IncidentQuery{IncidentFilter: models.IncidentFilter{Status: "resolved"}}, []int64{3}},
			{"severity", models.IncidentQuery{Severity: models.SEV2}, []int64{5, 3}},
			{"service", models.IncidentQuery{ServiceID: web.ID}, []int64{6, 2}},
			{"team", models.IncidentQuery{TeamID: team.ID}, []int64{3, 1}},
			{"from", models.IncidentQuery{From: day(4)}, []int64{6, 5}},
			{"range", models.IncidentQuery{From: day(1), To: day(3)}, []int64{3, 2}},
			{"text in title, any case", models.IncidentQuery{Text: "checkout"}, []int64{5, 1}},
			{"text in summary", models.IncidentQuery{Text: "RETRIES LOOP"}, []int64{5}},
			{"percent is literal", models.IncidentQuery{Text: "100%"}, []int64{1}},
			{"underscore is literal", models.IncidentQuery{Text: "e_c"}, []int64{4}},
			{"no match", models.IncidentQuery{Text: "%_%"}, nil},
			{"combined", models.IncidentQuery{Text: "checkout", Severity: models.SEV1, TeamID: team.ID, IncidentFilter: models.IncidentFilter{Status: "open"}}, []int64{1}},
			{"paged", models.IncidentQuery{IncidentFilter: models.IncidentFilter{Limit: 2, Offset: 2}}, []int64{4, 3}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.SearchIncidents(ctx, tc.q)
				must(t, err)
				var nums []int64
				for _, inc := range got {
					nums = append(nums, inc.Number)
				}
				if !equalNums(nums, tc.want) {
					t.Errorf("got %v, want %v", nums, tc.want)
				}
				if tc.q.Limit == 0 && total != int64(len(tc.want)) {
					t.Errorf("total %d, want %d", total, len(tc.want))
				}
			})
		}
		for _, bad := range []models.IncidentQuery{
			{Text: strings.Repeat("x", models.MaxIncidentSearchLength+1)},
			{Severity: 7},
			{IncidentFilter: models.IncidentFilter{Status: "closed"}},
			{IncidentFilter: models.IncidentFilter{Offset: -1}},
		} {
			if _, _, err := s.SearchIncidents(ctx, bad); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("%+v: err %v, want ErrInvalid", bad, err)
			}
		}
	})
}

func equalNums(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWebIncidentEdits(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := db.Store
		alice, err := s.UpsertSlackUser(ctx, models.SlackUser{ID: "U0ALICE", DisplayName: "Alice"})
		must(t, err)
		inc, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "Checkout down", Source: "test"})
		must(t, err)
		other, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "Other", Source: "test"})
		must(t, err)
		by := models.Actor{Name: "web:alice", UserID: &alice.ID}
		anon := models.Actor{Name: "web:bob"}

		// Timeline: add, edit, hide, unhide; another incident's entry is not found.
		at := t0.Add(-time.Hour)
		e, err := s.AddTimelineNote(ctx, inc.ID, "  rolled back  ", at, by)
		must(t, err)
		if e.Text != "rolled back" || !e.OccurredAt.Equal(at) || e.AuthorID == nil || *e.AuthorID != alice.ID {
			t.Errorf("note %+v", e)
		}
		if _, err := s.AddTimelineNote(ctx, inc.ID, " ", at, by); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("empty note: %v", err)
		}
		if _, err := s.AddTimelineNote(ctx, inc.ID, strings.Repeat("é", models.MaxTimelineText+1), at, by); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("long note: %v", err)
		}
		must(t, s.EditTimelineEntry(ctx, inc.ID, e.ID, "rolled back v42", at.Add(5*time.Minute), anon))
		if err := s.EditTimelineEntry(ctx, inc.ID, e.ID, "rolled back v42", at.Add(5*time.Minute), anon); !errors.Is(err, models.ErrNoChange) {
			t.Errorf("same edit: %v", err)
		}
		if err := s.EditTimelineEntry(ctx, other.ID, e.ID, "x", at, anon); !models.IsNotFound(err) {
			t.Errorf("entry of another incident: %v", err)
		}
		must(t, s.SetTimelineEntryHidden(ctx, inc.ID, e.ID, true, by))
		if err := s.SetTimelineEntryHidden(ctx, inc.ID, e.ID, true, by); !errors.Is(err, models.ErrNoChange) {
			t.Errorf("hiding twice: %v", err)
		}
		tl, err := s.Timeline(ctx, inc.ID)
		must(t, err)
		var got *models.TimelineEvent
		for i := range tl {
			if tl[i].ID == e.ID {
				got = &tl[i]
			}
		}
		if got == nil || got.RemovedAt == nil || got.Text != "rolled back v42" || !got.OccurredAt.Equal(at.Add(5*time.Minute)) {
			t.Fatalf("entry after edits: %+v", got)
		}
		must(t, s.SetTimelineEntryHidden(ctx, inc.ID, e.ID, false, by))

		// Action items: add (with its timeline entry), edit, mark done.
		a, err := s.AddWebActionItem(ctx, inc.ID, "Alert on latency", &alice.ID, anon, "bob")
		must(t, err)
		must(t, s.EditActionItem(ctx, inc.ID, a.ID, "Alert on p99 latency", nil, true, by))
		if err := s.EditActionItem(ctx, inc.ID, a.ID, "Alert on p99 latency", nil, true, by); !errors.Is(err, models.ErrNoChange) {
			t.Errorf("same action edit: %v", err)
		}
		items, err := s.ActionItems(ctx, inc.ID)
		must(t, err)
		if len(items) != 1 || items[0].Text != "Alert on p99 latency" || items[0].OwnerID != nil || items[0].DoneAt == nil {
			t.Errorf("items %+v", items)
		}
		if err := s.EditActionItem(ctx, other.ID, a.ID, "x", nil, false, by); !models.IsNotFound(err) {
			t.Errorf("item of another incident: %v", err)
		}

		// The review: empty, saved, unchanged, too long.
		r, err := s.IncidentReviewOf(ctx, inc.ID)
		must(t, err)
		if !r.Empty() {
			t.Errorf("new review %+v", r)
		}
		must(t, s.SaveIncidentReview(ctx, models.IncidentReview{IncidentID: inc.ID, WhatHappened: "A deploy", LessonsLearned: "Canary"}, by))
		must(t, s.SaveIncidentReview(ctx, models.IncidentReview{IncidentID: inc.ID, WhatHappened: "A bad deploy", LessonsLearned: "Canary"}, anon))
		if err := s.SaveIncidentReview(ctx, models.IncidentReview{IncidentID: inc.ID, WhatHappened: "A bad deploy", LessonsLearned: "Canary"}, anon); !errors.Is(err, models.ErrNoChange) {
			t.Errorf("same review: %v", err)
		}
		if err := s.SaveIncidentReview(ctx, models.IncidentReview{IncidentID: inc.ID, ContributingFactors: strings.Repeat("x", models.MaxReviewText+1)}, anon); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("long review: %v", err)
		}
		r, err = s.IncidentReviewOf(ctx, inc.ID)
		must(t, err)
		if r.WhatHappened != "A bad deploy" || r.UpdatedBy != "web:bob" || r.Empty() {
			t.Errorf("review %+v", r)
		}

		// A change made with WithAuditActor names the web user.
		_, err = s.ChangeIncident(models.WithAuditActor(ctx, "web:carol"), inc.ID, nil, func(inc *models.Incident) (models.Change, error) {
			inc.Summary = "new"
			return models.Change{Action: "incident.summary", After: "new"}, nil
		})
		must(t, err)

		log, err := s.AuditLog(ctx, inc.ID)
		must(t, err)
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action+"/"+e.Actor)
		}
		want := []string{"incident.timeline.add/web:alice", "incident.timeline.edit/web:bob", "incident.timeline.hide/web:alice",
			"incident.timeline.unhide/web:alice", "incident.action.add/web:bob", "incident.action.edit/web:alice",
			"incident.review/web:alice", "incident.review/web:bob", "incident.summary/web:carol"}
		if strings.Join(actions, " ") != strings.Join(want, " ") {
			t.Errorf("audit\n got %v\nwant %v", actions, want)
		}
		if log[0].ActorID == nil || *log[0].ActorID != alice.ID || log[1].ActorID != nil {
			t.Errorf("audit actor ids: %v, %v", log[0].ActorID, log[1].ActorID)
		}
	})
}
