package notifications_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

const servicesYAML = `
services:
  - name: checkout
    description: The checkout flow
    team: payments
    plan: payments-default
    default_severity: SEV2
  - name: search
    default_severity: 4
    working_hours_only: true
integrations:
  - name: prometheus
    services: [checkout, search]
    quota_per_minute: 600
    generic:
      title: alert.name
      severity: alert.level
      severity_map: {page: CRIT, ticket: 3}
      dedup_key: alert.id
      state: alert.status
      resolved_values: [ok, resolved]
      message: alert.text
  - name: nagios
    services: [search]
heartbeats:
  - {integration: prometheus, service: checkout, interval: 5m}
  - {integration: nagios, service: search, interval: 1h30m, severity: SEV4}
maintenance:
  - name: checkout-deploys
    service: checkout
    match: {env: staging}
    starts_at: 2026-03-01T00:00:00Z
    weekly: {weekdays: [tue, thu], start: "02:00", duration: 1h, time_zone: Europe/London}
    reason: Weekly deploys
    cancel_pending: true
  - name: migration
    starts_at: "2026-03-02T01:00:00Z"
    ends_at: "2026-03-02T03:00:00Z"
    reason: Database migration
`

func serviceCounts(r *notifications.Report) []notifications.Counts {
	return []notifications.Counts{r.Services, r.Integrations, r.Heartbeats, r.Maintenance}
}

// TestApplyServices: services, integrations (without keys), heartbeats and
// maintenance windows are created, applying again changes nothing, export
// writes them back (no key anywhere) and the export applies as a no-op.
func TestApplyServices(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		r := applyYAML(t, db.Store, catalogYAML+servicesYAML, notifications.ApplyOptions{})
		c := notifications.Counts{}
		if got := serviceCounts(r); !reflect.DeepEqual(got, []notifications.Counts{{Created: 2}, {Created: 2}, {Created: 2}, {Created: 2}}) {
			t.Errorf("counts = %+v\n%s", got, r)
		}
		if !reflect.DeepEqual(r.KeysToMint, []string{"prometheus", "nagios"}) || !strings.Contains(r.String(), "note: integration prometheus has no key: mint one") {
			t.Errorf("keys to mint = %v\n%s", r.KeysToMint, r)
		}
		if !strings.Contains(r.String(), "services:  2 created, 0 updated, 0 unchanged, 0 deleted") {
			t.Errorf("report:\n%s", r)
		}

		checkout, err := db.Store.ServiceByName(ctx, "checkout")
		if err != nil {
			t.Fatal(err)
		}
		team, _ := db.Store.TeamByName(ctx, "payments")
		if checkout.Description != "The checkout flow" || checkout.DefaultSeverity != models.SEV2 || checkout.TeamID == nil || *checkout.TeamID != team.ID || checkout.PlanID == nil {
			t.Errorf("checkout = %+v", checkout)
		}
		if plan, err := db.Store.PlanName(ctx, *checkout.PlanID); err != nil || plan != "payments-default" {
			t.Errorf("checkout's plan = %q, %v", plan, err)
		}
		search, _ := db.Store.ServiceByName(ctx, "search")
		if search.DefaultSeverity != models.SEV4 || !search.WorkingHoursOnly || search.PlanID != nil {
			t.Errorf("search = %+v", search)
		}
		prom, err := db.Store.IntegrationByName(ctx, "prometheus")
		if err != nil {
			t.Fatal(err)
		}
		if prom.KeyHash != nil || prom.Key.Reveal() != "" || prom.QuotaPerMinute != 600 {
			t.Errorf("prometheus = %+v", prom)
		}
		generic, err := models.ParseGenericWebhookConfig(prom.GenericConfig)
		if err != nil || generic.Title != "alert.name" || generic.SeverityMap["page"] != models.SEV1 || generic.SeverityMap["ticket"] != models.SEV3 ||
			!reflect.DeepEqual(generic.ResolvedValues, []string{"ok", "resolved"}) {
			t.Errorf("generic = %+v, %v (%s)", generic, err, prom.GenericConfig)
		}
		if ids, _ := db.Store.IntegrationServiceIDs(ctx, prom.ID); len(ids) != 2 {
			t.Errorf("prometheus services = %v", ids)
		}
		hbs, err := db.Store.Heartbeats(ctx)
		if err != nil || len(hbs) != 2 || hbs[0].IntegrationName != "nagios" || hbs[0].IntervalSeconds != 5400 || hbs[0].Severity != models.SEV4 ||
			hbs[1].ServiceName != "checkout" || hbs[1].Severity != models.SEV2 || !hbs[1].CreatedAt.Equal(applyT0) {
			t.Errorf("heartbeats = %+v, %v", hbs, err)
		}
		ws, err := db.Store.MaintenanceWindows(ctx)
		if err != nil || len(ws) != 2 || ws[0].Name != "checkout-deploys" || ws[0].ServiceName != "checkout" || ws[0].Weekdays != "tue,thu" ||
			ws[0].ManagedBy != models.ManagedByConfig || ws[0].CreatedBy != "herald apply" || !ws[0].CancelPending || ws[1].ServiceID != nil {
			t.Errorf("windows = %+v, %v", ws, err)
		}

		clock.Advance(time.Hour)
		r = applyYAML(t, db.Store, catalogYAML+servicesYAML, notifications.ApplyOptions{})
		c.Unchanged = 2
		if r.Changed() || !reflect.DeepEqual(serviceCounts(r), []notifications.Counts{c, c, c, c}) {
			t.Errorf("second apply changed things:\n%s", r)
		}

		out := exportYAML(t, db.Store, true)
		for _, want := range []string{"default_severity: 2", "services: [checkout, search]", "severity_map:\n", "page: 1", "interval: 1h30m",
			"weekdays: [tue, thu]", "starts_at: \"2026-03-01T00:00:00Z\"", "- integration: nagios"} {
			if !strings.Contains(out, want) {
				t.Errorf("export lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "hrld_") || strings.Contains(out, "key") && !strings.Contains(out, "dedup_key") {
			t.Errorf("export mentions a key:\n%s", out)
		}
		r = applyYAML(t, db.Store, out, notifications.ApplyOptions{Prune: true})
		if r.Changed() {
			t.Errorf("applying the export changed things:\n%s", r)
		}
	})
}

