package notifications

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/heraldhq/herald/models"
)

// Kinds of configuration of catalog_services.go.
const (
	KindService     = "service"
	KindIntegration = "integration"
	KindHeartbeat   = "heartbeat"
	KindMaintenance = "maintenance"
)

// serviceCounts is counts() for the kinds of this file.
func (r *Report) serviceCounts(kind string) *Counts {
	switch kind {
	case KindService:
		return &r.Services
	case KindIntegration:
		return &r.Integrations
	case KindHeartbeat:
		return &r.Heartbeats
	default:
		return &r.Maintenance
	}
}

// writeServiceCounts adds the counts of the kinds of this file that had
// anything to count.
func (r *Report) writeServiceCounts(b *strings.Builder) {
	for _, k := range []struct {
		label string
		c     Counts
	}{{"services", r.Services}, {"integrations", r.Integrations}, {"heartbeats", r.Heartbeats}, {"maintenance", r.Maintenance}} {
		if k.c != (Counts{}) {
			fmt.Fprintf(b, "%-10s %s\n", k.label+":", k.c)
		}
	}
}

// writeKeyNotes says which integrations cannot be used yet.
func (r *Report) writeKeyNotes(b *strings.Builder) {
	for _, name := range r.KeysToMint {
		fmt.Fprintf(b, "note: integration %s has no key: mint one with `herald integration rotate %s` (or POST /api/v1/integrations/%s/rotate); it is shown once\n", name, name, name)
	}
}

// serviceState is the services, integrations, heartbeats and maintenance
// windows the database holds.
type serviceState struct {
	services     map[string]*models.Service // by name
	svcNames     map[string]string          // id → name
	integrations map[string]*dbIntegration  // by name
	heartbeats   map[heartbeatKey]*models.Heartbeat
	windows      map[string]*models.MaintenanceWindow // by name, the API's too
}

type dbIntegration struct {
	row      models.Integration // without its keys
	services []string           // names, sorted
}

// heartbeatKey names a monitor by integration and service name.
type heartbeatKey struct{ integration, service string }

func loadServiceState(db *gorm.DB) (*serviceState, error) {
	ss := &serviceState{services: map[string]*models.Service{}, svcNames: map[string]string{}, integrations: map[string]*dbIntegration{},
		heartbeats: map[heartbeatKey]*models.Heartbeat{}, windows: map[string]*models.MaintenanceWindow{}}
	var svcs []models.Service
	if err := db.Find(&svcs).Error; err != nil {
		return nil, fmt.Errorf("loading services: %w", err)
	}
	for i := range svcs {
		ss.services[svcs[i].Name], ss.svcNames[svcs[i].ID] = &svcs[i], svcs[i].Name
	}
	// Never the sealed keys: apply has no business with them.
	var ins []models.Integration
	if err := db.Select("id", "name", "key_hash", "quota_per_minute", "generic_config", "revoked_at", "created_at", "updated_at").Find(&ins).Error; err != nil {
		return nil, fmt.Errorf("loading integrations: %w", err)
	}
	inNames := map[string]string{}
	for _, in := range ins {
		ss.integrations[in.Name], inNames[in.ID] = &dbIntegration{row: in}, in.Name
	}
	var scopes []models.IntegrationService
	if err := db.Find(&scopes).Error; err != nil {
		return nil, fmt.Errorf("loading integration services: %w", err)
	}
	for _, sc := range scopes {
		if in := ss.integrations[inNames[sc.IntegrationID]]; in != nil && ss.svcNames[sc.ServiceID] != "" {
			in.services = append(in.services, ss.svcNames[sc.ServiceID])
		}
	}
	for _, in := range ss.integrations {
		sort.Strings(in.services)
	}
	var hbs []models.Heartbeat
	if err := db.Find(&hbs).Error; err != nil {
		return nil, fmt.Errorf("loading heartbeats: %w", err)
	}
	for i := range hbs {
		ss.heartbeats[heartbeatKey{inNames[hbs[i].IntegrationID], ss.svcNames[hbs[i].ServiceID]}] = &hbs[i]
	}
	var ws []models.MaintenanceWindow
	if err := db.Find(&ws).Error; err != nil {
		return nil, fmt.Errorf("loading maintenance windows: %w", err)
	}
	for i := range ws {
		if ws[i].ServiceID != nil {
			ws[i].ServiceName = ss.svcNames[*ws[i].ServiceID]
		}
		ss.windows[ws[i].Name] = &ws[i]
	}
	return ss, nil
}

