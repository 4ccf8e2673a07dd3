package notifications_test

import (
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// TestSlackChannelRole: a slack-channel notification posts the page (with
// its claim code) in the channel, pages no person, is planned once per
// send, and the channel hears who claimed it; out-of-band messages can go
// to a channel too.
func TestSlackChannelRole(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		ch := models.PlanNotification{Role: notifications.RoleSlackChannel, Target: "C0PAYOPS", Priority: "high", WaitMinutes: 5}
		f.plan("chan", steps(step(ch, user("alice", "low", 5, 0))))
		inc := f.escalate("db down", "chan")
		f.tick()
		f.tick() // nothing more is due: planned once
		var toChannel []sent
		for _, s := range f.vendor.accepted() {
			if s.Msg.Destination == "C0PAYOPS" {
				toChannel = append(toChannel, s)
			}
		}
		if len(toChannel) != 1 || toChannel[0].Msg.ClaimCode == "" || toChannel[0].Msg.IncidentID != inc.ID {
			t.Fatalf("channel pages: %+v", toChannel)
		}
		var channelMsg *models.Message
		for _, m := range f.messages(inc) {
			if m.Role == notifications.RoleSlackChannel {
				channelMsg = &m
			}
		}
		if channelMsg == nil || channelMsg.PersonID != nil || channelMsg.Mode != "slack" || channelMsg.Status != models.MessageSent {
			t.Fatalf("stored channel page: %+v", channelMsg)
		}
		f.vendor.reset()
		if err := f.engine.Claim(f.ctx, inc.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		f.tick()
		notes := 0
		for _, s := range f.vendor.accepted() {
			if s.Msg.Destination == "C0PAYOPS" && s.Msg.OutOfBand {
				notes++
			}
		}
		if notes != 1 {
			t.Errorf("claim notes in the channel: %d, want 1 (%+v)", notes, f.vendor.accepted())
		}

		f.vendor.reset()
		n, err := f.engine.Notify(f.ctx, notifications.OutOfBand{Role: notifications.RoleSlackChannel, Target: "C0PAYOPS", Priority: "low", Body: "deploy freeze at 18:00"})
		if err != nil || n != 1 {
			t.Fatalf("Notify to a channel: %d, %v", n, err)
		}
		f.tick()
		if got := f.vendor.accepted(); len(got) != 1 || got[0].Msg.Destination != "C0PAYOPS" || got[0].Msg.Body != "deploy freeze at 18:00" {
			t.Errorf("out-of-band to a channel: %+v", got)
		}
		if _, err := f.engine.Notify(f.ctx, notifications.OutOfBand{Role: notifications.RoleSlackChannel, Target: "C0PAYOPS", Mode: notifications.ModeSMS, Body: "x"}); err == nil {
			t.Error("a slack-channel message by SMS was accepted")
		}
	})
}
