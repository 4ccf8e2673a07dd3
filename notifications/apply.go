package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/models"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Prune removes the people, teams, templates and plans the file does
	// not declare. Without it they are only listed in Report.Prunable.
	Prune bool
	// DryRun works everything out, then rolls back.
	DryRun bool
	// Actor is recorded as the author of the plan versions published
	// (default "herald apply").
	Actor string
}

// Kinds of configuration, as reports name them.
const (
	KindPerson   = "person"
	KindTeam     = "team"
	KindTemplate = "template"
	KindPlan     = "plan"
)

// Action is what Apply did (or, in a dry run, would do) to one thing.
type Action string

// Actions of a report.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
	// ActionRetire is how a plan escalations have used is pruned: its
	// versions stay (escalations and messages point at them) but it is no
	// longer active, so no new escalation can use it.
	ActionRetire Action = "retire"
)

// Change is one thing Apply changes. Detail says what changed, never a
// contact destination.
type Change struct {
	Kind   string
	Name   string
	Action Action
	Detail string
}

func (c Change) String() string {
	sign := map[Action]string{ActionCreate: "+", ActionUpdate: "~", ActionDelete: "-", ActionRetire: "-"}[c.Action]
	s := fmt.Sprintf("%s %s %s", sign, c.Kind, c.Name)
	if c.Action == ActionRetire {
		s += " (retired: escalations used it, so it is kept but no longer active)"
	}
	if c.Detail != "" {
		s += ": " + c.Detail
	}
	return s
}

// Counts are how many things of one kind Apply created, updated, left
// alone and deleted (retired plans count as deleted).
type Counts struct {
	Created, Updated, Unchanged, Deleted int
}

func (c Counts) String() string {
	return fmt.Sprintf("%d created, %d updated, %d unchanged, %d deleted", c.Created, c.Updated, c.Unchanged, c.Deleted)
}

// Report is what Apply did, or in a dry run would do.
type Report struct {
	DryRun                          bool
	Prune                           bool
	People, Teams, Templates, Plans Counts
	// Services, integrations, heartbeats and maintenance windows
	// (apply_services.go).
	Services, Integrations, Heartbeats, Maintenance Counts
	// Schedules (apply_schedules.go); a rotation's change is its
	// schedule's.
	Schedules Counts
	// KeysToMint are the integrations that have no key yet.
	KeysToMint []string `json:",omitempty"`
	// Changes are in the order they were made.
	Changes []Change
	// Prunable are the things the file does not declare, which --prune
	// would remove (only without Prune).
	Prunable []Change
	Warnings []string
}

// Changed reports whether anything was (or would be) written.
func (r *Report) Changed() bool { return len(r.Changes) > 0 }

func (r *Report) counts(kind string) *Counts {
	switch kind {
	case KindPerson:
		return &r.People
	case KindTeam:
		return &r.Teams
	case KindTemplate:
		return &r.Templates
	case KindPlan:
		return &r.Plans
	case KindSchedule:
		return &r.Schedules
	default:
		return r.serviceCounts(kind)
	}
}

func (r *Report) record(kind, name string, a Action, detail string) {
	c := r.counts(kind)
	switch a {
	case ActionCreate:
		c.Created++
	case ActionUpdate:
		c.Updated++
	default:
		c.Deleted++
	}
	r.Changes = append(r.Changes, Change{Kind: kind, Name: name, Action: a, Detail: detail})
}

func (r *Report) String() string {
	var b strings.Builder
	if r.DryRun {
		b.WriteString("dry run: nothing was written\n")
	}
	fmt.Fprintf(&b, "people:    %s\n", r.People)
	fmt.Fprintf(&b, "teams:     %s\n", r.Teams)
	fmt.Fprintf(&b, "templates: %s\n", r.Templates)
	fmt.Fprintf(&b, "plans:     %s\n", r.Plans)
	r.writeServiceCounts(&b)
	r.writeScheduleCounts(&b)
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "  %s\n", c)
	}
	if len(r.Prunable) > 0 {
		names := make([]string, len(r.Prunable))
		for i, c := range r.Prunable {
			names[i] = c.Kind + " " + c.Name
		}
		fmt.Fprintf(&b, "not in the file, kept (apply with --prune to remove): %s\n", strings.Join(names, ", "))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	r.writeKeyNotes(&b)
	return b.String()
}

// ErrPruneEverything refuses --prune with a file that declares nothing.
var ErrPruneEverything = errors.New("refusing to prune with a file that declares nothing: it would remove the whole paging configuration (people, teams, templates, plans, services, schedules…)")

