package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// MaintenanceWindow holds the pages of matching alerts: they are recorded
// and shown, and page nobody. One-off (StartsAt until EndsAt) or weekly
// (Weekdays at StartTime in TimeZone for DurationSeconds, between StartsAt
// and EndsAt, which may then be nil).
type MaintenanceWindow struct {
	ID        string // UUIDv7
	Name      string
	ServiceID *string // nil: every service
	// Matchers is a JSON object label → value; every one must equal the
	// alert's label. Empty matches every alert of the service.
	Matchers        string
	StartsAt        time.Time
	EndsAt          *time.Time
	Weekdays        string // "mon,thu"; "" one-off
	StartTime       string // HH:MM, in TimeZone
	DurationSeconds int
	TimeZone        string
	Reason          string
	CreatedBy       string
	// CancelPending stops the running escalations of matching open
	// incidents when the window (each occurrence) starts.
	CancelPending bool
	ManagedBy     string     // ManagedByConfig or ManagedByAPI
	SweptStart    *time.Time // the occurrence whose escalations were stopped
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// ServiceName is filled by the listing queries (not a column).
	ServiceName string `gorm:"-"`
}

// Who owns a maintenance window.
const (
	// ManagedByConfig windows come from `herald apply`: it exports, updates
	// and prunes them, and the admin API does not delete them.
	ManagedByConfig = "config"
	// ManagedByAPI windows come from the admin API; apply leaves them be.
	ManagedByAPI = "api"
)

// ErrManagedByConfig refuses to delete a window `herald apply` owns over
// the admin API (the next apply would bring it back).
var ErrManagedByConfig = errors.New("managed by herald apply")

// Labels are the window's matchers.
func (w *MaintenanceWindow) Labels() map[string]string {
	if w.Matchers == "" {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(w.Matchers), &m); err != nil {
		// Stored by ParseMaintenance: unreadable means tampered with. It
		// then matches nothing, rather than everything.
		return map[string]string{"": "\x00unreadable matchers"}
	}
	return m
}

// Matches reports whether labels satisfy every matcher of the window.
func (w *MaintenanceWindow) Matches(labels map[string]string) bool {
	for k, v := range w.Labels() {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Recurring reports whether the window repeats weekly.
func (w *MaintenanceWindow) Recurring() bool { return w.Weekdays != "" }

// Duration is the length of each weekly occurrence.
func (w *MaintenanceWindow) Duration() time.Duration {
	return time.Duration(w.DurationSeconds) * time.Second
}

// OccurrenceAt returns the occurrence of the window that holds t: its
// start and end, clipped to StartsAt and EndsAt.
func (w *MaintenanceWindow) OccurrenceAt(t time.Time) (start, end time.Time, ok bool) {
	t = t.UTC()
	if t.Before(w.StartsAt) || (w.EndsAt != nil && !t.Before(*w.EndsAt)) {
		return time.Time{}, time.Time{}, false
	}
	if !w.Recurring() {
		if w.EndsAt == nil {
			return time.Time{}, time.Time{}, false
		}
		return w.StartsAt.UTC(), w.EndsAt.UTC(), true
	}
	loc, err := time.LoadLocation(w.TimeZone)
	hh, mm, terr := parseClock(w.StartTime)
	if err != nil || terr != nil || w.DurationSeconds <= 0 {
		return time.Time{}, time.Time{}, false
	}
	days := map[time.Weekday]bool{}
	for _, d := range strings.Split(w.Weekdays, ",") {
		if wd, ok := weekdayNames[d]; ok {
			days[wd] = true
		}
	}
	local := t.In(loc)
	dur := w.Duration()
	// The latest start at or before t: today's, or one up to the
	// occurrence's length (in days) back.
	for back := 0; back <= int(dur/(24*time.Hour))+1; back++ {
		d := local.AddDate(0, 0, -back)
		s := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc)
		if !days[s.Weekday()] || t.Before(s) || !t.Before(s.Add(dur)) {
			continue
		}
		start, end = s.UTC(), s.Add(dur).UTC()
		if start.Before(w.StartsAt) {
			start = w.StartsAt.UTC()
		}
		if w.EndsAt != nil && end.After(*w.EndsAt) {
			end = w.EndsAt.UTC()
		}
		return start, end, true
	}
	return time.Time{}, time.Time{}, false
}

// Describe is how the timeline names the window.
func (w *MaintenanceWindow) Describe() string {
	return fmt.Sprintf("maintenance window %q (%s)", w.Name, w.Reason)
}

// CreateMaintenanceWindow stores a new window. A name in use is
// ErrDuplicate.
func (s *Store) CreateMaintenanceWindow(ctx context.Context, w *MaintenanceWindow) error {
	now := s.clock.Now().UTC()
	if w.ID == "" {
		w.ID = uuid.Must(uuid.NewV7()).String()
	}
	if w.ManagedBy == "" {
		w.ManagedBy = ManagedByAPI
	}
	w.CreatedAt, w.UpdatedAt = now, now
	err := s.db.WithContext(ctx).Create(w).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("maintenance window %q: %w", w.Name, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("storing maintenance window: %w", err)
	}
	return nil
}

// MaintenanceWindows lists every window by name, with service names.
func (s *Store) MaintenanceWindows(ctx context.Context) ([]MaintenanceWindow, error) {
	var out []MaintenanceWindow
	if err := s.db.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading maintenance windows: %w", err)
	}
	return out, s.nameServices(ctx, out)
}

