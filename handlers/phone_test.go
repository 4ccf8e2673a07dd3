package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// phonePager records how the phone actions stop paging.
type phonePager struct {
	err   error // what Claim and Resolve return
	calls []string
}

func (p *phonePager) Escalate(context.Context, int64, string) error { return errors.New("not used") }
func (p *phonePager) Unclaim(context.Context, int64) error          { return errors.New("not used") }
func (p *phonePager) PagePeople(context.Context, int64, string, string, string, string, string) (int, error) {
	return 0, errors.New("not used")
}
func (p *phonePager) Claim(_ context.Context, id int64, by string) error {
	p.calls = append(p.calls, fmt.Sprintf("claim %d by %s", id, by))
	return p.err
}
func (p *phonePager) Resolve(_ context.Context, id int64, by string) error {
	p.calls = append(p.calls, fmt.Sprintf("resolve %d by %s", id, by))
	return p.err
}

// brokenUsers fails to look Slack users up.
type brokenUsers struct{ Store }

func (brokenUsers) UserBySlackID(context.Context, string) (*models.ExternalUser, error) {
	return nil, errors.New("database down")
}

// phoneRig is an open incident (reported by U0REPORTER, led by U0LEAD)
// and phone actions on a real database.
type phoneRig struct {
	ctx   context.Context
	store *models.Store
	inc   *models.Incident
	pager *phonePager
}

const (
	phoneKnown    = "U0KNOWN" // has used Herald in Slack (as "known.sre")
	phoneNewSlack = "U0NEWSLACK"
	phoneLead     = "U0LEAD"
)

func newPhoneRig(t *testing.T, dialect string) *phoneRig {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.New(t, dialect, clock)
	r := &phoneRig{ctx: context.Background(), store: db.Store, pager: &phonePager{}}
	reporter, err := r.store.UpsertSlackUser(r.ctx, models.SlackUser{ID: "U0REPORTER"})
	phoneCheck(t, err)
	lead, err := r.store.UpsertSlackUser(r.ctx, models.SlackUser{ID: phoneLead, DisplayName: "lead"})
	phoneCheck(t, err)
	_, err = r.store.UpsertSlackUser(r.ctx, models.SlackUser{ID: phoneKnown, DisplayName: "known.sre"})
	phoneCheck(t, err)
	r.inc, _, err = r.store.CreateIncident(r.ctx, models.NewIncident{Title: "Checkout is down", Severity: models.SEV2, ReporterID: &reporter.ID, LeadID: &lead.ID})
	phoneCheck(t, err)
	return r
}

