package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestChangeIncidentRoleIsAtomic(t *testing.T) {
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := db.Store
		bob, err := s.UpsertSlackUser(ctx, models.SlackUser{ID: "W0BOB"})
		if err != nil {
			t.Fatal(err)
		}
		inc, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "Roles"})
		if err != nil {
			t.Fatal(err)
		}
		change := func(inc *models.Incident, holder *models.IncidentRole) (models.Change, error) {
			if holder != nil && holder.UserID == bob.ID {
				return models.Change{}, models.ErrNoChange
			}
			return models.Change{Action: "incident.role", After: "comms:" + bob.ID,
				Timeline: []models.TimelineEvent{{Kind: models.TimelineRoleChange, Text: "bob is comms"}}}, nil
		}
		got, err := s.ChangeIncidentRole(ctx, inc.ID, "Comms", bob.ID, &bob.ID, change)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != inc.Version+1 {
			t.Errorf("version %d, want %d", got.Version, inc.Version+1)
		}
		roles, err := s.Roles(ctx, inc.ID)
		if err != nil || len(roles) != 1 || roles[0].Role != "comms" || roles[0].UserID != bob.ID || roles[0].User == nil {
			t.Fatalf("roles = %+v, %v", roles, err)
		}
		// The holder is seen: nothing to change.
		if _, err := s.ChangeIncidentRole(ctx, inc.ID, "comms", bob.ID, &bob.ID, change); !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("second assignment: %v, want ErrNoChange", err)
		}
		// A role write that fails (an unknown user) rolls the change back.
		if _, err := s.ChangeIncidentRole(ctx, inc.ID, "scribe", "no-such-user", &bob.ID, change); err == nil {
			t.Fatal("assigning a role to an unknown user succeeded")
		}
		after, err := s.IncidentByID(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		tl, err := s.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		audit, err := s.AuditLog(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != got.Version || len(tl) != 2 || len(audit) != 1 {
			t.Errorf("failed assignment left version %d (want %d), %d timeline entries (want 2), %d audit entries (want 1)",
				after.Version, got.Version, len(tl), len(audit))
		}
	})
}

func TestChangeCommsChannelName(t *testing.T) {
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := db.Store
		inc, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "Rename"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimCommsChannel(ctx, inc.ID, "inc-1", false, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteCommsChannel(ctx, inc.ID, "C1", "inc-1"); err != nil {
			t.Fatal(err)
		}
		var seen string
		_, err = s.ChangeCommsChannelName(ctx, inc.ID, "C1", "db-down", nil, func(_ *models.Incident, cc *models.CommsChannel) (models.Change, error) {
			seen = cc.ChannelName
			return models.Change{Action: "incident.rename", Timeline: []models.TimelineEvent{{Kind: models.TimelineRename, Text: "renamed"}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		cc, err := s.CommsChannelFor(ctx, inc.ID)
		if err != nil || cc.ChannelName != "db-down" || seen != "inc-1" {
			t.Fatalf("channel = %+v, %v; apply saw %q", cc, err, seen)
		}
		// Refused: nothing renamed.
		_, err = s.ChangeCommsChannelName(ctx, inc.ID, "C1", "other", nil, func(*models.Incident, *models.CommsChannel) (models.Change, error) {
			return models.Change{}, models.ErrNoChange
		})
		if !errors.Is(err, models.ErrNoChange) {
			t.Fatal(err)
		}
		if cc, _ := s.CommsChannelFor(ctx, inc.ID); cc.ChannelName != "db-down" {
			t.Errorf("a refused rename renamed to %q", cc.ChannelName)
		}
		// Another incident's channel is not this one's.
		if _, err := s.ChangeCommsChannelName(ctx, inc.ID, "C2", "x", nil, func(*models.Incident, *models.CommsChannel) (models.Change, error) {
			return models.Change{}, nil
		}); !models.IsNotFound(err) {
			t.Errorf("renaming a channel the incident does not have: %v", err)
		}
	})
}

func TestAddActionItemOnce(t *testing.T) {
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := db.Store
		inc, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "Follow-ups"})
		if err != nil {
			t.Fatal(err)
		}
		ref := "1773133200.000100"
		add := func() bool {
			t.Helper()
			added, err := s.AddActionItemOnce(ctx, &models.ActionItem{IncidentID: inc.ID, Text: "add an alert"},
				models.TimelineEvent{Kind: models.TimelineAction, Text: "action item added", SourceRef: &ref})
			if err != nil {
				t.Fatal(err)
			}
			return added
		}
		if !add() {
			t.Fatal("first add not added")
		}
		if add() {
			t.Fatal("same source ref added twice")
		}
		items, err := s.ActionItems(ctx, inc.ID)
		if err != nil || len(items) != 1 {
			t.Fatalf("items = %+v, %v", items, err)
		}
		// Without a ref, every call adds; an empty text adds nothing at all.
		if added, err := s.AddActionItemOnce(ctx, &models.ActionItem{IncidentID: inc.ID, Text: "another"}, models.TimelineEvent{Kind: models.TimelineAction, Text: "x"}); err != nil || !added {
			t.Fatalf("add without ref: %v %v", added, err)
		}
		if _, err := s.AddActionItemOnce(ctx, &models.ActionItem{IncidentID: inc.ID, Text: " "}, models.TimelineEvent{Kind: models.TimelineAction, Text: "y"}); !errors.Is(err, models.ErrInvalid) {
			t.Fatalf("empty action item: %v", err)
		}
		tl, err := s.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) != 3 { // declared + two action items
			t.Errorf("%d timeline entries, want 3", len(tl))
		}
	})
}
