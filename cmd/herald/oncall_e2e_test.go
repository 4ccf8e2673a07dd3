package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// TestOncallEndToEnd: the wired App answers /oncall over HTTP, stores a
// cover from Slack, and its announcer (one replica at a time) posts the
// handoff the cover made in the team channel and by DM, once.
func TestOncallEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, withClockAt(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)), withEnv("HERALD_ONCALL_ANNOUNCE_CRON", "0 9 * * MON"))
		store := h.app.Store
		c, err := notifications.ParseCatalog([]byte(`
people:
  - {name: alice, slack_id: U0ALICE}
  - {name: carol, slack_id: U0CAROL}
teams:
  - {name: payments, slack_channel: C0PAYMENTS, members: [alice, carol]}
`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := notifications.Apply(h.ctx, store, c, notifications.ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		team, err := store.TeamByName(h.ctx, "payments")
		if err != nil {
			t.Fatal(err)
		}
		alice, err := store.PersonByName(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		by := models.Actor{Name: "test"}
		sc := &models.Schedule{TeamID: team.ID, Name: "Payments", TimeZone: "UTC"}
		if err := store.CreateSchedule(h.ctx, by, sc); err != nil {
			t.Fatal(err)
		}
		if err := store.CreateRotation(h.ctx, by, &models.Rotation{ScheduleID: sc.ID, Name: "weekly", Role: models.RotationPrimary,
			ShiftKind: models.ShiftWeekly, HandoffTime: "09:00", HandoffWeekday: "mon", StartDate: "2026-02-23", Members: []string{alice.ID}}); err != nil {
			t.Fatal(err)
		}
		oncall := func(user, text string) map[string]any {
			form := h.slashForm("/oncall", text)
			form.Set("user_id", user)
			r := h.postSigned("/slack/commands", formType, []byte(form.Encode()), nil)
			if r.Status != http.StatusOK {
				t.Fatalf("/oncall %s: %s", text, r)
			}
			return r.JSON(t)
		}
		show := oncall("U0CAROL", "payments")
		if show["response_type"] != "ephemeral" || !strings.Contains(r2s(show["blocks"]), "<@U0ALICE> for at least 35 days") {
			t.Errorf("/oncall payments = %v", show)
		}
		if n, ran, err := h.app.oncall.Tick(h.ctx); err != nil || !ran || n != 0 {
			t.Fatalf("first tick: %d, %v, %v", n, ran, err)
		}
		cover := oncall("U0CAROL", "cover 2h")
		if cover["response_type"] != "in_channel" || !strings.Contains(r2s(cover["text"]), "<@U0CAROL> is on call (primary) for *payments*") {
			t.Errorf("/oncall cover 2h = %v", cover)
		}
		h.clock.Advance(time.Minute)
		replica := h.startNode()
		if _, ran, _ := replica.app.oncall.Tick(h.ctx); ran {
			t.Error("a second replica ran the announcer while the first holds its lease")
		}
		if n, _, err := h.app.oncall.Tick(h.ctx); err != nil || n != 1 {
			t.Fatalf("tick after the cover: %d, %v; want carol's handoff", n, err)
		}
		h.drain(h.node)
		var to []string
		for _, p := range h.fake.Calls("chat.postMessage") {
			to = append(to, p.Param("channel"))
		}
		if strings.Join(to, ",") != "C0PAYMENTS,U0CAROL" && strings.Join(to, ",") != "U0CAROL,C0PAYMENTS" {
			t.Errorf("posts to %v, want the team channel and carol's DM", to)
		}
	})
}

// r2s is a decoded JSON value as text, Slack's markup unescaped.
func r2s(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.String()
}
