package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ServiceOverview is a service as the web UI lists it: with the names of
// its team and plan, its open incidents and its last alert.
type ServiceOverview struct {
	Service
	TeamName      string
	PlanName      string
	OpenIncidents int64
	// LastAlertAt is when its newest incident was last seen (nil: none).
	LastAlertAt *time.Time
}

// ServiceOverviews lists every service by name.
func (s *Store) ServiceOverviews(ctx context.Context) ([]ServiceOverview, error) {
	var rows []ServiceOverview
	err := s.db.WithContext(ctx).Table("services").
		Select("services.*, COALESCE(teams.name, '') AS team_name, COALESCE(plans.name, '') AS plan_name").
		Joins("LEFT JOIN teams ON teams.id = services.team_id").
		Joins("LEFT JOIN plans ON plans.id = services.plan_id").
		Order("services.name").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	var open []struct {
		ServiceID string
		N         int64
	}
	err = s.db.WithContext(ctx).Model(&Incident{}).Select("service_id, COUNT(*) AS n").
		Where("service_id IS NOT NULL AND resolved_at IS NULL").Group("service_id").Scan(&open).Error
	if err != nil {
		return nil, fmt.Errorf("counting open incidents: %w", err)
	}
	// The newest incident of each service by number, then its times: an
	// aggregate of a time column loses its type on SQLite.
	var newest []int64
	err = s.db.WithContext(ctx).Raw(`SELECT MAX(number) FROM incidents WHERE service_id IS NOT NULL GROUP BY service_id`).Scan(&newest).Error
	if err != nil {
		return nil, fmt.Errorf("finding the last alerts: %w", err)
	}
	var last []Incident
	if len(newest) > 0 {
		if err := s.db.WithContext(ctx).Select("service_id", "created_at", "last_seen_at").Where("number IN ?", newest).Find(&last).Error; err != nil {
			return nil, fmt.Errorf("loading the last alerts: %w", err)
		}
	}
	counts, lastAt := map[string]int64{}, map[string]time.Time{}
	for _, o := range open {
		counts[o.ServiceID] = o.N
	}
	for _, inc := range last {
		at := inc.CreatedAt
		if inc.LastSeenAt != nil && inc.LastSeenAt.After(at) {
			at = *inc.LastSeenAt
		}
		lastAt[*inc.ServiceID] = at.UTC()
	}
	for i := range rows {
		rows[i].OpenIncidents = counts[rows[i].ID]
		if at, ok := lastAt[rows[i].ID]; ok {
			rows[i].LastAlertAt = &at
		}
	}
	return rows, nil
}

// PlanChoices lists every plan by name (id, name and team), for choosing a
// service's plan.
func (s *Store) PlanChoices(ctx context.Context) ([]Plan, error) {
	var out []Plan
	if err := s.db.WithContext(ctx).Select("id", "name", "team_id", "active_version").Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing plans: %w", err)
	}
	return out, nil
}

// ServiceInput is a service as the web UI's form gives it: team and plan
// by id ("" for none).
type ServiceInput struct {
	Name             string
	Description      string
	TeamID           string
	PlanID           string
	DefaultSeverity  Severity
	WorkingHoursOnly bool
}

// MaxServiceDescription bounds a service's description.
const MaxServiceDescription = 1000

// serviceNamePattern is the names `herald apply` accepts: they appear in
// webhook URLs (?service=) and alert labels.
var serviceNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkServiceInput reports every problem of a service, each at its field.
func (s *Store) checkServiceInput(ctx context.Context, in ServiceInput) (InputErrors, error) {
	var errs InputErrors
	switch {
	case in.Name == "":
		errs.add("name", "required")
	case !serviceNamePattern.MatchString(in.Name):
		errs.add("name", "%q is not a valid name (letters, digits, \".\", \"_\" and \"-\", up to 64 characters, starting with a letter or digit)", in.Name)
	}
	if !utf8.ValidString(in.Description) || utf8.RuneCountInString(in.Description) > MaxServiceDescription {
		errs.add("description", "must be text of at most %d characters", MaxServiceDescription)
	}
	if !in.DefaultSeverity.Valid() {
		errs.add("default_severity", "choose SEV1 to SEV4")
	}
	for _, ref := range []struct {
		field, id string
		model     any
	}{{"team", in.TeamID, &Team{}}, {"plan", in.PlanID, &Plan{}}} {
		if ref.id == "" {
			continue
		}
		var n int64
		if err := s.db.WithContext(ctx).Model(ref.model).Where("id = ?", ref.id).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("checking the %s: %w", ref.field, err)
		}
		if n == 0 {
			errs.add(ref.field, "no such %s (it may have been deleted)", ref.field)
		}
	}
	return errs, nil
}

