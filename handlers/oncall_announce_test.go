package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/models"
)

// alwaysLeased hands every replica the lease, so two announcers run at
// once and only the stored announcements keep them from repeating.
type alwaysLeased struct{ *models.Store }

func (alwaysLeased) TakePeriodicLease(context.Context, string, string, time.Duration) (bool, error) {
	return true, nil
}

func (r *oncallRig) announcer(owner string, store handlers.AnnounceStore) *handlers.OncallAnnouncer {
	return &handlers.OncallAnnouncer{Store: store, Clock: r.clock, Log: r.deps.Log, Owner: owner}
}

// withSummary posts the summary on Mondays at 09:00 UTC.
func (r *oncallRig) withSummary(a *handlers.OncallAnnouncer) *handlers.OncallAnnouncer {
	summary, err := handlers.ParseSummarySchedule("0 9 * * MON")
	if err != nil {
		r.t.Fatal(err)
	}
	a.Summary = summary
	return a
}

func (r *oncallRig) tick(a *handlers.OncallAnnouncer, wantRan bool, want int) {
	r.t.Helper()
	n, ran, err := a.Tick(r.ctx)
	if err != nil || ran != wantRan || n != want {
		r.t.Fatalf("tick by %s at %s = %d handoffs, ran %v, %v; want %d, ran %v", a.Owner, r.clock.Now().Format(time.RFC3339), n, ran, err, want, wantRan)
	}
	if _, err := r.worker.Drain(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

// posts are the chat.postMessage calls since the last look.
func (r *oncallRig) posts(seen *int) []slackfake.Call {
	all := r.fake.Calls("chat.postMessage")
	out := all[*seen:]
	*seen = len(all)
	return out
}

// TestOncallAnnouncer: a handoff posts once in the team's channel and
// DMs the incoming person once; a restarted announcer does not repeat
// it, two at once announce it once, a replica without the lease does
// nothing, and the Monday summary is posted once.
func TestOncallAnnouncer(t *testing.T) {
	forEachOncallDialect(t, func(t *testing.T, r *oncallRig) {
		seen := 0
		a := r.announcer("a", r.store)
		r.tick(a, true, 0) // 08:00: the current people recorded, nothing announced
		if p := r.posts(&seen); len(p) != 0 {
			t.Fatalf("first run posted %d messages", len(p))
		}
		rows, err := r.store.OncallAnnouncements(r.ctx)
		if err != nil || len(rows) != 2 {
			t.Fatalf("announcements %+v, %v; want payments (alice) and infra (a gap)", rows, err)
		}

		// 09:00 bob takes over payments; dave comes on for infra after a
		// gap (no channel, no Slack id: recorded, nothing to post).
		r.clock.Set(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
		r.tick(a, true, 2)
		posts := r.posts(&seen)
		if len(posts) != 2 {
			t.Fatalf("handoff posted %d messages, want the channel post and the DM: %+v", len(posts), posts)
		}
		channel, dm := posts[0], posts[1]
		if channel.Param("channel") != "C0PAYMENTS" {
			channel, dm = dm, channel
		}
		if channel.Param("channel") != "C0PAYMENTS" || dm.Param("channel") != ocBob {
			t.Fatalf("posts to %s and %s, want C0PAYMENTS and bob's DM", channel.Param("channel"), dm.Param("channel"))
		}
		blocks, err := channel.Blocks()
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "oncall_handoff", blocks)
		wantAll(t, "channel post", blocksText(t, blocks), "<@U0BOB> is now on call (*primary*) for *payments* until <!date^1773046800^", "Previous: <@U0ALICE>.",
			"Next: <@U0ALICE> from <!date^1773046800^")
		if got, want := dm.Param("text"), "You are now on call (primary) for payments until Mon 9 Mar 09:00 (Europe/London). Previous: <@U0ALICE>."; got != want {
			t.Errorf("DM = %q, want %q", got, want)
		}

		// A restart: a new announcer (new owner, once the old lease ran
		// out) finds nothing new to say.
		r.clock.Advance(3 * time.Minute)
		b := r.announcer("b", r.store)
		r.tick(b, true, 0)
		r.tick(a, false, 0) // b holds the lease now
		if p := r.posts(&seen); len(p) != 0 {
			t.Fatalf("after a restart: %d more posts", len(p))
		}

		// Next Monday, two replicas both believing they hold the lease:
		// alice's handoff is announced once, and the summary posted once.
		r.clock.Set(time.Date(2026, 3, 9, 9, 0, 30, 0, time.UTC))
		a, b = r.withSummary(r.announcer("a", alwaysLeased{r.store})), r.withSummary(r.announcer("b", alwaysLeased{r.store}))
		r.tick(a, true, 1)
		r.tick(b, true, 0)
		posts = r.posts(&seen)
		if len(posts) != 3 {
			t.Fatalf("%d posts, want alice's handoff (channel, DM) and the summary: %+v", len(posts), posts)
		}
		var summary []string
		for _, p := range posts {
			if strings.HasPrefix(p.Param("text"), "On call this week") {
				summary = append(summary, p.Param("channel"))
				bl, err := p.Blocks()
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "oncall_week_summary", bl)
				wantAll(t, "summary", blocksText(t, bl), "*Primary*\n• <@U0ALICE> from <!date^1773046800^", "to <!date^1773651600^")
			}
			if p.Param("channel") == ocAlice {
				wantAll(t, "alice's DM", p.Param("text"), "You are now on call (primary) for payments until Mon 16 Mar 09:00 (Europe/London). Previous: <@U0BOB>.")
			}
		}
		if len(summary) != 1 || summary[0] != "C0PAYMENTS" {
			t.Errorf("summaries posted to %v, want one in C0PAYMENTS", summary)
		}
		// An hour and a half later a fresh replica skips the stale firing
		// and repeats nothing.
		r.clock.Advance(90 * time.Minute)
		r.tick(r.withSummary(r.announcer("c", alwaysLeased{r.store})), true, 0)
		if p := r.posts(&seen); len(p) != 0 {
			t.Fatalf("%d more posts", len(p))
		}
	})
}

// TestOncallAnnouncerGap: a rotation restricted to working hours is a
// gap overnight; the person coming back on call in the morning is
// announced, as after a gap.
func TestOncallAnnouncerGap(t *testing.T) {
	r := newOncallRig(t, models.DialectSQLite)
	infra, err := r.store.TeamByName(r.ctx, "infra")
	if err != nil {
		t.Fatal(err)
	}
	// Give infra a channel and dave a Slack id through the configuration.
	if err := r.db.Gorm.Model(&models.Team{}).Where("id = ?", infra.ID).Update("slack_channel_id", "C0INFRA").Error; err != nil {
		t.Fatal(err)
	}
	if err := r.db.Gorm.Model(&models.Person{}).Where("id = ?", r.people["dave"].ID).Update("slack_user_id", "U0DAVE").Error; err != nil {
		t.Fatal(err)
	}
	seen := 0
	a := r.announcer("a", r.store)
	r.tick(a, true, 0) // 08:00, a gap
	r.clock.Set(time.Date(2026, 3, 2, 9, 1, 0, 0, time.UTC))
	r.tick(a, true, 2) // payments bob, infra dave
	r.clock.Set(time.Date(2026, 3, 2, 17, 1, 0, 0, time.UTC))
	r.tick(a, true, 0) // the evening gap: recorded, not announced
	r.clock.Set(time.Date(2026, 3, 3, 9, 1, 0, 0, time.UTC))
	r.tick(a, true, 1) // dave again
	var daves []string
	for _, p := range r.posts(&seen) {
		if p.Param("channel") == "U0DAVE" {
			daves = append(daves, p.Param("text"))
		}
	}
	want := "You are now on call (primary) for infra until Tue 3 Mar 17:00 (UTC). Nobody was on call before (a schedule gap)."
	if len(daves) != 2 || daves[1] != want {
		t.Errorf("dave's DMs %q, want two, the second %q", daves, want)
	}
}
