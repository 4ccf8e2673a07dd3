package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// fakeLinks issues a fixed link and remembers for whom.
type fakeLinks struct {
	users, names []string
	err          error
}

const secretLink = "https://herald.test/login/link/hlog_secretsecret"

func (f *fakeLinks) ForSlackUser(_ context.Context, id, name string) (string, error) {
	f.users, f.names = append(f.users, id), append(f.names, name)
	return secretLink, f.err
}

func TestLoginCommandDMsALink(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			links := &fakeLinks{}
			var logs bytes.Buffer
			r := newCmdRig(t, d, func(deps *handlers.Deps) {
				deps.LoginLinks = links
				deps.Log = slog.New(testlog.Wrap(t, slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			})
			if _, err := r.store.UpsertSlackUser(r.ctx, models.SlackUser{ID: alice, DisplayName: "Alice A."}); err != nil {
				t.Fatal(err)
			}
			// Any channel: not only an incident's.
			general := r.fake.AddChannel("general", false)
			if err := r.sayIn(general, alice, r.ts(), "", "login"); err != nil {
				t.Fatal(err)
			}
			if len(links.users) != 1 || links.users[0] != alice || links.names[0] != "Alice A." {
				t.Fatalf("links issued for %v %v", links.users, links.names)
			}
			dms := r.fake.Messages(slackfake.DMChannelID(alice))
			if len(dms) != 1 || !strings.Contains(dms[0].Text, secretLink) {
				t.Fatalf("DMs to alice = %+v", dms)
			}
			post := r.fake.Calls("chat.postMessage")
			if len(post) != 1 || post[0].Param("channel") != alice || post[0].Param("unfurl_links") != "false" {
				t.Fatalf("postMessage calls = %+v", post)
			}
			reply := r.reply(alice)
			if reply.Param("channel") != general || !strings.Contains(reply.Param("text"), "I sent you a sign-in link in a DM") || strings.Contains(reply.Param("text"), "hlog_") {
				t.Fatalf("ephemeral = %v", reply.Params)
			}
			if strings.Contains(logs.String(), "hlog_") {
				t.Fatalf("the link reached the log:\n%s", logs.String())
			}
			// In an incident's channel too, in a thread.
			if err := r.sayIn(r.channel, bob, r.ts(), "1773324000.000100", "login"); err != nil {
				t.Fatal(err)
			}
			if reply := r.reply(bob); reply.Param("thread_ts") != "1773324000.000100" {
				t.Fatalf("thread reply = %v", reply.Params)
			}
			if len(r.fake.Messages(slackfake.DMChannelID(bob))) != 1 {
				t.Fatal("bob got no DM")
			}
		})
	}
}

func TestLoginCommandWithoutWebPages(t *testing.T) {
	r := newCmdRig(t, testdb.Dialects[0])
	if err := r.sayIn(r.channel, alice, r.ts(), "", "login"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.reply(alice).Param("text"), "not set up") || len(r.fake.Calls("chat.postMessage")) != 0 {
		t.Fatal("without login links: want a private explanation and no DM")
	}
	// A failing link store is an error (retried), with no DM sent.
	links := &fakeLinks{err: errors.New("db down")}
	r = newCmdRig(t, testdb.Dialects[0], func(deps *handlers.Deps) { deps.LoginLinks = links })
	if err := r.sayIn(r.channel, alice, r.ts(), "", "login"); err == nil || len(r.fake.Calls("chat.postMessage")) != 0 {
		t.Fatalf("failing links: %v", err)
	}
}
