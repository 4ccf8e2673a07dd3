package models_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// TestCalendarTokens: a token shows its subject until it is rotated or
// revoked; it is stored only hashed; every refusal is the same not-found.
func TestCalendarTokens(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		f := newSchedFixture(t, db)
		ctx := f.ctx
		sc := &models.Schedule{TeamID: f.team.ID, Name: "Payments", TimeZone: "Europe/London"}
		f.must(f.s.CreateSchedule(ctx, f.by, sc))

		tok, rotated, err := f.s.IssueCalendarToken(ctx, models.CalendarTokenSchedule, sc.ID)
		f.must(err)
		if rotated || !strings.HasPrefix(tok, "hcal_") {
			t.Fatalf("first token %q rotated=%v", tok, rotated)
		}
		if got, err := f.s.CalendarTokenSubject(ctx, models.CalendarTokenSchedule, tok); err != nil || got != sc.ID {
			t.Fatalf("subject of the token: %q, %v", got, err)
		}
		var stored []models.CalendarToken
		f.must(db.Gorm.Find(&stored).Error)
		if len(stored) != 1 || strings.Contains(stored[0].TokenHash, tok[len(tok)-20:]) || len(stored[0].TokenHash) != 64 {
			t.Fatalf("stored rows %+v: want one, hashed", stored)
		}

		secret := tok[len("hcal_")+33:]
		refused := map[string]string{
			"other kind":   "",
			"no prefix":    strings.TrimPrefix(tok, "hcal_"),
			"wrong secret": tok[:len(tok)-2] + flip(tok[len(tok)-2:]),
			"upper hex":    "hcal_" + strings.ToUpper(tok[5:37]) + tok[37:],
			"short":        "hcal_0123",
			"no separator": "hcal_" + tok[5:37] + secret,
			"unknown id":   "hcal_00000000000070008000000000000000_" + secret,
			"empty":        "",
		}
		for name, token := range refused {
			kind := models.CalendarTokenSchedule
			if name == "other kind" {
				kind, token = models.CalendarTokenPerson, tok
			}
			if _, err := f.s.CalendarTokenSubject(ctx, kind, token); !models.IsNotFound(err) {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}

		tok2, rotated, err := f.s.IssueCalendarToken(ctx, models.CalendarTokenSchedule, sc.ID)
		f.must(err)
		if !rotated || tok2 == tok {
			t.Fatalf("rotation: rotated=%v, same token %v", rotated, tok2 == tok)
		}
		if _, err := f.s.CalendarTokenSubject(ctx, models.CalendarTokenSchedule, tok); !models.IsNotFound(err) {
			t.Errorf("the rotated-out token: %v, want not found", err)
		}
		f.must(f.s.RevokeCalendarToken(ctx, models.CalendarTokenSchedule, sc.ID))
		if _, err := f.s.CalendarTokenSubject(ctx, models.CalendarTokenSchedule, tok2); !models.IsNotFound(err) {
			t.Errorf("the revoked token: %v, want not found", err)
		}
		if err := f.s.RevokeCalendarToken(ctx, models.CalendarTokenSchedule, sc.ID); !models.IsNotFound(err) {
			t.Errorf("revoking with no token in force: %v, want not found", err)
		}

		ptok, _, err := f.s.IssueCalendarToken(ctx, models.CalendarTokenPerson, f.alice.ID)
		f.must(err)
		if got, err := f.s.CalendarTokenSubject(ctx, models.CalendarTokenPerson, ptok); err != nil || got != f.alice.ID {
			t.Fatalf("person token: %q, %v", got, err)
		}
		for _, bad := range []struct{ kind, id string }{{models.CalendarTokenSchedule, "nope"}, {models.CalendarTokenPerson, "nope"}} {
			if _, _, err := f.s.IssueCalendarToken(ctx, bad.kind, bad.id); !models.IsNotFound(err) {
				t.Errorf("a token for unknown %s: %v, want not found", bad.kind, err)
			}
		}
		if _, _, err := f.s.IssueCalendarToken(ctx, "team", f.team.ID); err == nil {
			t.Error("a token of an unknown kind was issued")
		}
	})
}

func flip(s string) string {
	if s == "AA" {
		return "BB"
	}
	return "AA"
}

// TestPersonScheduleSets: the teams whose schedules name a person, in a
// rotation or an override within the range, each with all its schedules.
func TestPersonScheduleSets(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		f := newSchedFixture(t, db)
		ctx := f.ctx
		now := f.s.Clock().Now()
		other := &models.Team{ID: "team-b", Name: "search", CreatedAt: now, UpdatedAt: now}
		f.must(db.Gorm.Create(other).Error)
		pay := &models.Schedule{TeamID: f.team.ID, Name: "Payments", TimeZone: "UTC"}
		payNights := &models.Schedule{TeamID: f.team.ID, Name: "Nights", TimeZone: "UTC"}
		search := &models.Schedule{TeamID: other.ID, Name: "Search", TimeZone: "UTC"}
		for _, sc := range []*models.Schedule{pay, payNights, search} {
			f.must(f.s.CreateSchedule(ctx, f.by, sc))
		}
		f.must(f.s.CreateRotation(ctx, f.by, f.rotation(pay.ID, "weekly", f.alice.ID, f.bob.ID)))
		f.must(f.s.CreateRotation(ctx, f.by, f.rotation(search.ID, "weekly", f.bob.ID)))
		later := now.Add(60 * 24 * time.Hour)
		f.must(f.s.CreateOverride(ctx, f.by, &models.ScheduleOverride{ScheduleID: search.ID, Role: models.RotationPrimary,
			PersonID: f.alice.ID, StartsAt: later, EndsAt: later.Add(time.Hour)}))

		teams := func(personID string, from, to time.Time) []string {
			sets, err := f.s.PersonScheduleSets(ctx, personID, from, to)
			f.must(err)
			var out []string
			for _, set := range sets {
				var names []string
				for _, d := range set.Schedules {
					names = append(names, d.Schedule.Name)
				}
				out = append(out, strings.Join(names, "+"))
			}
			return out
		}
		if got := teams(f.alice.ID, now, now.Add(time.Hour)); strings.Join(got, ",") != "Nights+Payments" {
			t.Errorf("alice now: %v, want the payments team's two schedules", got)
		}
		if got := teams(f.alice.ID, later, later.Add(time.Hour)); len(got) != 2 {
			t.Errorf("alice with her search override in range: %v, want both teams", got)
		}
		if got := teams(f.carol.ID, now, later); len(got) != 0 {
			t.Errorf("carol, in no schedule: %v", got)
		}
	})
}