// TestApplyServicesUpdates: each changed field is named; scopes follow the
// file; an admin API window of the same name is taken over.
func TestApplyServicesUpdates(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		applyYAML(t, db.Store, catalogYAML+servicesYAML, notifications.ApplyOptions{})
		api, err := models.ParseMaintenance(models.MaintenanceInput{Name: "adhoc", Reason: "r", StartsAt: "2026-03-01T00:00:00Z", EndsAt: "2026-03-01T01:00:00Z"})
		if err != nil {
			t.Fatal(err)
		}
		api.CreatedBy = "ops"
		if err := db.Store.CreateMaintenanceWindow(ctx, api); err != nil {
			t.Fatal(err)
		}
		changed := strings.NewReplacer(
			"    plan: payments-default\n    default_severity: SEV2", "    default_severity: critical",
			"services: [checkout, search]\n    quota_per_minute: 600", "services: [checkout]",
			"{integration: prometheus, service: checkout, interval: 5m}", "{integration: prometheus, service: checkout, interval: 10m, severity: 1}",
			"reason: Database migration", "reason: Database migration, take two",
		).Replace(servicesYAML) + `
  - name: adhoc
    starts_at: "2026-03-01T00:00:00Z"
    ends_at: "2026-03-01T02:00:00Z"
    reason: r
`
		r := applyYAML(t, db.Store, catalogYAML+changed, notifications.ApplyOptions{})
		var got []string
		for _, c := range r.Changes {
			got = append(got, c.String())
		}
		want := []string{
			"~ service checkout: plan, default_severity",
			"~ integration prometheus: quota_per_minute, services",
			"~ heartbeat prometheus → checkout: interval, severity",
			"~ maintenance migration: reason",
			"~ maintenance adhoc: managed_by (taken over from the admin API), ends_at",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("changes =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		prom, _ := db.Store.IntegrationByName(ctx, "prometheus")
		if ids, _ := db.Store.IntegrationServiceIDs(ctx, prom.ID); len(ids) != 1 {
			t.Errorf("prometheus services = %v", ids)
		}
		if r := applyYAML(t, db.Store, catalogYAML+changed, notifications.ApplyOptions{}); r.Changed() {
			t.Errorf("second apply changed things:\n%s", r)
		}
	})
}

