package models_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func webPerson(t *testing.T, db *testdb.DB, name string) *models.Person {
	t.Helper()
	p := &models.Person{ID: uuid.NewString(), Name: name, Active: true, CreatedAt: t0, UpdatedAt: t0}
	if err := db.Gorm.Create(p).Error; err != nil {
		t.Fatal(err)
	}
	return p
}

func audits(t *testing.T, db *testdb.DB, action string) []models.AuditEntry {
	t.Helper()
	out, _, err := db.Store.ListAudit(context.Background(), models.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWebContactMethods(t *testing.T) {
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		ada, bob := webPerson(t, db, "ada"), webPerson(t, db, "bob")
		by := models.Actor{Name: "web:ada"}
		const phone = "+447700900123"
		cm, err := s.AddContactMethod(ctx, by, ada.ID, "sms", phone)
		if err != nil {
			t.Fatal(err)
		}
		if cm.VerifiedAt != nil {
			t.Fatal("a phone added from the web must start unverified")
		}
		// Stored sealed: the raw column holds no digits of the number.
		raw := rawColumn(t, db, "contact_methods", "destination", cm.ID)
		if len(raw) == 0 || bytes.Contains(raw, []byte("7700900123")) || !db.Cipher.SealedWithPrimary(raw) {
			t.Fatalf("destination stored as %q, want sealed", raw)
		}
		if _, err := s.AddContactMethod(ctx, by, ada.ID, "sms", phone); !errors.Is(err, models.ErrDuplicateContact) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := s.AddContactMethod(ctx, by, ada.ID, "call", phone); err != nil {
			t.Fatalf("the same number for calls: %v", err)
		}
		for _, a := range append(audits(t, db, "person.contact.add"), audits(t, db, "person.contact.remove")...) {
			if strings.Contains(a.Before+a.After, "900123") || a.Subject != "person:"+ada.ID {
				t.Fatalf("audit entry %+v reveals the number or names the wrong subject", a)
			}
		}
		if got := audits(t, db, "person.contact.add"); len(got) != 2 || got[1].After != "sms +44 •••• ••01 23" || got[1].Actor != "web:ada" {
			t.Fatalf("audit = %+v", got)
		}

		if _, err := s.RemoveContactMethod(ctx, by, bob.ID, cm.ID); !errors.Is(err, models.ErrContactNotOfPerson) {
			t.Fatalf("removing ada's contact as bob's: %v", err)
		}
		if _, err := s.RemoveContactMethod(ctx, by, ada.ID, cm.ID); err != nil {
			t.Fatal(err)
		}
		if got := audits(t, db, "person.contact.remove"); len(got) != 1 || got[0].Before != "sms +44 •••• ••01 23" {
			t.Fatalf("remove audit = %+v", got)
		}
		for i := 0; i < models.MaxContactMethods-1; i++ {
			if _, err := s.AddContactMethod(ctx, by, bob.ID, "email", "bob"+string(rune('a'+i))+"@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddContactMethod(ctx, by, bob.ID, "email", "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddContactMethod(ctx, by, bob.ID, "email", "bob2@example.com"); !errors.Is(err, models.ErrTooManyContacts) {
			t.Fatalf("one too many: %v", err)
		}

		// The people list counts them.
		team := &models.Team{ID: uuid.NewString(), Name: "payments", CreatedAt: t0, UpdatedAt: t0}
		if err := db.Gorm.Create(team).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Create(&models.TeamMember{TeamID: team.ID, PersonID: ada.ID}).Error; err != nil {
			t.Fatal(err)
		}
		now := t0
		if err := db.Gorm.Model(&models.ContactMethod{}).Where("person_id = ?", ada.ID).Update("verified_at", now).Error; err != nil {
			t.Fatal(err)
		}
		sums, err := s.PeopleSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != 2 || sums[0].Name != "ada" || sums[0].Contacts != 1 || sums[0].Verified != 1 || strings.Join(sums[0].Teams, ",") != "payments" ||
			sums[1].Contacts != models.MaxContactMethods || sums[1].Verified != 0 || len(sums[1].Teams) != 0 {
			t.Fatalf("summaries = %+v", sums)
		}
		teams, err := s.PersonOncallTeams(ctx, ada.ID)
		if err != nil || len(teams) != 1 || teams[0].Name != "payments" {
			t.Fatalf("on-call teams of a member = %+v, %v", teams, err)
		}
		if err := db.Gorm.Create(&models.OncallAssignment{TeamID: team.ID, Role: "primary", PersonID: bob.ID}).Error; err != nil {
			t.Fatal(err)
		}
		if teams, err := s.PersonOncallTeams(ctx, bob.ID); err != nil || len(teams) != 1 {
			t.Fatalf("on-call teams of a static on-call = %+v, %v", teams, err)
		}
	})
}

func TestWebPendingVerifications(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		ada := webPerson(t, db, "ada")
		cm, err := s.AddContactMethod(ctx, models.Actor{Name: "t"}, ada.ID, "sms", "+15550100001")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.PendingVerifications(ctx, ada.ID); err != nil || len(got) != 0 {
			t.Fatalf("before a code: %+v %v", got, err)
		}
		if err := s.SetVerificationCode(ctx, cm.ID, "123456"); err != nil {
			t.Fatal(err)
		}
		_ = s.VerifyContact(ctx, cm.ID, "000000")
		got, err := s.PendingVerifications(ctx, ada.ID)
		if err != nil || got[cm.ID].TriesLeft != models.MaxVerificationAttempts-1 || !got[cm.ID].ExpiresAt.Equal(clock.Now().Add(models.VerificationCodeTTL)) {
			t.Fatalf("pending = %+v %v", got, err)
		}
		if err := s.VerifyContact(ctx, cm.ID, "123456"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PendingVerifications(ctx, ada.ID); err != nil || len(got) != 0 {
			t.Fatalf("after verifying: %+v %v", got, err)
		}
	})
}

func TestWebPriorityModes(t *testing.T) {
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		ada := webPerson(t, db, "ada")
		by := models.Actor{Name: "web:ada"}
		if err := db.Gorm.Create(&models.PriorityMode{PersonID: ada.ID, Priority: "high", Application: "grafana", Modes: "call"}).Error; err != nil {
			t.Fatal(err)
		}
		changed, err := s.SetGlobalPriorityModes(ctx, by, ada.ID, map[string][]string{"low": {"slack"}, "high": {"sms", "call"}, "urgent": nil})
		if err != nil || !changed {
			t.Fatalf("first save: %v %v", changed, err)
		}
		if changed, err := s.SetGlobalPriorityModes(ctx, by, ada.ID, map[string][]string{"low": {"slack"}, "high": {"sms", "call"}}); err != nil || changed {
			t.Fatalf("same again: %v %v", changed, err)
		}
		if _, err := s.SetGlobalPriorityModes(ctx, by, ada.ID, map[string][]string{"low": nil, "high": {"call"}}); err != nil {
			t.Fatal(err)
		}
		modes, err := s.PriorityModes(ctx, ada.ID, "high", "")
		if err != nil || strings.Join(modes, ",") != "call" {
			t.Fatalf("high = %v %v", modes, err)
		}
		if modes, _ := s.PriorityModes(ctx, ada.ID, "low", ""); modes != nil {
			t.Fatalf("low = %v, want none (defaults)", modes)
		}
		all, err := s.PriorityModesOf(ctx, ada.ID)
		if err != nil || len(all) != 2 || all[0].Application != "" || all[1].Application != "grafana" {
			t.Fatalf("all = %+v %v", all, err)
		}
		got := audits(t, db, "person.preferences")
		if len(got) != 2 || got[1].Before != "" || got[1].After != "high=sms,call low=slack" || got[0].After != "high=call" {
			t.Fatalf("audit = %+v", got)
		}
	})
}