func phoneCheck(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (r *phoneRig) deps(t testing.TB, clock models.Clock) Deps {
	return Deps{Store: r.store, Clock: clock, Log: testlog.Logger(t), Pager: r.pager,
		Settings: Settings{BaseURL: "https://herald.test", IncidentChannelName: "incidents"}}
}

func phonePerson(name, full string, slackID *string) *models.Person {
	return &models.Person{ID: uuid.NewString(), Name: name, FullName: full, SlackUserID: slackID, Active: true}
}

func phoneStr(s string) *string { return &s }

// timelineOf lists an incident's timeline entries of a kind as "text
// [author]".
func (r *phoneRig) timelineOf(t *testing.T, kind models.TimelineKind) []string {
	t.Helper()
	tl, err := r.store.Timeline(r.ctx, r.inc.ID)
	phoneCheck(t, err)
	var out []string
	for _, e := range tl {
		if e.Kind == kind {
			author := ""
			if e.Author != nil {
				author = e.Author.SlackUserID
			}
			out = append(out, e.Text+" ["+author+"]")
		}
	}
	return out
}

func (r *phoneRig) notices(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	phoneCheck(t, db.Table("jobs").Where("kind = ?", JobCommsNotice).Count(&n).Error)
	return n
}

func TestPhoneClaim(t *testing.T) {
	cases := []struct {
		name     string
		by       *models.Person
		via      string                                          // "" uses Claim (by phone)
		before   func(t *testing.T, r *phoneRig, p PhoneActions) // state before the claim
		noPager  bool
		pagerErr error
		broken   bool // the Slack user lookup fails
		wantErr  error
		timeline string // the acknowledgement's text and author
		pager    string // the paging stop, "" for none
		newUser  string // a Slack user that must now exist with this display name
	}{
		{name: "Slack user Herald knows", by: phonePerson("kim", "Kim Known", phoneStr(phoneKnown)),
			timeline: "Acknowledged by <@U0KNOWN> [U0KNOWN]", pager: "claim %d by known.sre"},
		{name: "Slack user Herald has not seen", by: phonePerson("nia", "Nia New", phoneStr(phoneNewSlack)),
			timeline: "Acknowledged by <@U0NEWSLACK> [U0NEWSLACK]", pager: "claim %d by Nia New", newUser: "Nia New"},
		{name: "no Slack identity", by: phonePerson("pat", "Pat Phone", nil),
			timeline: "Acknowledged by Pat Phone (by phone) []", pager: "claim %d by Pat Phone"},
		{name: "empty Slack id", by: phonePerson("pat", "Pat Phone", phoneStr("")),
			timeline: "Acknowledged by Pat Phone (by phone) []", pager: "claim %d by Pat Phone"},
		{name: "no full name", by: phonePerson("pat", "", nil),
			timeline: "Acknowledged by pat (by phone) []", pager: "claim %d by pat"},
		{name: "nobody known", by: nil,
			timeline: "Acknowledged by someone (by phone) []", pager: "claim %d by someone"},
		{name: "by e-mail link", by: phonePerson("pat", "Pat Phone", nil), via: "by e-mail link",
			timeline: "Acknowledged by Pat Phone (by e-mail link) []", pager: "claim %d by Pat Phone"},
		{name: "paging not configured", by: phonePerson("pat", "Pat Phone", nil), noPager: true,
			timeline: "Acknowledged by Pat Phone (by phone) []"},
		{name: "escalation already stopped", by: phonePerson("pat", "Pat Phone", nil), pagerErr: models.ErrNoChange,
			timeline: "Acknowledged by Pat Phone (by phone) []", pager: "claim %d by Pat Phone"},
		{name: "never escalated", by: phonePerson("pat", "Pat Phone", nil), pagerErr: fmt.Errorf("loading escalation: %w", gorm.ErrRecordNotFound),
			timeline: "Acknowledged by Pat Phone (by phone) []", pager: "claim %d by Pat Phone"},
		{name: "the engine fails", by: phonePerson("pat", "Pat Phone", nil), pagerErr: errors.New("engine down"), wantErr: errors.New("engine down"),
			timeline: "Acknowledged by Pat Phone (by phone) []", pager: "claim %d by Pat Phone"},
		{name: "already acknowledged", by: phonePerson("pat", "Pat Phone", nil), wantErr: models.ErrNoChange,
			before: func(t *testing.T, r *phoneRig, p PhoneActions) {
				phoneCheck(t, p.Claim(r.ctx, r.inc.ID, phonePerson("kim", "Kim Known", phoneStr(phoneKnown))))
				r.pager.calls = nil
			},
			timeline: "Acknowledged by <@U0KNOWN> [U0KNOWN]"},
		{name: "closed", by: phonePerson("pat", "Pat Phone", nil), wantErr: models.ErrNoChange,
			before: func(t *testing.T, r *phoneRig, p PhoneActions) {
				phoneCheck(t, p.Resolve(r.ctx, r.inc.ID, phonePerson("lee", "Lee Lead", phoneStr(phoneLead))))
				r.pager.calls = nil
			}},
		{name: "the Slack user lookup fails", by: phonePerson("kim", "Kim Known", phoneStr(phoneKnown)), broken: true, wantErr: errors.New("database down")},
	}
	for _, dialect := range testdb.Dialects {
		for _, tc := range cases {
			t.Run(dialect+"/"+tc.name, func(t *testing.T) {
				r := newPhoneRig(t, dialect)
				clock := fakeclock.New(time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC))
				d := r.deps(t, clock)
				r.pager.err = tc.pagerErr
				if tc.noPager {
					d.Pager = nil
				}
				if tc.before != nil {
					tc.before(t, r, NewPhoneActions(d))
				}
				if tc.broken {
					d.Store = brokenUsers{r.store}
				}
				notices := r.notices(t, r.store.DB())
				p := NewPhoneActions(d)
				var err error
				if tc.via == "" {
					err = p.Claim(r.ctx, r.inc.ID, tc.by)
				} else {
					err = p.ClaimVia(r.ctx, r.inc.ID, tc.by, tc.via)
				}
				if (err == nil) != (tc.wantErr == nil) || (err != nil && !errors.Is(err, tc.wantErr) && err.Error() != tc.wantErr.Error()) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				got := r.timelineOf(t, models.TimelineAcknowledged)
				if tc.timeline == "" && len(got) != 0 || tc.timeline != "" && (len(got) != 1 || got[0] != tc.timeline) {
					t.Errorf("acknowledgements %q, want %q", got, tc.timeline)
				}
				inc, err := r.store.IncidentByID(r.ctx, r.inc.ID)
				phoneCheck(t, err)
				if (inc.AcknowledgedAt != nil) != (tc.timeline != "") {
					t.Errorf("acknowledged at %v", inc.AcknowledgedAt)
				}
				// A claim that changed the incident tells its channel.
				changed := tc.timeline != "" && (tc.wantErr == nil || !errors.Is(tc.wantErr, models.ErrNoChange))
				if n := r.notices(t, r.store.DB()) - notices; (n == 1) != changed || n > 1 {
					t.Errorf("%d new notices, want changed=%v", n, changed)
				}
				want := []string(nil)
				if tc.pager != "" {
					want = []string{fmt.Sprintf(tc.pager, r.inc.ID)}
				}
				if strings.Join(r.pager.calls, ";") != strings.Join(want, ";") {
					t.Errorf("paging %q, want %q", r.pager.calls, want)
				}
				if tc.newUser != "" {
					u, err := r.store.UserBySlackID(r.ctx, *tc.by.SlackUserID)
					if err != nil || u.DisplayName != tc.newUser {
						t.Errorf("new Slack user %+v, %v; want named %q", u, err, tc.newUser)
					}
				}
			})
		}
	}
}

