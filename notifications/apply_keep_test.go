package notifications_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// TestParseCatalogPersonKeys: a person's contacts and priorities are nil
// only when their key is left out; written, even with no value, they are
// not (the file is the authority on them).
func TestParseCatalogPersonKeys(t *testing.T) {
	for _, tc := range []struct {
		name, src             string
		contactsNil, prioNil  bool
		contacts, prioritiesN int
	}{
		{"absent", "people:\n  - name: ada\n", true, true, 0, 0},
		{"absent in flow", "people: [{name: ada, slack_id: U0ADA}]\n", true, true, 0, 0},
		{"empty", "people:\n  - name: ada\n    contacts: []\n    priorities: {}\n", false, false, 0, 0},
		{"empty in flow", "people: [{name: ada, contacts: [], priorities: {}}]\n", false, false, 0, 0},
		{"no value", "people:\n  - name: ada\n    contacts:\n    priorities:\n", false, false, 0, 0},
		{"null", "people:\n  - name: ada\n    contacts: null\n    priorities: ~\n", false, false, 0, 0},
		{"entries commented out", "people:\n  - name: ada\n    contacts:\n    #  - {mode: sms, destination: \"+447700900123\"}\n  - name: bob\n", false, true, 0, 0},
		{"listed", "people:\n  - name: ada\n    contacts: [{mode: email, destination: ada@example.com}]\n    priorities: {high: [email]}\n", false, false, 1, 1},
		{"quoted keys", "people:\n  - \"name\": ada\n    \"contacts\":\n    'priorities':\n", false, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parseCatalogT(t, tc.src)
			ada := c.People[0]
			if (ada.Contacts == nil) != tc.contactsNil || (ada.Priorities == nil) != tc.prioNil ||
				len(ada.Contacts) != tc.contacts || len(ada.Priorities) != tc.prioritiesN {
				t.Errorf("contacts %#v, priorities %#v", ada.Contacts, ada.Priorities)
			}
			for _, p := range c.People[1:] {
				if p.Contacts != nil || p.Priorities != nil {
					t.Errorf("%s: contacts %#v, priorities %#v", p.Name, p.Contacts, p.Priorities)
				}
			}
		})
	}
	// Without contacts in the file, the database's are unknown: no
	// warning that a preferred mode has none.
	c := parseCatalogT(t, "people:\n  - name: ada\n    priorities: {high: [sms]}\n")
	if warnings, err := c.Validate(nil); err != nil || len(warnings) > 0 {
		t.Errorf("Validate = %v, %v", warnings, err)
	}
}

const keepBase = `
people:
  - name: ada
    slack_id: U0ADA
    contacts:
      - {mode: email, destination: ada@example.com}
    priorities: {low: [slack]}
  - name: bob
    slack_id: U0BOB
`

// keepNoKeys lists the same people with neither contacts nor priorities.
const keepNoKeys = `
people:
  - name: ada
    slack_id: U0ADA
  - name: bob
    slack_id: U0BOB
`

// webPhone adds and verifies ada's phone and sets her preferences the
// way the web UI does; it returns when the phone was verified.
func webPhone(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) (ada *models.Person, verifiedAt time.Time) {
	t.Helper()
	ctx := context.Background()
	ada, err := db.Store.PersonByName(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	by := models.Actor{Name: "ada"}
	cm, err := db.Store.AddContactMethod(ctx, by, ada.ID, "sms", "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := db.Store.SetVerificationCode(ctx, cm.ID, "123456"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := db.Store.VerifyContact(ctx, cm.ID, "123456"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.SetGlobalPriorityModes(ctx, by, ada.ID, map[string][]string{"high": {"sms", "slack"}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	return ada, clock.Now().Add(-time.Hour).UTC()
}

// adaState is ada's contact methods ("mode verified-at") and global
// preferences (priority → modes).
func adaState(t *testing.T, db *testdb.DB, ada *models.Person) (contacts []string, prefs map[string]string) {
	t.Helper()
	ctx := context.Background()
	cms, err := db.Store.ContactMethodsOf(ctx, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms {
		at := "unverified"
		if cm.VerifiedAt != nil {
			at = cm.VerifiedAt.UTC().Format(time.RFC3339)
		}
		contacts = append(contacts, cm.Mode+" "+at)
	}
	pms, err := db.Store.PriorityModesOf(ctx, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	prefs = map[string]string{}
	for _, pm := range pms {
		if pm.Application == "" {
			prefs[pm.Priority] = pm.Modes
		}
	}
	return contacts, prefs
}

func changeStrings(r *notifications.Report) []string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.String())
	}
	return out
}

// TestApplyKeepsWebContactsWithoutKeys: a person entry with no contacts
// (priorities) key leaves the phone verified on the web (priorities set
// there) alone, in a dry run and for real; an export applies back as is.
func TestApplyKeepsWebContactsWithoutKeys(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		applyYAML(t, db.Store, keepBase, notifications.ApplyOptions{})
		ada, verifiedAt := webPhone(t, db, clock)
		web := []string{"email unverified", "sms " + verifiedAt.Format(time.RFC3339)}
		webPrefs := map[string]string{"low": "slack", "high": "sms,slack"}
		check := func(when string) {
			t.Helper()
			contacts, prefs := adaState(t, db, ada)
			if !reflect.DeepEqual(contacts, web) || !reflect.DeepEqual(prefs, webPrefs) {
				t.Errorf("%s: contacts %v, prefs %v; want %v, %v", when, contacts, prefs, web, webPrefs)
			}
		}
		check("set on the web")
		before := configRows(t, db)

		for _, dry := range []bool{true, false} {
			r := applyYAML(t, db.Store, keepNoKeys, notifications.ApplyOptions{DryRun: dry})
			if r.Changed() || r.People != (notifications.Counts{Unchanged: 2}) {
				t.Errorf("applying without the keys (dry run %v):\n%s", dry, r)
			}
			check("after applying a file without the keys")
		}
		// application_priorities stays the file's (only files set it)
		// without touching the global preferences.
		withApp := strings.Replace(keepNoKeys, "slack_id: U0ADA\n", "slack_id: U0ADA\n    application_priorities: {grafana: {high: [sms]}}\n", 1)
		for _, src := range []string{withApp, keepNoKeys} {
			r := applyYAML(t, db.Store, src, notifications.ApplyOptions{})
			if got := changeStrings(r); !reflect.DeepEqual(got, []string{"~ person ada: priorities"}) {
				t.Errorf("changes = %v", got)
			}
			check("after applying application_priorities")
		}
		if got := configRows(t, db); !reflect.DeepEqual(got, before) {
			t.Errorf("rows %v, then %v", before, got)
		}

		// Export → apply (even with --prune) changes nothing; the export
		// writes the keys, empty ones too.
		exported := exportYAML(t, db.Store, true)
		for _, want := range []string{"contacts: []", "priorities: {}", `destination: "+447700900123"`, "verified: true"} {
			if !strings.Contains(exported, want) {
				t.Errorf("export lacks %q:\n%s", want, exported)
			}
		}
		if r := applyYAML(t, db.Store, exported, notifications.ApplyOptions{Prune: true}); r.Changed() || len(r.Prunable) > 0 {
			t.Errorf("applying the export:\n%s", r)
		}
		check("after applying the export")
		if again := exportYAML(t, db.Store, true); again != exported {
			t.Errorf("export → apply → export differs:\n%s\n---- then ----\n%s", exported, again)
		}
	})
}