func TestWebAllowance(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC))
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		clock.Set(time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC))
		ctx, s := context.Background(), db.Store
		ok, _, err := s.TakeWebAllowance(ctx, "test-page:a", time.Minute)
		if err != nil || !ok {
			t.Fatalf("first: %v %v", ok, err)
		}
		if ok, _, _ := s.TakeWebAllowance(ctx, "test-page:b", time.Minute); !ok {
			t.Fatal("another key is limited apart")
		}
		clock.Advance(30 * time.Second)
		ok, next, err := s.TakeWebAllowance(ctx, "test-page:a", time.Minute)
		if err != nil || ok || !next.Equal(time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)) {
			t.Fatalf("within the minute: %v %v %v", ok, next, err)
		}
		clock.Advance(20 * time.Second)
		if ok, _, _ := s.TakeWebAllowance(ctx, "test-page:a", time.Minute); !ok {
			t.Fatal("next minute: refused")
		}
	})
}

func TestPersonMessages(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		ada := webPerson(t, db, "ada")
		inc, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "Checkout down", Severity: models.SEV2})
		if err != nil {
			t.Fatal(err)
		}
		now := clock.Now()
		msgs := []models.Message{
			{IncidentID: &inc.ID, PersonID: &ada.ID, Role: "user", Target: "ada", Mode: "sms", Priority: "high", Subject: "s", Body: "b", Status: models.MessageQueued, NotBefore: now, CreatedAt: now},
			{PersonID: &ada.ID, Role: "user", Target: "ada", Mode: "email", Priority: "low", Subject: "Herald test page", Body: "b", OutOfBand: true, Status: models.MessageQueued, NotBefore: now, CreatedAt: now},
		}
		if err := s.QueueMessages(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		got, total, err := s.PersonMessages(ctx, ada.ID, 1, 0)
		if err != nil || total != 2 || len(got) != 1 || !got[0].OutOfBand || got[0].Subject != "Herald test page" || got[0].IncidentNumber != nil {
			t.Fatalf("first page = %+v %d %v", got, total, err)
		}
		got, _, err = s.PersonMessages(ctx, ada.ID, 1, 1)
		if err != nil || len(got) != 1 || got[0].IncidentNumber == nil || *got[0].IncidentNumber != inc.Number || got[0].IncidentTitle != "Checkout down" || got[0].Subject != "" || got[0].Mode != "sms" {
			t.Fatalf("second page = %+v %v", got, err)
		}
	})
}