// TestApplyServicesPrune: without --prune what the file lacks is listed;
// with it it goes (the admin API's windows stay), except a service with
// open incidents, which refuses the whole apply, naming them.
func TestApplyServicesPrune(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		applyYAML(t, db.Store, catalogYAML+servicesYAML, notifications.ApplyOptions{})
		api, _ := models.ParseMaintenance(models.MaintenanceInput{Name: "adhoc", Reason: "r", StartsAt: "2026-03-01T00:00:00Z", EndsAt: "2026-03-01T01:00:00Z"})
		api.CreatedBy = "ops"
		if err := db.Store.CreateMaintenanceWindow(ctx, api); err != nil {
			t.Fatal(err)
		}

		r := applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{})
		if r.Changed() || !strings.Contains(r.String(), "heartbeat nagios → search, heartbeat prometheus → checkout, maintenance checkout-deploys, maintenance migration, integration nagios, integration prometheus, service checkout, service search") {
			t.Errorf("report without --prune:\n%s", r)
		}

		checkout, _ := db.Store.ServiceByName(ctx, "checkout")
		search, _ := db.Store.ServiceByName(ctx, "search")
		var open []int64
		for _, svc := range []*models.Service{checkout, checkout, search} {
			inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "down", Source: "api", ServiceID: &svc.ID})
			if err != nil {
				t.Fatal(err)
			}
			open = append(open, inc.Number)
		}
		// Resolved incidents do not hold a service back.
		if err := db.Gorm.Model(&models.Incident{}).Where("number = ?", open[2]).Update("resolved_at", clock.Now()).Error; err != nil {
			t.Fatal(err)
		}
		_, err := notifications.Apply(ctx, db.Store, parseCatalogT(t, catalogYAML), notifications.ApplyOptions{Prune: true})
		var errs notifications.Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Error() != `services: service "checkout" is not in the file but has open incidents (#1, #2): resolve them, or keep the service, before pruning it` {
			t.Fatalf("pruning a service with open incidents: %v", err)
		}
		if n := rowCount(t, db, "services") + rowCount(t, db, "integrations") + rowCount(t, db, "heartbeats"); n != 6 {
			t.Errorf("a refused prune removed things: %d rows left", n)
		}

		if err := db.Gorm.Model(&models.Incident{}).Where("resolved_at IS NULL").Update("resolved_at", clock.Now()).Error; err != nil {
			t.Fatal(err)
		}
		r = applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{Prune: true})
		d := notifications.Counts{Deleted: 2}
		if !reflect.DeepEqual(serviceCounts(r), []notifications.Counts{d, d, d, d}) {
			t.Errorf("prune counts = %+v\n%s", serviceCounts(r), r)
		}
		for _, table := range []string{"services", "integrations", "integration_services", "heartbeats"} {
			if n := rowCount(t, db, table); n != 0 {
				t.Errorf("%s: %d rows left", table, n)
			}
		}
		if ws, _ := db.Store.MaintenanceWindows(ctx); len(ws) != 1 || ws[0].Name != "adhoc" {
			t.Errorf("windows left = %+v", ws)
		}
	})
}