// TestApplyExplicitKeysRule: a contacts (priorities) key written makes the
// file's list the whole list, even an empty one; a dry run says so and
// writes nothing.
func TestApplyExplicitKeysRule(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		applyYAML(t, db.Store, keepBase, notifications.ApplyOptions{})
		ada, verifiedAt := webPhone(t, db, clock)

		// A list replaces: the web's phone is matched (keeping when it was
		// verified), the address the file no longer has goes.
		listed := strings.Replace(keepBase, "- {mode: email, destination: ada@example.com}", `- {mode: sms, destination: "+447700900123"}`, 1)
		r := applyYAML(t, db.Store, listed, notifications.ApplyOptions{})
		if got, want := changeStrings(r), []string{"~ person ada: contacts (-email), priorities"}; !reflect.DeepEqual(got, want) {
			t.Errorf("changes = %v, want %v", got, want)
		}
		contacts, prefs := adaState(t, db, ada)
		if want := []string{"sms " + verifiedAt.Format(time.RFC3339)}; !reflect.DeepEqual(contacts, want) || !reflect.DeepEqual(prefs, map[string]string{"low": "slack"}) {
			t.Errorf("after a list: contacts %v, prefs %v", contacts, prefs)
		}

		// Empty keys remove everything; the dry run plans exactly that.
		empty := strings.Replace(keepNoKeys, "slack_id: U0ADA\n", "slack_id: U0ADA\n    contacts: []\n    priorities: {}\n", 1)
		before := configRows(t, db)
		r = applyYAML(t, db.Store, empty, notifications.ApplyOptions{DryRun: true})
		want := []string{"~ person ada: contacts (-sms), priorities"}
		if got := changeStrings(r); !reflect.DeepEqual(got, want) || r.People != (notifications.Counts{Updated: 1, Unchanged: 1}) {
			t.Errorf("dry run: %v, want %v\n%s", got, want, r)
		}
		if got := configRows(t, db); !reflect.DeepEqual(got, before) {
			t.Errorf("dry run wrote: %v, then %v", before, got)
		}
		if r := applyYAML(t, db.Store, empty, notifications.ApplyOptions{}); !reflect.DeepEqual(changeStrings(r), want) {
			t.Errorf("apply: %v", changeStrings(r))
		}
		if contacts, prefs := adaState(t, db, ada); len(contacts) != 0 || len(prefs) != 0 {
			t.Errorf("after empty keys: contacts %v, prefs %v", contacts, prefs)
		}

		// A key with no value (every entry commented out) is empty too.
		applyYAML(t, db.Store, keepBase, notifications.ApplyOptions{})
		commented := strings.Replace(keepBase, "      - {mode: email", "      # - {mode: email", 1)
		if r := applyYAML(t, db.Store, commented, notifications.ApplyOptions{}); !reflect.DeepEqual(changeStrings(r), []string{"~ person ada: contacts (-email)"}) {
			t.Errorf("commented-out contacts: %v", changeStrings(r))
		}
	})
}