func TestWebUserAdminGuards(t *testing.T) {
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		by := models.Actor{Name: "web:root"}
		root, err := s.UpsertWebUser(ctx, models.WebUser{Subject: "link:root", Name: "root", Role: models.WebRoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ChangeWebUserRole(ctx, by, root.ID, models.WebRoleMember, nil); !errors.Is(err, models.ErrLastAdmin) {
			t.Fatalf("demoting the last admin: %v", err)
		}
		if err := s.SetWebUserDisabled(ctx, by, root.ID, true); !errors.Is(err, models.ErrLastAdmin) {
			t.Fatalf("disabling the last admin: %v", err)
		}
		other, err := s.UpsertWebUser(ctx, models.WebUser{Subject: "link:other", Name: "other", Role: models.WebRoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetWebUserDisabled(ctx, by, other.ID, true); err != nil {
			t.Fatal(err)
		}
		// A disabled admin does not count.
		if err := s.ChangeWebUserRole(ctx, by, root.ID, models.WebRoleMember, nil); !errors.Is(err, models.ErrLastAdmin) {
			t.Fatalf("demoting the last enabled admin: %v", err)
		}
		if err := s.SetWebUserDisabled(ctx, by, other.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := s.ChangeWebUserRole(ctx, by, root.ID, models.WebRoleMember, nil); err != nil {
			t.Fatalf("demoting with another admin: %v", err)
		}
		got, err := s.WebUserByID(ctx, root.ID)
		if err != nil || got.Role != models.WebRoleMember {
			t.Fatalf("root = %+v %v", got, err)
		}
		// Disabling signs out.
		token, _, err := s.CreateWebSession(ctx, root.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetWebUserDisabled(ctx, by, root.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.WebSessionByToken(ctx, token); !errors.Is(err, models.ErrLoginRefused) {
			t.Fatalf("session of a disabled user: %v", err)
		}
		if n := count(t, db, "web_sessions"); n != 0 {
			t.Fatalf("%d sessions left", n)
		}
		if got := audits(t, db, "web_user.disable"); len(got) != 2 {
			t.Fatalf("disable audits = %+v", got)
		}

		ada := webPerson(t, db, "ada")
		if err := s.LinkWebUser(ctx, by, other.ID, &ada.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkWebUser(ctx, by, other.ID, nil); err != nil {
			t.Fatal(err)
		}
		if got := audits(t, db, "web_user.person"); len(got) != 2 || got[1].After != "ada" || got[0].Before != "ada" || got[0].After != "" {
			t.Fatalf("link audits = %+v", got)
		}
		admins, err := s.WebTeamAdmins(ctx)
		if err != nil || len(admins) != 0 {
			t.Fatalf("team admins = %v %v", admins, err)
		}
	})
}

func TestMaskDestination(t *testing.T) {
	for _, tc := range []struct{ mode, dest, want string }{
		{"sms", "+447700901234", "+44 •••• ••12 34"},
		{"call", "+15550100001", "+1 •••• ••00 01"},
		{"sms", "+4930123", "+49 •01 23"},
		{"sms", "07700 900123", "07•••23"},
		{"email", "alice@example.com", "a•••@example.com"},
		{"email", "not-an-address", "no•••ss"},
		{"slack", "U0123ABCD", "U0•••CD"},
		{"slack", "U1", "••••"},
		{"email", "é@x.org", "é•••@x.org"},
	} {
		if got := models.MaskDestination(tc.mode, tc.dest); got != tc.want {
			t.Errorf("MaskDestination(%s, %q) = %q, want %q", tc.mode, tc.dest, got, tc.want)
		}
	}
}

// FuzzMaskDestination: masking never fails, always returns valid UTF-8
// and never shows a destination longer than six characters whole.
func FuzzMaskDestination(f *testing.F) {
	for _, s := range []string{"+447700901234", "alice@example.com", "U0123ABCD", "", "@", "a@b@c", "+1234567890123456"} {
		f.Add("sms", s)
		f.Add("email", s)
	}
	f.Fuzz(func(t *testing.T, mode, dest string) {
		got := models.MaskDestination(mode, dest)
		if !utf8.ValidString(got) && utf8.ValidString(dest) {
			t.Fatalf("invalid UTF-8 from %q: %q", dest, got)
		}
		if utf8.RuneCountInString(dest) > 6 && strings.Contains(got, dest) {
			t.Fatalf("%q shown whole: %q", dest, got)
		}
	})
}