// TestValidateServices: every problem, at its path.
func TestValidateServices(t *testing.T) {
	src := catalogYAML + `
services:
  - name: checkout
    plan: nope
    team: nobody
    default_severity: SEV9
  - name: checkout
integrations:
  - name: prometheus
    services: [checkout, ghost, checkout]
    quota_per_minute: -1
    generic: {severity_map: {a: x}, resolved_values: [ok], title: "a..b"}
  - name: empty
    services: []
heartbeats:
  - {integration: prometheus, service: search, interval: 30s}
  - {integration: ghost, service: checkout, interval: soon, severity: 0}
  - {integration: empty, service: checkout, interval: 5m}
maintenance:
  - name: w
    service: ghost
    starts_at: "2026-03-01T00:00:00Z"
    reason: r
  - name: w
    starts_at: "2026-03-01T00:00:00Z"
    ends_at: "2026-03-01T00:00:00Z"
    reason: ""
`
	_, err := parseCatalogT(t, src).Validate(nil)
	var errs notifications.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Validate = %v", err)
	}
	want := []string{
		`services[0].team: unknown team "nobody" (not in this file or the database)`,
		`services[0].plan: unknown plan "nope" (not in this file or the database)`,
		`services[0].default_severity: "SEV9" is not a severity (1-4, SEV1-SEV4, critical, major, minor or trivial)`,
		`services[1].name: "checkout" is already the name of services[0]`,
		`integrations[0].services[1]: unknown service "ghost" (not in this file or the database)`,
		`integrations[0].services[2]: "checkout" is already services[0]`,
		`integrations[0].quota_per_minute: must be 0 (unlimited) to 1000000 requests a minute, not -1`,
		`integrations[0].generic.title: "a..b" has an empty key (two dots, or a dot at an end)`,
		`integrations[0].generic.severity_map: needs severity: the path of the value it maps`,
		`integrations[0].generic.severity_map.a: "x" is not a severity (1-4, SEV1-SEV4, CRIT, ERR, WARN, INFO, critical, major, minor or trivial)`,
		`integrations[0].generic.resolved_values: needs state: the path of the value they are compared with`,
		`integrations[1].services: needs at least one service`,
		`heartbeats[0].service: unknown service "search" (not in this file or the database)`,
		`heartbeats[0].interval: must be whole seconds between 1m0s and 168h0m0s, not 30s`,
		`heartbeats[1].integration: unknown integration "ghost" (not in this file or the database)`,
		`heartbeats[1].interval: "soon" is not a duration (like 5m or 1h)`,
		`heartbeats[1].severity: "0" is not a severity (1-4, SEV1-SEV4, critical, major, minor or trivial)`,
		`heartbeats[2].service: integration empty may not raise incidents for "checkout": add it to the integration's services`,
		`maintenance[0].ends_at: required (RFC 3339, like 2026-03-01T02:00:00Z)`,
		`maintenance[0].service: unknown service "ghost" (not in this file or the database)`,
		`maintenance[1].reason: required: say why (it is shown on every alert the window holds)`,
		`maintenance[1].ends_at: must be after starts_at (2026-03-01T00:00:00Z)`,
		`maintenance[1].name: "w" is already the name of maintenance[0]`,
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// What the database holds may be referred to without declaring it.
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		applyYAML(t, db.Store, catalogYAML+servicesYAML, notifications.ApplyOptions{})
		extra := catalogYAML + `
services:
  - {name: billing, team: payments, plan: payments-default}
integrations:
  - {name: grafana, services: [billing, checkout]}
heartbeats:
  - {integration: prometheus, service: checkout, interval: 5m}
maintenance:
  - {name: m, service: search, starts_at: "2026-03-01T00:00:00Z", ends_at: "2026-03-01T01:00:00Z", reason: r}
`
		r := applyYAML(t, db.Store, extra, notifications.ApplyOptions{})
		if r.Services.Created != 1 || r.Integrations.Created != 1 || r.Heartbeats.Unchanged != 1 || r.Maintenance.Created != 1 {
			t.Errorf("report:\n%s", r)
		}
		// With --prune, only the file counts.
		_, err := notifications.Apply(context.Background(), db.Store, parseCatalogT(t, extra), notifications.ApplyOptions{Prune: true})
		if !errors.As(err, &errs) || !strings.Contains(err.Error(), `unknown service "checkout"`) {
			t.Errorf("prune with references to undeclared services: %v", err)
		}
	})
}