func TestPhoneResolve(t *testing.T) {
	cases := []struct {
		name     string
		by       *models.Person
		restrict bool // only the lead may close
		before   func(t *testing.T, r *phoneRig, p PhoneActions)
		broken   bool
		wantErr  error  // errors.Is, or the same message
		usage    string // a *bot.UsageError with this message
		closedBy string // the Slack user the incident is closed by, "" when still open
		pager    string
	}{
		{name: "Slack user Herald knows", by: phonePerson("kim", "Kim Known", phoneStr(phoneKnown)), closedBy: phoneKnown, pager: "resolve %d by known.sre"},
		{name: "Slack user Herald has not seen", by: phonePerson("nia", "Nia New", phoneStr(phoneNewSlack)), closedBy: phoneNewSlack, pager: "resolve %d by Nia New"},
		{name: "no Slack identity", by: phonePerson("pat", "Pat Phone", nil),
			usage: "Resolving by phone needs your Herald profile linked to Slack; close the incident in Slack."},
		{name: "nobody known", by: nil, usage: "Resolving by phone needs your Herald profile linked to Slack; close the incident in Slack."},
		{name: "only the lead may close", by: phonePerson("kim", "Kim Known", phoneStr(phoneKnown)), restrict: true,
			usage: "Only the incident's lead may close it."},
		{name: "the lead may", by: phonePerson("lee", "Lee Lead", phoneStr(phoneLead)), restrict: true, closedBy: phoneLead, pager: "resolve %d by lead"},
		{name: "already closed", by: phonePerson("kim", "Kim Known", phoneStr(phoneKnown)), wantErr: models.ErrNoChange, closedBy: phoneLead,
			before: func(t *testing.T, r *phoneRig, p PhoneActions) {
				phoneCheck(t, p.Resolve(r.ctx, r.inc.ID, phonePerson("lee", "Lee Lead", phoneStr(phoneLead))))
				r.pager.calls = nil
			}},
		{name: "the Slack user lookup fails", by: phonePerson("kim", "Kim Known", phoneStr(phoneKnown)), broken: true, wantErr: errors.New("database down")},
	}
	for _, dialect := range testdb.Dialects {
		for _, tc := range cases {
			t.Run(dialect+"/"+tc.name, func(t *testing.T) {
				r := newPhoneRig(t, dialect)
				d := r.deps(t, fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)))
				d.Settings.RestrictClose = tc.restrict
				if tc.before != nil {
					tc.before(t, r, NewPhoneActions(d))
				}
				if tc.broken {
					d.Store = brokenUsers{r.store}
				}
				err := NewPhoneActions(d).Resolve(r.ctx, r.inc.ID, tc.by)
				var usage *bot.UsageError
				switch {
				case tc.usage != "":
					if !errors.As(err, &usage) || usage.Message != tc.usage {
						t.Fatalf("err = %v, want usage %q", err, tc.usage)
					}
				case tc.wantErr != nil:
					if err == nil || (!errors.Is(err, tc.wantErr) && err.Error() != tc.wantErr.Error()) {
						t.Fatalf("err = %v, want %v", err, tc.wantErr)
					}
				case err != nil:
					t.Fatal(err)
				}
				inc, err := r.store.IncidentByID(r.ctx, r.inc.ID)
				phoneCheck(t, err)
				closedBy := ""
				if inc.ResolvedBy != nil {
					closedBy = inc.ResolvedBy.SlackUserID
				}
				if inc.IsOpen() != (tc.closedBy == "") || closedBy != tc.closedBy {
					t.Errorf("status %s, closed by %q; want closed by %q", inc.Status, closedBy, tc.closedBy)
				}
				want := ""
				if tc.pager != "" {
					want = fmt.Sprintf(tc.pager, r.inc.ID)
				}
				if strings.Join(r.pager.calls, ";") != want {
					t.Errorf("paging %q, want %q", r.pager.calls, want)
				}
			})
		}
	}
}

