package ui

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// incPager records what the incident pages asked of the paging engine.
type incPager struct {
	mu    sync.Mutex
	calls []string
}

func (p *incPager) record(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, s)
}

func (p *incPager) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func (p *incPager) Escalate(_ context.Context, id int64, plan string) error {
	p.record(fmt.Sprintf("escalate %d %s", id, plan))
	return nil
}

func (p *incPager) PagePeople(_ context.Context, id int64, role, target, priority, note, by string) (int, error) {
	p.record(fmt.Sprintf("page %d %s %s %s %q by %s", id, role, target, priority, note, by))
	return 1, nil
}

func (p *incPager) Claim(_ context.Context, id int64, by string) error {
	p.record(fmt.Sprintf("claim %d by %s", id, by))
	return nil
}

func (p *incPager) Unclaim(context.Context, int64) error { return nil }

func (p *incPager) Resolve(_ context.Context, id int64, by string) error {
	p.record(fmt.Sprintf("resolve %d by %s", id, by))
	return nil
}

// incFixture is the incident pages on a fresh database, with a team, a
// service, people and a recording pager.
type incFixture struct {
	*harness
	Pager   *incPager
	Team    *models.Team
	Service *models.Service
	Alice   *models.Person // has Slack (U0ALICE)
	Dave    *models.Person // has no Slack
}

func newIncFixture(t testing.TB, dialect string) *incFixture {
	t.Helper()
	f := &incFixture{Pager: &incPager{}}
	f.harness = newHarness(t, dialect, func(h *harness) []Page {
		deps := handlers.Deps{Store: h.Store, Clock: h.Clock, Log: testlog.Logger(t), Pager: f.Pager, Directory: h.Store,
			Settings: handlers.Settings{BaseURL: "http://herald.test", BotName: "incident", Roles: []string{"comms", "scribe"}, AutoCommsSeverity: 1}}
		return []Page{NewIncidentPages(h.Store, handlers.NewWebIncidents(deps), h.Clock)}
	})
	now := f.Clock.Now()
	f.Team = &models.Team{ID: uuid.NewString(), Name: "payments", CreatedAt: now, UpdatedAt: now}
	f.Service = &models.Service{ID: uuid.NewString(), Name: "checkout", TeamID: &f.Team.ID, DefaultSeverity: models.SEV3, CreatedAt: now, UpdatedAt: now}
	slackID := "U0ALICE"
	f.Alice = &models.Person{ID: uuid.NewString(), Name: "alice", FullName: "Alice Archer", SlackUserID: &slackID, Active: true, CreatedAt: now, UpdatedAt: now}
	f.Dave = &models.Person{ID: uuid.NewString(), Name: "dave", FullName: "Dave Doe", Active: true, CreatedAt: now, UpdatedAt: now}
	for _, row := range []any{f.Team, f.Service, f.Alice, f.Dave} {
		if err := f.DB.Gorm.Create(row).Error; err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// incident declares one, as Slack would.
func (f *incFixture) incident(t *testing.T, n models.NewIncident) *models.Incident {
	t.Helper()
	if n.Source == "" {
		n.Source = "slack"
	}
	inc, _, err := f.Store.CreateIncident(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// reload reads an incident again.
func (f *incFixture) reload(t *testing.T, inc *models.Incident) *models.Incident {
	t.Helper()
	got, err := f.Store.IncidentByID(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// audit lists an incident's audit entries as "action/actor".
func (f *incFixture) audit(t *testing.T, inc *models.Incident) []string {
	t.Helper()
	log, err := f.Store.AuditLog(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range log {
		out = append(out, e.Action+"/"+e.Actor)
	}
	return out
}

// jobs counts queued jobs of a kind.
func (f *incFixture) jobs(t *testing.T, kind string) int64 {
	t.Helper()
	var n int64
	if err := f.DB.Gorm.Model(&models.Job{}).Where("kind = ?", kind).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// inZone sets a web user's time zone.
func (f *incFixture) inZone(t *testing.T, c *client, zone string) {
	t.Helper()
	if err := f.DB.Gorm.Model(&models.WebUser{}).Where("id = ?", c.User.ID).Update("time_zone", zone).Error; err != nil {
		t.Fatal(err)
	}
}
