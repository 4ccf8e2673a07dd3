package handlers_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
)

// TestOncallCoverRefused: every malformed or impossible cover is an
// ephemeral answer naming the problem, with the usage, and stores
// nothing.
func TestOncallCoverRefused(t *testing.T) {
	forEachOncallDialect(t, func(t *testing.T, r *oncallRig) {
		tests := []struct {
			name, user, text string
			want             string
		}{
			{"no duration", ocCarol, "cover payments", "Say for how long"},
			{"bad duration", ocCarol, "cover 2x payments", "`2x` is not a duration"},
			{"too long", ocCarol, "cover 30d payments", "too long"},
			{"bad end", ocCarol, "cover until 6pm payments", "`6pm` is not a time of day"},
			{"mentioned user not in Herald", ocCarol, "cover <@U0ERIN> 2h payments", "<@U0ERIN> is not a Herald person"},
			{"unknown handle", ocCarol, "cover @zed 2h payments", "I know nobody called `@zed`"},
			{"inactive person", ocCarol, "cover <@U0FRANK> 2h payments", "<@U0FRANK> is inactive in Herald"},
			{"caller not in Herald", ocErin, "cover 2h payments", "You are not a Herald person"},
			{"unknown team", ocCarol, "cover 2h nope", "There is no team called `nope`. Teams: `infra`, `payments`, `search`."},
			{"team without schedule", ocAlice, "cover 2h search", "Team `search` has no on-call schedule"},
			{"several teams", ocCarol, "cover 2h", "<@U0CAROL> is in several teams with schedules (`infra`, `payments`): name one"},
			{"no team with a schedule", ocCarol, "cover @dave 2h search", "Team `search` has no on-call schedule"},
			{"ambiguous schedule", ocCarol, "cover @dave 2h infra", "Team `infra` has several schedules (`Infra weekdays`, `Infra weekends`) and nobody is on call for primary now"},
			{"already on call", ocAlice, "cover 2h", "<@U0ALICE> is already the primary on call for `payments` (primary, Payments weekly)"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := r.slash(tt.user, tt.text)
				if resp.InChannel {
					t.Error("a refusal went to the channel")
				}
				wantAll(t, "/oncall "+tt.text, resp.Text, tt.want, "Usage:", "/oncall cover [@person]")
				if got := r.overrides(); len(got) != 0 {
					t.Errorf("stored %d overrides", len(got))
				}
			})
		}
		if r.fake.Calls("chat.postMessage") != nil {
			t.Error("a refusal posted in Slack")
		}
	})
}

// TestOncallCover: `/oncall cover` stores an override from now in the
// team's schedule, audited as the Slack user, drops this replica's
// cached on-call lookups and says in the channel who covers whom until
// when; the answer to /oncall and the engine's lookup follow it.
func TestOncallCover(t *testing.T) {
	forEachOncallDialect(t, func(t *testing.T, r *oncallRig) {
		if a, err := r.cache.Lookup(r.ctx, "payments", models.RotationPrimary); err != nil || a.Shift.PersonID != r.people["alice"].ID {
			t.Fatalf("before: %+v, %v; want alice", a, err)
		}
		resp := r.slash(ocCarol, "cover 2h payments")
		if !resp.InChannel {
			t.Error("the cover was not announced in the channel")
		}
		end := oncallT0.Add(2 * time.Hour)
		wantAll(t, "cover", resp.Text, "<@U0CAROL> is on call (primary) for *payments* from now until <!date^"+strconv.FormatInt(end.Unix(), 10)+"^",
			"covering for <@U0ALICE>.")
		if strings.Contains(resp.Text, "Set by") {
			t.Errorf("%q: carol covered herself", resp.Text)
		}
		ovs := r.overrides()
		if len(ovs) != 1 {
			t.Fatalf("%d overrides, want 1", len(ovs))
		}
		o := ovs[0]
		if o.PersonID != r.people["carol"].ID || o.Role != models.RotationPrimary || !o.StartsAt.Equal(oncallT0) || !o.EndsAt.Equal(end) ||
			o.ReplacedPersonID != nil || o.CreatedBy != "carol" {
			t.Errorf("override %+v", o)
		}
		audit, err := r.store.ScheduleAudit(r.ctx, models.ScheduleSubject(o.ScheduleID))
		if err != nil {
			t.Fatal(err)
		}
		carolUser, err := r.store.UserBySlackID(r.ctx, ocCarol)
		if err != nil {
			t.Fatal(err)
		}
		last := audit[len(audit)-1]
		if last.Action != "override.create" || last.ActorID == nil || *last.ActorID != carolUser.ID || last.Actor != "carol" {
			t.Errorf("audit %+v, want override.create by carol's Slack user %s", last, carolUser.ID)
		}
		if a, err := r.cache.Lookup(r.ctx, "payments", models.RotationPrimary); err != nil || a.Shift.PersonID != r.people["carol"].ID {
			t.Errorf("after: %+v, %v; want carol (the cache dropped)", a, err)
		}
		wantAll(t, "after the cover", blocksText(t, r.slash(ocBob, "payments").Blocks),
			"*Primary*: <@U0CAROL> until <!date^"+strconv.FormatInt(end.Unix(), 10)+"^", "primary, override in Payments",
			"Next: <@U0BOB> from <!date^"+strconv.FormatInt(end.Unix(), 10)+"^")

		// Carol puts bob on until 18:00 her time (Paris, UTC+1).
		resp = r.slash(ocCarol, "cover <@U0BOB|bob> until 18:00 payments")
		until := time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC)
		wantAll(t, "cover bob", resp.Text, "<@U0BOB> is on call (primary) for *payments* from now until <!date^"+strconv.FormatInt(until.Unix(), 10)+"^",
			"covering for <@U0CAROL>.", "Set by <@U0CAROL>.")
		if ovs = r.overrides(); len(ovs) != 2 || !ovs[1].EndsAt.Equal(until) || ovs[1].PersonID != r.people["bob"].ID {
			t.Errorf("overrides %+v, want bob's until 17:00 UTC second", ovs)
		}

		// Alice's only team with a schedule is payments: no team needed.
		r.clock.Advance(time.Minute)
		wantAll(t, "cover 30m", r.slash(ocAlice, "cover 30m").Text, "<@U0ALICE> is on call (primary) for *payments*", "covering for <@U0BOB>.")

		// @incident oncall cover answers in the channel.
		r.clock.Advance(time.Minute)
		if err := r.mention(ocBob, "cover 1h"); err != nil {
			t.Fatal(err)
		}
		posts := r.fake.Calls("chat.postMessage")
		if len(posts) != 1 || posts[0].Param("channel") != "C0GENERAL" || !strings.Contains(posts[0].Param("text"), "<@U0BOB> is on call (primary) for *payments*") {
			t.Errorf("posts %+v", posts)
		}
		if n := len(r.overrides()); n != 4 {
			t.Errorf("%d overrides, want 4", n)
		}
	})
}