func (s *Store) nameServices(ctx context.Context, ws []MaintenanceWindow) error {
	var ids []string
	for _, w := range ws {
		if w.ServiceID != nil {
			ids = append(ids, *w.ServiceID)
		}
	}
	svcs, err := s.ServicesByID(ctx, ids)
	if err != nil {
		return err
	}
	for i := range ws {
		if ws[i].ServiceID != nil && svcs[*ws[i].ServiceID] != nil {
			ws[i].ServiceName = svcs[*ws[i].ServiceID].Name
		}
	}
	return nil
}

// DeleteMaintenanceWindow removes a window the admin API made, by name.
func (s *Store) DeleteMaintenanceWindow(ctx context.Context, name string) error {
	var w MaintenanceWindow
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&w).Error; err != nil {
		return fmt.Errorf("finding maintenance window %q: %w", name, err)
	}
	if w.ManagedBy == ManagedByConfig {
		return fmt.Errorf("maintenance window %q: %w", name, ErrManagedByConfig)
	}
	if err := s.db.WithContext(ctx).Where("id = ?", w.ID).Delete(&MaintenanceWindow{}).Error; err != nil {
		return fmt.Errorf("deleting maintenance window %q: %w", name, err)
	}
	return nil
}

// ActiveMaintenance lists the windows holding alerts of a service at t
// (windows for every service included), by name.
func (s *Store) ActiveMaintenance(ctx context.Context, serviceID string, t time.Time) ([]MaintenanceWindow, error) {
	t = t.UTC()
	var rows []MaintenanceWindow
	err := s.db.WithContext(ctx).Where("(service_id IS NULL OR service_id = ?) AND starts_at <= ? AND (ends_at IS NULL OR ends_at > ?)", serviceID, t, t).
		Order("name").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("loading maintenance windows: %w", err)
	}
	out := rows[:0]
	for _, w := range rows {
		if _, _, ok := w.OccurrenceAt(t); ok {
			out = append(out, w)
		}
	}
	return out, nil
}

// WindowsToSweep lists the cancel_pending windows in an occurrence at t
// whose escalations were not stopped yet for it.
func (s *Store) WindowsToSweep(ctx context.Context, t time.Time) ([]MaintenanceWindow, error) {
	t = t.UTC()
	var rows []MaintenanceWindow
	err := s.db.WithContext(ctx).Where("cancel_pending AND starts_at <= ? AND (ends_at IS NULL OR ends_at > ?)", t, t).
		Order("name").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("loading maintenance windows: %w", err)
	}
	out := rows[:0]
	for _, w := range rows {
		if start, _, ok := w.OccurrenceAt(t); ok && (w.SweptStart == nil || !w.SweptStart.Equal(start)) {
			out = append(out, w)
		}
	}
	return out, nil
}

// MarkWindowSwept records that the occurrence starting at start stopped
// its escalations.
func (s *Store) MarkWindowSwept(ctx context.Context, id string, start time.Time) error {
	err := s.db.WithContext(ctx).Model(&MaintenanceWindow{}).Where("id = ?", id).
		Updates(map[string]any{"swept_start": start.UTC(), "updated_at": s.clock.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("marking maintenance window swept: %w", err)
	}
	return nil
}

// EscalatingIncidents lists the open incidents raised for a service (nil:
// any service) whose escalation is running.
func (s *Store) EscalatingIncidents(ctx context.Context, serviceID *string) ([]Incident, error) {
	q := s.db.WithContext(ctx).Where("resolved_at IS NULL AND service_id IS NOT NULL").
		Where("id IN (?)", s.db.Model(&Escalation{}).Select("incident_id").Where("state = ?", EscalationActive))
	if serviceID != nil {
		q = q.Where("service_id = ?", *serviceID)
	}
	var out []Incident
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading escalating incidents: %w", err)
	}
	return out, nil
}

// IncidentLabels are the labels of an alert's context: its "labels"
// object (Alertmanager's shape) and its top-level text fields, the
// labels winning. Windows match them when they stop running escalations.
func IncidentLabels(contextJSON string) map[string]string {
	var raw map[string]any
	if json.Unmarshal([]byte(contextJSON), &raw) != nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	if labels, ok := raw["labels"].(map[string]any); ok {
		for k, v := range labels {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
	}
	return out
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// weekdayOrder lists the short names from Monday.
var weekdayOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// sortWeekdays orders short weekday names from Monday.
func sortWeekdays(days []string) {
	sort.Slice(days, func(i, j int) bool {
		return slices.Index(weekdayOrder, days[i]) < slices.Index(weekdayOrder, days[j])
	})
}

// parseClock reads HH:MM (24-hour).
func parseClock(s string) (int, int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, 0, fmt.Errorf("%q is not a time of day (HH:MM, 24-hour, like 02:30)", s)
	}
	return t.Hour(), t.Minute(), nil
}