// addExisting adds what a file may refer to without declaring it.
func (ss *serviceState) addExisting(ex *Existing, st *state) {
	ex.Plans, ex.Services, ex.Integrations = map[string]bool{}, map[string]bool{}, map[string][]string{}
	for name, p := range st.plans {
		if p.row.ActiveVersion != 0 {
			ex.Plans[name] = true
		}
	}
	for name := range ss.services {
		ex.Services[name] = true
	}
	for name, in := range ss.integrations {
		ex.Integrations[name] = in.services
	}
}

// applyServices makes services, integrations, heartbeats and the file's
// maintenance windows what the catalog says, after the people, teams and
// plans they refer to.
func (a *applier) applyServices(ss *serviceState, c *Catalog) error {
	if err := a.pruneServices(ss, c); err != nil {
		return err
	}
	var plans []models.Plan
	if err := a.db.Select("id", "name").Find(&plans).Error; err != nil {
		return fmt.Errorf("loading plans: %w", err)
	}
	planIDs := map[string]string{}
	for _, p := range plans {
		planIDs[p.Name] = p.ID
	}
	svcIDs := map[string]string{}
	for name, s := range ss.services {
		svcIDs[name] = s.ID
	}
	for _, spec := range c.Services {
		id, err := a.service(ss.services[spec.Name], spec, planIDs)
		if err != nil {
			return fmt.Errorf("applying service %q: %w", spec.Name, err)
		}
		svcIDs[spec.Name] = id
	}
	inIDs := map[string]string{}
	for name, in := range ss.integrations {
		inIDs[name] = in.row.ID
	}
	for _, spec := range c.Integrations {
		id, err := a.integration(ss.integrations[spec.Name], spec, svcIDs)
		if err != nil {
			return fmt.Errorf("applying integration %q: %w", spec.Name, err)
		}
		inIDs[spec.Name] = id
	}
	for _, spec := range c.Heartbeats {
		if err := a.heartbeat(ss.heartbeats[heartbeatKey{spec.Integration, spec.Service}], spec, inIDs[spec.Integration], svcIDs[spec.Service]); err != nil {
			return fmt.Errorf("applying the heartbeat of %q for %q: %w", spec.Integration, spec.Service, err)
		}
	}
	for _, spec := range c.Maintenance {
		if err := a.window(ss.windows[spec.Name], spec, svcIDs); err != nil {
			return fmt.Errorf("applying maintenance window %q: %w", spec.Name, err)
		}
	}
	return nil
}