var errDryRun = errors.New("dry run")

// Apply makes the database match a catalog, in one transaction: people
// (with their contact methods and priority preferences), teams (members,
// manager, static on-call), templates and plans. A plan whose steps changed
// gets a new version, which becomes the active one. Applying the same
// catalog twice changes nothing the second time. A person declared without
// a contacts (priorities) key keeps the contact methods (global priority
// preferences) the database has: people set those on the web UI.
//
// The catalog is validated first against what the database holds; with
// any problem (an Errors) nothing is written.
func Apply(ctx context.Context, store *models.Store, c *Catalog, o ApplyOptions) (*Report, error) {
	if o.Actor == "" {
		o.Actor = "herald apply"
	}
	if c == nil {
		c = &Catalog{}
	}
	r := &Report{DryRun: o.DryRun, Prune: o.Prune}
	err := store.InTx(ctx, func(tx *models.Store) error {
		a := &applier{db: tx.DB().WithContext(ctx), now: tx.Clock().Now().UTC(), opts: o, report: r}
		st, err := loadState(a.db)
		if err != nil {
			return err
		}
		ss, err := loadServiceState(a.db)
		if err != nil {
			return err
		}
		var ex *Existing
		if !o.Prune {
			ex = st.existing()
			ss.addExisting(ex, st)
		}
		warnings, err := c.Validate(ex)
		if err != nil {
			return err
		}
		r.Warnings = warnings
		if o.Prune && c.declaresNothing() {
			return ErrPruneEverything
		}
		sched, err := loadScheduleState(ctx, tx, st)
		if err != nil {
			return err
		}
		if err := a.pruneSchedules(ctx, tx, sched, c); err != nil {
			return err
		}
		if err := a.apply(st, c); err != nil {
			return err
		}
		if err := a.applyServices(ss, c); err != nil {
			return err
		}
		if err := a.applySchedules(ctx, tx, sched, c); err != nil {
			return err
		}
		if o.DryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, err
	}
	return r, nil
}

// state is the configuration the database holds.
type state struct {
	people    map[string]*dbPerson // by name
	teams     map[string]*dbTeam
	templates map[string]*models.MessageTemplate
	plans     map[string]*dbPlan
	names     map[string]string // person id → name
	teamNames map[string]string // team id → name
}

type dbPerson struct {
	row      models.Person
	contacts []models.ContactMethod       // oldest first
	prefs    map[string]map[string]string // application ("" global) → priority → comma list
}

type dbTeam struct {
	row     models.Team
	members map[string]bool   // person ids
	oncall  map[string]string // role → person id
}

type dbPlan struct {
	row      models.Plan
	versions map[int]string // version → definition
	latest   int
}

func loadState(db *gorm.DB) (*state, error) {
	st := &state{people: map[string]*dbPerson{}, teams: map[string]*dbTeam{}, templates: map[string]*models.MessageTemplate{},
		plans: map[string]*dbPlan{}, names: map[string]string{}, teamNames: map[string]string{}}
	var people []models.Person
	if err := db.Find(&people).Error; err != nil {
		return nil, fmt.Errorf("loading people: %w", err)
	}
	byID := map[string]*dbPerson{}
	for _, p := range people {
		dp := &dbPerson{row: p, prefs: map[string]map[string]string{}}
		st.people[p.Name], st.names[p.ID], byID[p.ID] = dp, p.Name, dp
	}
	var contacts []models.ContactMethod
	if err := db.Find(&contacts).Error; err != nil {
		return nil, fmt.Errorf("loading contact methods: %w", err)
	}
	sort.SliceStable(contacts, func(i, j int) bool {
		if !contacts[i].CreatedAt.Equal(contacts[j].CreatedAt) {
			return contacts[i].CreatedAt.Before(contacts[j].CreatedAt)
		}
		return contacts[i].ID < contacts[j].ID
	})
	for _, cm := range contacts {
		if p := byID[cm.PersonID]; p != nil {
			p.contacts = append(p.contacts, cm)
		}
	}
	var prefs []models.PriorityMode
	if err := db.Find(&prefs).Error; err != nil {
		return nil, fmt.Errorf("loading priority preferences: %w", err)
	}
	for _, pm := range prefs {
		if p := byID[pm.PersonID]; p != nil {
			if p.prefs[pm.Application] == nil {
				p.prefs[pm.Application] = map[string]string{}
			}
			p.prefs[pm.Application][pm.Priority] = pm.Modes
		}
	}
	var teams []models.Team
	if err := db.Find(&teams).Error; err != nil {
		return nil, fmt.Errorf("loading teams: %w", err)
	}
	teamByID := map[string]*dbTeam{}
	for _, t := range teams {
		dt := &dbTeam{row: t, members: map[string]bool{}, oncall: map[string]string{}}
		st.teams[t.Name], st.teamNames[t.ID], teamByID[t.ID] = dt, t.Name, dt
	}
	var members []models.TeamMember
	if err := db.Find(&members).Error; err != nil {
		return nil, fmt.Errorf("loading team members: %w", err)
	}
	for _, m := range members {
		if t := teamByID[m.TeamID]; t != nil {
			t.members[m.PersonID] = true
		}
	}
	var oncall []models.OncallAssignment
	if err := db.Find(&oncall).Error; err != nil {
		return nil, fmt.Errorf("loading on-call assignments: %w", err)
	}
	for _, o := range oncall {
		if t := teamByID[o.TeamID]; t != nil {
			t.oncall[o.Role] = o.PersonID
		}
	}
	var templates []models.MessageTemplate
	if err := db.Find(&templates).Error; err != nil {
		return nil, fmt.Errorf("loading templates: %w", err)
	}
	for i := range templates {
		st.templates[templates[i].Name] = &templates[i]
	}
	var plans []models.Plan
	if err := db.Find(&plans).Error; err != nil {
		return nil, fmt.Errorf("loading plans: %w", err)
	}
	planByID := map[string]*dbPlan{}
	for _, p := range plans {
		dp := &dbPlan{row: p, versions: map[int]string{}}
		st.plans[p.Name], planByID[p.ID] = dp, dp
	}
	var versions []models.PlanVersion
	if err := db.Select("plan_id", "version", "definition").Find(&versions).Error; err != nil {
		return nil, fmt.Errorf("loading plan versions: %w", err)
	}
	for _, v := range versions {
		if p := planByID[v.PlanID]; p != nil {
			p.versions[v.Version] = v.Definition
			p.latest = max(p.latest, v.Version)
		}
	}
	return st, nil
}

// existing is what a file may refer to without declaring it. Retired
// plans are not configuration any more.
func (st *state) existing() *Existing {
	ex := &Existing{People: map[string]string{}, Teams: map[string]bool{}, Templates: map[string]bool{}}
	for name, p := range st.people {
		ex.People[name] = deref(p.row.SlackUserID)
	}
	for name := range st.teams {
		ex.Teams[name] = true
	}
	for name := range st.templates {
		ex.Templates[name] = true
	}
	return ex
}

type applier struct {
	db     *gorm.DB
	now    time.Time
	opts   ApplyOptions
	report *Report
	// Ids by name of the people and teams there will be.
	personIDs, teamIDs map[string]string
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func (a *applier) apply(st *state, c *Catalog) error {
	if err := a.prune(st, c); err != nil {
		return err
	}
	a.personIDs, a.teamIDs = map[string]string{}, map[string]string{}
	for name, p := range st.people {
		a.personIDs[name] = p.row.ID
	}
	for name, t := range st.teams {
		a.teamIDs[name] = t.row.ID
	}
	// Slack ids move between people in two passes, or the unique index
	// would see one id twice in between.
	for _, spec := range c.People {
		if p := st.people[spec.Name]; p != nil && p.row.SlackUserID != nil && *p.row.SlackUserID != spec.SlackID {
			if err := a.db.Model(&models.Person{}).Where("id = ?", p.row.ID).Update("slack_user_id", nil).Error; err != nil {
				return fmt.Errorf("updating person %q: %w", spec.Name, err)
			}
		}
	}
	for _, spec := range c.People {
		if err := a.person(st.people[spec.Name], spec); err != nil {
			return fmt.Errorf("applying person %q: %w", spec.Name, err)
		}
	}
	for _, spec := range c.Teams {
		if err := a.team(st.teams[spec.Name], spec); err != nil {
			return fmt.Errorf("applying team %q: %w", spec.Name, err)
		}
	}
	for _, spec := range c.Templates {
		if err := a.template(st.templates[spec.Name], spec); err != nil {
			return fmt.Errorf("applying template %q: %w", spec.Name, err)
		}
	}
	for _, spec := range c.Plans {
		if err := a.plan(st.plans[spec.Name], spec); err != nil {
			return fmt.Errorf("applying plan %q: %w", spec.Name, err)
		}
	}
	return nil
}

// prune removes (with Prune) or lists what the file does not declare:
// plans first, then templates, teams and people, so nothing left refers to
// what goes.
func (a *applier) prune(st *state, c *Catalog) error {
	declared := func(names []string) map[string]bool {
		m := make(map[string]bool, len(names))
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	plans := declared(collect(c.Plans, func(p PlanSpec) string { return p.Name }))
	for _, name := range sortedNames(st.plans) {
		p := st.plans[name]
		if plans[name] || p.row.ActiveVersion == 0 {
			continue
		}
		if !a.opts.Prune {
			a.report.Prunable = append(a.report.Prunable, Change{Kind: KindPlan, Name: name, Action: ActionDelete})
			continue
		}
		used, err := a.planUsed(p.row.ID)
		if err != nil {
			return err
		}
		if used {
			err = a.db.Model(&models.Plan{}).Where("id = ?", p.row.ID).Updates(map[string]any{"active_version": 0, "updated_at": a.now}).Error
			a.report.record(KindPlan, name, ActionRetire, "")
		} else {
			err = a.db.Where("id = ?", p.row.ID).Delete(&models.Plan{}).Error
			a.report.record(KindPlan, name, ActionDelete, "")
		}
		if err != nil {
			return fmt.Errorf("pruning plan %q: %w", name, err)
		}
	}
	templates := declared(collect(c.Templates, func(t TemplateSpec) string { return t.Name }))
	for _, name := range sortedNames(st.templates) {
		if !templates[name] {
			if err := a.remove(KindTemplate, name, &models.MessageTemplate{}, "name = ?", name); err != nil {
				return err
			}
		}
	}
	teams := declared(collect(c.Teams, func(t TeamSpec) string { return t.Name }))
	for _, name := range sortedNames(st.teams) {
		if !teams[name] {
			if err := a.remove(KindTeam, name, &models.Team{}, "id = ?", st.teams[name].row.ID); err != nil {
				return err
			}
		}
	}
	people := declared(collect(c.People, func(p PersonSpec) string { return p.Name }))
	for _, name := range sortedNames(st.people) {
		if !people[name] {
			if err := a.remove(KindPerson, name, &models.Person{}, "id = ?", st.people[name].row.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// remove deletes one undeclared thing (its dependent rows cascade), or
// lists it without Prune.
func (a *applier) remove(kind, name string, model any, where string, key string) error {
	if !a.opts.Prune {
		a.report.Prunable = append(a.report.Prunable, Change{Kind: kind, Name: name, Action: ActionDelete})
		return nil
	}
	if err := a.db.Where(where, key).Delete(model).Error; err != nil {
		return fmt.Errorf("pruning %s %q: %w", kind, name, err)
	}
	a.report.record(kind, name, ActionDelete, "")
	return nil
}

// planUsed reports whether escalations or messages refer to a version of
// the plan: those versions must stay.
func (a *applier) planUsed(planID string) (bool, error) {
	versions := a.db.Table("plan_versions").Select("id").Where("plan_id = ?", planID)
	for _, table := range []string{"escalations", "messages"} {
		var n int64
		if err := a.db.Table(table).Where("plan_version_id IN (?)", versions).Count(&n).Error; err != nil {
			return false, fmt.Errorf("checking the use of a plan: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

func (a *applier) person(have *dbPerson, spec PersonSpec) error {
	active := spec.Active == nil || *spec.Active
	row := models.Person{Name: spec.Name, FullName: spec.FullName, SlackUserID: nilIfEmpty(spec.SlackID), TimeZone: spec.TimeZone, Active: active}
	created := have == nil
	var details []string
	if created {
		row.ID, row.CreatedAt, row.UpdatedAt = newID(), a.now, a.now
		if err := a.db.Create(&row).Error; err != nil {
			return err
		}
		a.personIDs[spec.Name] = row.ID
		have = &dbPerson{row: row, prefs: map[string]map[string]string{}}
	} else {
		// Details name the file's fields.
		updates := map[string]any{}
		if have.row.FullName != row.FullName {
			updates["full_name"] = row.FullName
			details = append(details, "full_name")
		}
		if deref(have.row.SlackUserID) != spec.SlackID {
			updates["slack_user_id"] = row.SlackUserID
			details = append(details, "slack_id")
		}
		if have.row.TimeZone != row.TimeZone {
			updates["time_zone"] = row.TimeZone
			details = append(details, "time_zone")
		}
		if have.row.Active != row.Active {
			updates["active"] = row.Active
			details = append(details, "active")
		}
		if len(updates) > 0 {
			updates["updated_at"] = a.now
			if err := a.db.Model(&models.Person{}).Where("id = ?", have.row.ID).Updates(updates).Error; err != nil {
				return err
			}
		}
	}
	// No contacts (priorities) key: the person's contact methods (global
	// preferences) stay as they are, whatever was set on the web UI.
	var contacts string
	if spec.Contacts != nil {
		var err error
		if contacts, err = a.contacts(have, spec.Contacts); err != nil {
			return err
		}
	}
	want := map[string]PriorityModes{}
	for app, p := range spec.ApplicationPriorities {
		want[app] = p
	}
	if spec.Priorities != nil {
		want[""] = spec.Priorities
	}
	prefs, err := a.prefs(have, want, spec.Priorities != nil)
	if err != nil {
		return err
	}
	if created {
		a.report.record(KindPerson, spec.Name, ActionCreate, "")
		return nil
	}
	if contacts != "" {
		details = append(details, "contacts ("+contacts+")")
	}
	if prefs {
		details = append(details, "priorities")
	}
	return a.finish(KindPerson, spec.Name, details, nil)
}

// finish records an update with details, or an unchanged thing.
func (a *applier) finish(kind, name string, details []string, touch func() error) error {
	if len(details) == 0 {
		a.report.counts(kind).Unchanged++
		return nil
	}
	if touch != nil {
		if err := touch(); err != nil {
			return err
		}
	}
	a.report.record(kind, name, ActionUpdate, strings.Join(details, ", "))
	return nil
}

// contacts makes a person's contact methods the declared ones, matched by
// mode and destination. It returns a summary of the changes that names
// modes, never destinations.
func (a *applier) contacts(have *dbPerson, want []ContactSpec) (string, error) {
	type key struct{ mode, dest string }
	existing := map[key]models.ContactMethod{}
	var extra []models.ContactMethod // a destination stored twice
	for _, cm := range have.contacts {
		k := key{cm.Mode, cm.Destination.Reveal()}
		if _, dup := existing[k]; dup {
			extra = append(extra, cm)
			continue
		}
		existing[k] = cm
	}
	var added, removed, verified []string
	for i, spec := range want {
		k := key{spec.Mode, spec.Destination}
		if cm, ok := existing[k]; ok {
			delete(existing, k)
			if spec.Verified && cm.VerifiedAt == nil {
				if err := a.db.Model(&models.ContactMethod{}).Where("id = ?", cm.ID).Update("verified_at", a.now).Error; err != nil {
					return "", fmt.Errorf("verifying a contact method: %w", err)
				}
				verified = append(verified, spec.Mode)
			}
			continue
		}
		// A microsecond apart, so the file's order is the order the
		// sender tries them in.
		cm := models.ContactMethod{ID: newID(), PersonID: have.row.ID, Mode: spec.Mode, Destination: models.Secret(spec.Destination),
			CreatedAt: a.now.Add(time.Duration(i) * time.Microsecond)}
		if spec.Verified {
			at := a.now
			cm.VerifiedAt = &at
		}
		if err := a.db.Create(&cm).Error; err != nil {
			return "", fmt.Errorf("adding a contact method: %w", err)
		}
		added = append(added, spec.Mode)
	}
	for _, cm := range have.contacts {
		if left, ok := existing[key{cm.Mode, cm.Destination.Reveal()}]; ok && left.ID == cm.ID {
			extra = append(extra, cm)
		}
	}
	for _, cm := range extra {
		if err := a.db.Where("id = ?", cm.ID).Delete(&models.ContactMethod{}).Error; err != nil {
			return "", fmt.Errorf("removing a contact method: %w", err)
		}
		removed = append(removed, cm.Mode)
	}
	var parts []string
	for _, p := range []struct {
		sign  string
		modes []string
	}{{"+", added}, {"-", removed}, {"verified ", verified}} {
		for _, m := range p.modes {
			parts = append(parts, p.sign+m)
		}
	}
	return strings.Join(parts, ", "), nil
}

// prefs makes a person's priority preferences (application "" is the
// global one) the declared ones; without global, the global ones stay.
func (a *applier) prefs(have *dbPerson, want map[string]PriorityModes, global bool) (bool, error) {
	changed := false
	apps := map[string]bool{}
	for app := range have.prefs {
		if app != "" || global {
			apps[app] = true
		}
	}
	for app := range want {
		apps[app] = true
	}
	for _, app := range sortedNames(apps) {
		keys := map[string]bool{}
		for k := range have.prefs[app] {
			keys[k] = true
		}
		for k := range want[app] {
			keys[k] = true
		}
		for _, prio := range sortedNames(keys) {
			cur, had := have.prefs[app][prio]
			modes, wanted := want[app][prio]
			next := strings.Join(modes, ",")
			row := a.db.Model(&models.PriorityMode{}).Where("person_id = ? AND priority = ? AND application = ?", have.row.ID, prio, app)
			switch {
			case had && wanted && cur == next:
				continue
			case had && !wanted:
				if err := row.Delete(&models.PriorityMode{}).Error; err != nil {
					return false, fmt.Errorf("removing a priority preference: %w", err)
				}
			case had:
				if err := row.Update("modes", next).Error; err != nil {
					return false, fmt.Errorf("updating a priority preference: %w", err)
				}
			default:
				if err := a.db.Create(&models.PriorityMode{PersonID: have.row.ID, Priority: prio, Application: app, Modes: next}).Error; err != nil {
					return false, fmt.Errorf("adding a priority preference: %w", err)
				}
			}
			changed = true
		}
	}
	return changed, nil
}

func (a *applier) team(have *dbTeam, spec TeamSpec) error {
	var manager *string
	if spec.Manager != "" {
		id := a.personIDs[spec.Manager]
		manager = &id
	}
	created := have == nil
	var details []string
	if created {
		row := models.Team{ID: newID(), Name: spec.Name, SlackChannelID: spec.SlackChannel, ManagerID: manager, CreatedAt: a.now, UpdatedAt: a.now}
		if err := a.db.Create(&row).Error; err != nil {
			return err
		}
		a.teamIDs[spec.Name] = row.ID
		have = &dbTeam{row: row, members: map[string]bool{}, oncall: map[string]string{}}
	} else {
		updates := map[string]any{}
		if have.row.SlackChannelID != spec.SlackChannel {
			updates["slack_channel_id"] = spec.SlackChannel
			details = append(details, "slack_channel")
		}
		if deref(have.row.ManagerID) != deref(manager) {
			updates["manager_id"] = manager
			details = append(details, "manager")
		}
		if len(updates) > 0 {
			updates["updated_at"] = a.now
			if err := a.db.Model(&models.Team{}).Where("id = ?", have.row.ID).Updates(updates).Error; err != nil {
				return err
			}
		}
	}
	teamID := have.row.ID
	want := map[string]bool{}
	added, removed := 0, 0
	for _, name := range spec.Members {
		id := a.personIDs[name]
		want[id] = true
		if !have.members[id] {
			if err := a.db.Create(&models.TeamMember{TeamID: teamID, PersonID: id}).Error; err != nil {
				return fmt.Errorf("adding a member: %w", err)
			}
			added++
		}
	}
	for _, id := range sortedNames(have.members) {
		if !want[id] {
			if err := a.db.Where("team_id = ? AND person_id = ?", teamID, id).Delete(&models.TeamMember{}).Error; err != nil {
				return fmt.Errorf("removing a member: %w", err)
			}
			removed++
		}
	}
	if added+removed > 0 {
		details = append(details, fmt.Sprintf("members (+%d, -%d)", added, removed))
	}
	wantOncall := map[string]string{}
	if spec.Oncall != nil {
		for role, name := range map[string]string{"primary": spec.Oncall.Primary, "secondary": spec.Oncall.Secondary} {
			if name != "" {
				wantOncall[role] = a.personIDs[name]
			}
		}
	}
	roles := map[string]bool{}
	for r := range have.oncall {
		roles[r] = true
	}
	for r := range wantOncall {
		roles[r] = true
	}
	for _, role := range sortedNames(roles) {
		cur, had := have.oncall[role]
		next, wanted := wantOncall[role]
		var err error
		switch {
		case had && wanted && cur == next:
			continue
		case had && !wanted:
			err = a.db.Where("team_id = ? AND role = ?", teamID, role).Delete(&models.OncallAssignment{}).Error
		case had:
			err = a.db.Model(&models.OncallAssignment{}).Where("team_id = ? AND role = ?", teamID, role).Update("person_id", next).Error
		default:
			err = a.db.Create(&models.OncallAssignment{TeamID: teamID, Role: role, PersonID: next}).Error
		}
		if err != nil {
			return fmt.Errorf("setting the %s on-call: %w", role, err)
		}
		details = append(details, "oncall."+role)
	}
	if created {
		a.report.record(KindTeam, spec.Name, ActionCreate, "")
		return nil
	}
	return a.finish(KindTeam, spec.Name, details, nil)
}

func (a *applier) template(have *models.MessageTemplate, spec TemplateSpec) error {
	def, err := json.Marshal(spec.Modes)
	if err != nil {
		return err
	}
	if have == nil {
		if err := a.db.Create(&models.MessageTemplate{Name: spec.Name, Definition: string(def), UpdatedAt: a.now}).Error; err != nil {
			return err
		}
		a.report.record(KindTemplate, spec.Name, ActionCreate, "")
		return nil
	}
	var details []string
	if canonicalTemplate(have.Definition) != string(def) {
		details = append(details, "modes")
	}
	return a.finish(KindTemplate, spec.Name, details, func() error {
		return a.db.Model(&models.MessageTemplate{}).Where("name = ?", spec.Name).
			Updates(map[string]any{"definition": string(def), "updated_at": a.now}).Error
	})
}

// canonicalTemplate re-encodes a stored template definition, so formatting
// is not a change ("" when it does not parse: any file replaces it).
func canonicalTemplate(def string) string {
	var m TemplateModes
	if err := json.Unmarshal([]byte(def), &m); err != nil {
		return ""
	}
	b, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return string(b)
}

// planDefinition is a plan's steps as stored in plan versions.
func planDefinition(spec PlanSpec) models.PlanDefinition {
	def := models.PlanDefinition{Steps: make([]models.PlanStep, len(spec.Steps)), Aggregation: planAggregation(spec.Aggregation)}
	for i, s := range spec.Steps {
		step := models.PlanStep{Notifications: make([]models.PlanNotification, len(s.Notifications))}
		for j, n := range s.Notifications {
			step.Notifications[j] = models.PlanNotification{Role: n.Role, Target: n.Target, Priority: n.Priority,
				WaitMinutes: n.Wait, Repeat: n.Repeat, Template: n.Template, Optional: n.Optional}
		}
		def.Steps[i] = step
	}
	return def
}

func canonicalPlan(def string) string {
	var d models.PlanDefinition
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		return ""
	}
	b, err := json.Marshal(d)
	if err != nil {
		return ""
	}
	return string(b)
}

func (a *applier) plan(have *dbPlan, spec PlanSpec) error {
	b, err := json.Marshal(planDefinition(spec))
	if err != nil {
		return err
	}
	def := string(b)
	var team, owner *string
	if spec.Team != "" {
		id := a.teamIDs[spec.Team]
		team = &id
	}
	if spec.Owner != "" {
		id := a.personIDs[spec.Owner]
		owner = &id
	}
	if have == nil {
		row := models.Plan{ID: newID(), Name: spec.Name, TeamID: team, OwnerID: owner, ActiveVersion: 1, CreatedAt: a.now, UpdatedAt: a.now}
		if err := a.db.Create(&row).Error; err != nil {
			return err
		}
		if err := a.publish(row.ID, 1, def); err != nil {
			return err
		}
		a.report.record(KindPlan, spec.Name, ActionCreate, "version 1")
		return nil
	}
	updates := map[string]any{}
	var details []string
	if deref(have.row.TeamID) != deref(team) {
		updates["team_id"] = team
		details = append(details, "team")
	}
	if deref(have.row.OwnerID) != deref(owner) {
		updates["owner_id"] = owner
		details = append(details, "owner")
	}
	active := have.row.ActiveVersion
	switch {
	case active != 0 && canonicalPlan(have.versions[active]) == def:
	case active == 0 && have.latest > 0 && canonicalPlan(have.versions[have.latest]) == def:
		// Retired by a prune and declared again, unchanged.
		updates["active_version"] = have.latest
		details = append(details, fmt.Sprintf("version %d active again", have.latest))
	default:
		next := have.latest + 1
		if err := a.publish(have.row.ID, next, def); err != nil {
			return err
		}
		updates["active_version"] = next
		details = append(details, fmt.Sprintf("version %d published", next))
	}
	return a.finish(KindPlan, spec.Name, details, func() error {
		updates["updated_at"] = a.now
		return a.db.Model(&models.Plan{}).Where("id = ?", have.row.ID).Updates(updates).Error
	})
}

func (a *applier) publish(planID string, version int, def string) error {
	v := models.PlanVersion{PlanID: planID, Version: version, Definition: def, CreatedBy: a.opts.Actor, CreatedAt: a.now}
	if err := a.db.Create(&v).Error; err != nil {
		return fmt.Errorf("publishing version %d: %w", version, err)
	}
	return nil
}

// ExportOptions tune Export.
type ExportOptions struct {
	// IncludeSecrets writes contact destinations; without it they are
	// Redacted, and the file cannot be applied as it is.
	IncludeSecrets bool
}

// Export reads the configuration the database holds, as a catalog that
// Apply turns back into the same configuration. Retired plans are left
// out.
func Export(ctx context.Context, store *models.Store, o ExportOptions) (*Catalog, error) {
	var st *state
	var ss *serviceState
	var sched *scheduleState
	err := store.InTx(ctx, func(tx *models.Store) error {
		var err error
		if st, err = loadState(tx.DB().WithContext(ctx)); err != nil {
			return err
		}
		if ss, err = loadServiceState(tx.DB().WithContext(ctx)); err != nil {
			return err
		}
		sched, err = loadScheduleState(ctx, tx, st)
		return err
	})
	if err != nil {
		return nil, err
	}
	c := &Catalog{}
	for _, name := range sortedNames(st.people) {
		p := st.people[name]
		// Contacts and priorities are written even when empty (contacts: [],
		// priorities: {}): the export is the whole configuration, and a
		// left-out key would leave the database's alone.
		spec := PersonSpec{Name: name, FullName: p.row.FullName, SlackID: deref(p.row.SlackUserID), TimeZone: p.row.TimeZone,
			Contacts: []ContactSpec{}, Priorities: PriorityModes{}}
		if !p.row.Active {
			inactive := false
			spec.Active = &inactive
		}
		for _, cm := range p.contacts {
			dest := Redacted
			if o.IncludeSecrets {
				dest = cm.Destination.Reveal()
			}
			spec.Contacts = append(spec.Contacts, ContactSpec{Mode: cm.Mode, Destination: dest, Verified: cm.VerifiedAt != nil})
		}
		for app, prefs := range p.prefs {
			out := PriorityModes{}
			for prio, modes := range prefs {
				out[prio] = models.PriorityMode{Modes: modes}.ModeList()
			}
			if app == "" {
				spec.Priorities = out
				continue
			}
			if spec.ApplicationPriorities == nil {
				spec.ApplicationPriorities = map[string]PriorityModes{}
			}
			spec.ApplicationPriorities[app] = out
		}
		c.People = append(c.People, spec)
	}
	for _, name := range sortedNames(st.teams) {
		t := st.teams[name]
		spec := TeamSpec{Name: name, SlackChannel: t.row.SlackChannelID, Manager: st.names[deref(t.row.ManagerID)]}
		for id := range t.members {
			if n, ok := st.names[id]; ok {
				spec.Members = append(spec.Members, n)
			}
		}
		sort.Strings(spec.Members)
		primary, secondary := st.names[t.oncall["primary"]], st.names[t.oncall["secondary"]]
		if primary != "" || secondary != "" {
			spec.Oncall = &OncallSpec{Primary: primary, Secondary: secondary}
		}
		c.Teams = append(c.Teams, spec)
	}
	for _, name := range sortedNames(st.templates) {
		var modes TemplateModes
		if err := json.Unmarshal([]byte(st.templates[name].Definition), &modes); err != nil {
			return nil, fmt.Errorf("template %q: its stored definition is not valid: %w", name, err)
		}
		c.Templates = append(c.Templates, TemplateSpec{Name: name, Modes: modes})
	}
	for _, name := range sortedNames(st.plans) {
		p := st.plans[name]
		if p.row.ActiveVersion == 0 {
			continue
		}
		raw, ok := p.versions[p.row.ActiveVersion]
		if !ok {
			return nil, fmt.Errorf("plan %q: its active version %d does not exist", name, p.row.ActiveVersion)
		}
		var def models.PlanDefinition
		if err := json.Unmarshal([]byte(raw), &def); err != nil {
			return nil, fmt.Errorf("plan %q version %d: %w", name, p.row.ActiveVersion, err)
		}
		spec := PlanSpec{Name: name, Team: st.teamNames[deref(p.row.TeamID)], Owner: st.names[deref(p.row.OwnerID)], Aggregation: aggregationSpec(def.Aggregation)}
		for _, s := range def.Steps {
			var step StepSpec
			for _, n := range s.Notifications {
				step.Notifications = append(step.Notifications, NotificationSpec{Role: n.Role, Target: n.Target, Priority: n.Priority,
					Wait: n.WaitMinutes, Repeat: n.Repeat, Template: n.Template, Optional: n.Optional})
			}
			spec.Steps = append(spec.Steps, step)
		}
		c.Plans = append(c.Plans, spec)
	}
	if err := ss.export(c, st); err != nil {
		return nil, err
	}
	sched.export(c, st)
	return c, nil
}

// MarshalCatalog writes a catalog as YAML that ParseCatalog reads back.
func MarshalCatalog(c *Catalog) ([]byte, error) {
	b, err := yaml.MarshalWithOptions(c, yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	return b, nil
}

func collect[T any](list []T, name func(T) string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = name(x)
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