// stop is the paging half of a phone action: resolve or claim, with what
// the engine answers for an escalation that is over or never was taken
// as done.
func TestPhoneStopPaging(t *testing.T) {
	cases := []struct {
		name    string
		resolve bool
		err     error
		noPager bool
		want    string
		wantErr bool
	}{
		{name: "claim", want: "claim 7 by Pat Phone"},
		{name: "resolve", resolve: true, want: "resolve 7 by Pat Phone"},
		{name: "over already", resolve: true, err: models.ErrNoChange, want: "resolve 7 by Pat Phone"},
		{name: "never escalated", err: gorm.ErrRecordNotFound, want: "claim 7 by Pat Phone"},
		{name: "engine fails", resolve: true, err: errors.New("engine down"), want: "resolve 7 by Pat Phone", wantErr: true},
		{name: "no pager", noPager: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pager := &phonePager{err: tc.err}
			d := Deps{Pager: pager}
			if tc.noPager {
				d.Pager = nil
			}
			err := NewPhoneActions(d).stop(context.Background(), 7, tc.resolve, phonePerson("pat", "Pat Phone", nil))
			if (err != nil) != tc.wantErr || strings.Join(pager.calls, ";") != tc.want {
				t.Errorf("err %v, calls %q; want error %v, %q", err, pager.calls, tc.wantErr, tc.want)
			}
		})
	}
}