// pruneServices removes (with Prune) or lists what the file does not
// declare: heartbeats, the file's maintenance windows, integrations, then
// services. A service with open incidents is not removed: the whole apply
// is refused, naming them.
func (a *applier) pruneServices(ss *serviceState, c *Catalog) error {
	hbs := map[heartbeatKey]bool{}
	for _, h := range c.Heartbeats {
		hbs[heartbeatKey{h.Integration, h.Service}] = true
	}
	keys := make([]heartbeatKey, 0, len(ss.heartbeats))
	for k := range ss.heartbeats {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].integration+"\x00"+keys[i].service < keys[j].integration+"\x00"+keys[j].service
	})
	for _, k := range keys {
		if hbs[k] {
			continue
		}
		h := ss.heartbeats[k]
		if err := a.removeWhere(KindHeartbeat, k.integration+" → "+k.service, &models.Heartbeat{}, "integration_id = ? AND service_id = ?", h.IntegrationID, h.ServiceID); err != nil {
			return err
		}
	}
	windows := declaredNames(c.Maintenance, func(m MaintenanceSpec) string { return m.Name })
	for _, name := range sortedNames(ss.windows) {
		if w := ss.windows[name]; !windows[name] && w.ManagedBy == models.ManagedByConfig {
			if err := a.removeWhere(KindMaintenance, name, &models.MaintenanceWindow{}, "id = ?", w.ID); err != nil {
				return err
			}
		}
	}
	ins := declaredNames(c.Integrations, func(i IntegrationSpec) string { return i.Name })
	for _, name := range sortedNames(ss.integrations) {
		if !ins[name] {
			if err := a.removeWhere(KindIntegration, name, &models.Integration{}, "id = ?", ss.integrations[name].row.ID); err != nil {
				return err
			}
		}
	}
	svcs := declaredNames(c.Services, func(s ServiceSpec) string { return s.Name })
	var refused Errors
	for _, name := range sortedNames(ss.services) {
		if svcs[name] {
			continue
		}
		if a.opts.Prune {
			var open []int64
			if err := a.db.Model(&models.Incident{}).Where("service_id = ? AND resolved_at IS NULL", ss.services[name].ID).Order("number").Pluck("number", &open).Error; err != nil {
				return fmt.Errorf("checking the open incidents of service %q: %w", name, err)
			}
			if len(open) > 0 {
				nums := make([]string, len(open))
				for i, n := range open {
					nums[i] = fmt.Sprintf("#%d", n)
				}
				refused.add("services", "service %q is not in the file but has open incidents (%s): resolve them, or keep the service, before pruning it", name, strings.Join(nums, ", "))
				continue
			}
		}
		if err := a.removeWhere(KindService, name, &models.Service{}, "id = ?", ss.services[name].ID); err != nil {
			return err
		}
	}
	if len(refused) > 0 {
		return refused
	}
	return nil
}

// removeWhere is remove with a condition of several arguments.
func (a *applier) removeWhere(kind, name string, model any, where string, args ...any) error {
	if !a.opts.Prune {
		a.report.Prunable = append(a.report.Prunable, Change{Kind: kind, Name: name, Action: ActionDelete})
		return nil
	}
	if err := a.db.Where(where, args...).Delete(model).Error; err != nil {
		return fmt.Errorf("pruning %s %q: %w", kind, name, err)
	}
	a.report.record(kind, name, ActionDelete, "")
	return nil
}

func declaredNames[T any](list []T, name func(T) string) map[string]bool {
	out := make(map[string]bool, len(list))
	for _, x := range list {
		out[name(x)] = true
	}
	return out
}

func (a *applier) service(have *models.Service, spec ServiceSpec, planIDs map[string]string) (string, error) {
	sev, _ := spec.DefaultSeverity.severity(defaultServiceSeverity)
	var team, plan *string
	if spec.Team != "" {
		id := a.teamIDs[spec.Team]
		team = &id
	}
	if spec.Plan != "" {
		id := planIDs[spec.Plan]
		plan = &id
	}
	if have == nil {
		row := models.Service{ID: newID(), Name: spec.Name, Description: spec.Description, TeamID: team, PlanID: plan,
			DefaultSeverity: sev, WorkingHoursOnly: spec.WorkingHoursOnly, CreatedAt: a.now, UpdatedAt: a.now}
		if err := a.db.Create(&row).Error; err != nil {
			return "", err
		}
		a.report.record(KindService, spec.Name, ActionCreate, "")
		return row.ID, nil
	}
	updates := map[string]any{}
	var details []string
	change := func(field, column string, differs bool, value any) {
		if differs {
			updates[column] = value
			details = append(details, field)
		}
	}
	change("description", "description", have.Description != spec.Description, spec.Description)
	change("team", "team_id", deref(have.TeamID) != deref(team), team)
	change("plan", "plan_id", deref(have.PlanID) != deref(plan), plan)
	change("default_severity", "default_severity", have.DefaultSeverity != sev, sev)
	change("working_hours_only", "working_hours_only", have.WorkingHoursOnly != spec.WorkingHoursOnly, spec.WorkingHoursOnly)
	return have.ID, a.finish(KindService, spec.Name, details, func() error {
		updates["updated_at"] = a.now
		return a.db.Model(&models.Service{}).Where("id = ?", have.ID).Updates(updates).Error
	})
}