func optionalID(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// CreateService stores a new service. Its problems (a name in use too)
// are InputErrors naming each field.
func (s *Store) CreateService(ctx context.Context, in ServiceInput) (*Service, error) {
	var out *Service
	err := s.InTx(ctx, func(tx *Store) error {
		errs, err := tx.checkServiceInput(ctx, in)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.db.WithContext(ctx).Model(&Service{}).Where("name = ?", in.Name).Count(&n).Error; err != nil {
			return fmt.Errorf("checking the service name: %w", err)
		}
		if n > 0 {
			errs.add("name", "a service named %q exists already", in.Name)
		}
		if len(errs) > 0 {
			return errs
		}
		now := tx.clock.Now().UTC()
		out = &Service{ID: uuid.Must(uuid.NewV7()).String(), Name: in.Name, Description: in.Description, TeamID: optionalID(in.TeamID),
			PlanID: optionalID(in.PlanID), DefaultSeverity: in.DefaultSeverity, WorkingHoursOnly: in.WorkingHoursOnly, CreatedAt: now, UpdatedAt: now}
		if err := tx.db.WithContext(ctx).Create(out).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return InputErrors{{Field: "name", Message: fmt.Sprintf("a service named %q exists already", in.Name)}}
			}
			return fmt.Errorf("storing service: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateService changes a service's description, team, plan, default
// severity and working hours; its name stays (webhook URLs and alert
// labels carry it). Problems are InputErrors naming each field.
func (s *Store) UpdateService(ctx context.Context, id string, in ServiceInput) (*Service, error) {
	var out Service
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Take(&out).Error; err != nil {
			return fmt.Errorf("loading service: %w", err)
		}
		in.Name = out.Name
		errs, err := tx.checkServiceInput(ctx, in)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return errs
		}
		out.Description, out.TeamID, out.PlanID = in.Description, optionalID(in.TeamID), optionalID(in.PlanID)
		out.DefaultSeverity, out.WorkingHoursOnly, out.UpdatedAt = in.DefaultSeverity, in.WorkingHoursOnly, tx.clock.Now().UTC()
		err = tx.db.WithContext(ctx).Model(&Service{}).Where("id = ?", id).Updates(map[string]any{
			"description": out.Description, "team_id": out.TeamID, "plan_id": out.PlanID, "default_severity": out.DefaultSeverity,
			"working_hours_only": out.WorkingHoursOnly, "updated_at": out.UpdatedAt}).Error
		if err != nil {
			return fmt.Errorf("updating service: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// MaintenanceWindowByName finds a window, with its service's name.
func (s *Store) MaintenanceWindowByName(ctx context.Context, name string) (*MaintenanceWindow, error) {
	var w MaintenanceWindow
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&w).Error; err != nil {
		return nil, fmt.Errorf("finding maintenance window %q: %w", name, err)
	}
	ws := []MaintenanceWindow{w}
	if err := s.nameServices(ctx, ws); err != nil {
		return nil, err
	}
	return &ws[0], nil
}

// CreateMaintenanceWindows stores windows all together or none: a name
// in use is ErrDuplicate.
func (s *Store) CreateMaintenanceWindows(ctx context.Context, ws []*MaintenanceWindow) error {
	return s.InTx(ctx, func(tx *Store) error {
		for _, w := range ws {
			var n int64
			if err := tx.db.WithContext(ctx).Model(&MaintenanceWindow{}).Where("name = ?", w.Name).Count(&n).Error; err != nil {
				return fmt.Errorf("checking maintenance window names: %w", err)
			}
			if n > 0 {
				return fmt.Errorf("maintenance window %q: %w", w.Name, ErrDuplicate)
			}
			if err := tx.CreateMaintenanceWindow(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// EndMaintenanceWindow ends a running window at `at` (a weekly one
// recurs no more). A window `herald apply` owns is ErrManagedByConfig (the
// next apply would bring it back), one not started yet ErrInvalid (delete
// it instead), one already over ErrNoChange.
func (s *Store) EndMaintenanceWindow(ctx context.Context, name string, at time.Time) (*MaintenanceWindow, error) {
	at = at.UTC().Truncate(time.Second)
	var out *MaintenanceWindow
	err := s.InTx(ctx, func(tx *Store) error {
		w, err := tx.MaintenanceWindowByName(ctx, name)
		if err != nil {
			return err
		}
		switch {
		case w.ManagedBy == ManagedByConfig:
			return fmt.Errorf("maintenance window %q: %w", name, ErrManagedByConfig)
		case w.EndsAt != nil && !w.EndsAt.After(at):
			return fmt.Errorf("maintenance window %q is over: %w", name, ErrNoChange)
		case !w.StartsAt.Before(at):
			return fmt.Errorf("%w: maintenance window %q has not started: delete it instead", ErrInvalid, name)
		}
		w.EndsAt, w.UpdatedAt = &at, tx.clock.Now().UTC()
		if err := tx.db.WithContext(ctx).Model(&MaintenanceWindow{}).Where("id = ?", w.ID).
			Updates(map[string]any{"ends_at": at, "updated_at": w.UpdatedAt}).Error; err != nil {
			return fmt.Errorf("ending maintenance window %q: %w", name, err)
		}
		out = w
		return nil
	})
	return out, err
}

// ServiceTeams maps service names to their team ids ("" without a team),
// for checking who may scope an integration to them.
func (s *Store) ServiceTeams(ctx context.Context, names []string) (map[string]string, error) {
	out := map[string]string{}
	if len(names) == 0 {
		return out, nil
	}
	var rows []Service
	clean := make([]string, len(names))
	for i, n := range names {
		clean[i] = strings.TrimSpace(n)
	}
	if err := s.db.WithContext(ctx).Select("name", "team_id").Where("name IN ?", clean).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("loading the teams of services: %w", err)
	}
	for _, r := range rows {
		out[r.Name] = ""
		if r.TeamID != nil {
			out[r.Name] = *r.TeamID
		}
	}
	return out, nil
}