func (a *applier) integration(have *dbIntegration, spec IntegrationSpec, svcIDs map[string]string) (string, error) {
	generic, err := genericConfig(spec.Generic)
	if err != nil {
		return "", err
	}
	if have == nil {
		row := models.Integration{ID: models.NewIntegrationID(), Name: spec.Name, QuotaPerMinute: spec.QuotaPerMinute, GenericConfig: generic,
			CreatedAt: a.now, UpdatedAt: a.now}
		// No key: the sealed columns stay NULL until one is minted.
		if err := a.db.Omit("key_sealed", "secondary_key_sealed").Create(&row).Error; err != nil {
			return "", err
		}
		if err := a.scope(row.ID, nil, spec.Services, svcIDs); err != nil {
			return "", err
		}
		a.report.record(KindIntegration, spec.Name, ActionCreate, "")
		a.report.KeysToMint = append(a.report.KeysToMint, spec.Name)
		return row.ID, nil
	}
	if have.row.KeyHash == nil {
		a.report.KeysToMint = append(a.report.KeysToMint, spec.Name)
	}
	updates := map[string]any{}
	var details []string
	if have.row.QuotaPerMinute != spec.QuotaPerMinute {
		updates["quota_per_minute"] = spec.QuotaPerMinute
		details = append(details, "quota_per_minute")
	}
	if canonicalGeneric(have.row.GenericConfig) != generic {
		updates["generic_config"] = generic
		details = append(details, "generic")
	}
	want := slices.Sorted(slices.Values(spec.Services))
	if !slices.Equal(have.services, want) {
		if err := a.scope(have.row.ID, have.services, want, svcIDs); err != nil {
			return "", err
		}
		details = append(details, "services")
	}
	return have.row.ID, a.finish(KindIntegration, spec.Name, details, func() error {
		updates["updated_at"] = a.now
		return a.db.Model(&models.Integration{}).Where("id = ?", have.row.ID).Updates(updates).Error
	})
}

// scope makes an integration's services the wanted ones.
func (a *applier) scope(integrationID string, have, want []string, svcIDs map[string]string) error {
	for _, name := range have {
		if !slices.Contains(want, name) {
			if err := a.db.Where("integration_id = ? AND service_id = ?", integrationID, svcIDs[name]).Delete(&models.IntegrationService{}).Error; err != nil {
				return fmt.Errorf("removing service %q: %w", name, err)
			}
		}
	}
	for _, name := range want {
		if !slices.Contains(have, name) {
			if err := a.db.Create(&models.IntegrationService{IntegrationID: integrationID, ServiceID: svcIDs[name]}).Error; err != nil {
				return fmt.Errorf("adding service %q: %w", name, err)
			}
		}
	}
	return nil
}

// canonicalGeneric re-encodes a stored generic configuration, so its
// formatting is not a change.
func canonicalGeneric(stored string) string {
	g, err := genericSpec(stored)
	if err != nil {
		return ""
	}
	out, err := genericConfig(g)
	if err != nil {
		return ""
	}
	return out
}

func (a *applier) heartbeat(have *models.Heartbeat, spec HeartbeatSpec, integrationID, serviceID string) error {
	interval, _ := time.ParseDuration(spec.Interval)
	seconds := int(interval / time.Second)
	sev, _ := spec.Severity.severity(defaultHeartbeatSeverity)
	name := spec.Integration + " → " + spec.Service
	if have == nil {
		// A new monitor gets a whole interval before its first check-in
		// is due.
		row := models.Heartbeat{IntegrationID: integrationID, ServiceID: serviceID, IntervalSeconds: seconds, Severity: sev, CreatedAt: a.now, UpdatedAt: a.now}
		if err := a.db.Create(&row).Error; err != nil {
			return err
		}
		a.report.record(KindHeartbeat, name, ActionCreate, "every "+models.FormatDuration(interval))
		return nil
	}
	updates := map[string]any{}
	var details []string
	if have.IntervalSeconds != seconds {
		updates["interval_seconds"] = seconds
		details = append(details, "interval")
	}
	if have.Severity != sev {
		updates["severity"] = sev
		details = append(details, "severity")
	}
	return a.finish(KindHeartbeat, name, details, func() error {
		updates["updated_at"] = a.now
		return a.db.Model(&models.Heartbeat{}).Where("integration_id = ? AND service_id = ?", integrationID, serviceID).Updates(updates).Error
	})
}

func (a *applier) window(have *models.MaintenanceWindow, spec MaintenanceSpec, svcIDs map[string]string) error {
	w, err := models.ParseMaintenance(spec)
	if err != nil {
		return err // validated before: a bug
	}
	if spec.Service != "" {
		id := svcIDs[spec.Service]
		w.ServiceID = &id
	}
	if have == nil {
		w.ID, w.CreatedBy, w.ManagedBy, w.CreatedAt, w.UpdatedAt = newID(), a.opts.Actor, models.ManagedByConfig, a.now, a.now
		if err := a.db.Create(w).Error; err != nil {
			return err
		}
		a.report.record(KindMaintenance, spec.Name, ActionCreate, "")
		return nil
	}
	updates := map[string]any{}
	var details []string
	change := func(field, column string, differs bool, value any) {
		if differs {
			updates[column] = value
			details = append(details, field)
		}
	}
	change("managed_by (taken over from the admin API)", "managed_by", have.ManagedBy != models.ManagedByConfig, models.ManagedByConfig)
	change("service", "service_id", deref(have.ServiceID) != deref(w.ServiceID), w.ServiceID)
	change("match", "matchers", have.Matchers != w.Matchers, w.Matchers)
	change("starts_at", "starts_at", !have.StartsAt.Equal(w.StartsAt), w.StartsAt)
	change("ends_at", "ends_at", !timesEqual(have.EndsAt, w.EndsAt), w.EndsAt)
	weekly := have.Weekdays != w.Weekdays || have.StartTime != w.StartTime || have.DurationSeconds != w.DurationSeconds || have.TimeZone != w.TimeZone
	if weekly {
		updates["weekdays"], updates["start_time"], updates["duration_seconds"], updates["time_zone"] = w.Weekdays, w.StartTime, w.DurationSeconds, w.TimeZone
		details = append(details, "weekly")
	}
	change("reason", "reason", have.Reason != w.Reason, w.Reason)
	change("cancel_pending", "cancel_pending", have.CancelPending != w.CancelPending, w.CancelPending)
	return a.finish(KindMaintenance, spec.Name, details, func() error {
		updates["updated_at"] = a.now
		return a.db.Model(&models.MaintenanceWindow{}).Where("id = ?", have.ID).Updates(updates).Error
	})
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// exportServices adds the database's services, integrations (never their
// keys), heartbeats and the file's maintenance windows to c.
func (ss *serviceState) export(c *Catalog, st *state) error {
	for _, name := range sortedNames(ss.services) {
		s := ss.services[name]
		spec := ServiceSpec{Name: name, Description: s.Description, Team: st.teamNames[deref(s.TeamID)],
			DefaultSeverity: SeveritySpec(fmt.Sprint(int(s.DefaultSeverity))), WorkingHoursOnly: s.WorkingHoursOnly}
		if s.PlanID != nil {
			for pname, p := range st.plans {
				if p.row.ID == *s.PlanID && p.row.ActiveVersion != 0 {
					spec.Plan = pname
				}
			}
		}
		c.Services = append(c.Services, spec)
	}
	for _, name := range sortedNames(ss.integrations) {
		in := ss.integrations[name]
		g, err := genericSpec(in.row.GenericConfig)
		if err != nil {
			return fmt.Errorf("integration %q: %w", name, err)
		}
		c.Integrations = append(c.Integrations, IntegrationSpec{Name: name, Services: in.services, QuotaPerMinute: in.row.QuotaPerMinute, Generic: g})
	}
	keys := make([]heartbeatKey, 0, len(ss.heartbeats))
	for k := range ss.heartbeats {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].integration+"\x00"+keys[i].service < keys[j].integration+"\x00"+keys[j].service
	})
	for _, k := range keys {
		h := ss.heartbeats[k]
		c.Heartbeats = append(c.Heartbeats, HeartbeatSpec{Integration: k.integration, Service: k.service,
			Interval: models.FormatDuration(h.Interval()), Severity: SeveritySpec(fmt.Sprint(int(h.Severity)))})
	}
	for _, name := range sortedNames(ss.windows) {
		if w := ss.windows[name]; w.ManagedBy == models.ManagedByConfig {
			c.Maintenance = append(c.Maintenance, w.Input())
		}
	}
	return nil
}
