package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/ttlcache"
	"github.com/heraldhq/herald/models"
)

// MaintenanceStore is what maintenance windows read and write;
// *models.Store implements it.
type MaintenanceStore interface {
	ServiceByName(ctx context.Context, name string) (*models.Service, error)
	CreateMaintenanceWindow(ctx context.Context, w *models.MaintenanceWindow) error
	MaintenanceWindows(ctx context.Context) ([]models.MaintenanceWindow, error)
	DeleteMaintenanceWindow(ctx context.Context, name string) error
	ActiveMaintenance(ctx context.Context, serviceID string, t time.Time) ([]models.MaintenanceWindow, error)
	WindowsToSweep(ctx context.Context, t time.Time) ([]models.MaintenanceWindow, error)
	MarkWindowSwept(ctx context.Context, id string, start time.Time) error
	EscalatingIncidents(ctx context.Context, serviceID *string) ([]models.Incident, error)
}

// Maintenance is noise control by maintenance windows: the intake's
// AlertSuppressor (alerts in a window are recorded and page nobody), the
// check that stops running escalations when a cancel_pending window
// starts, and the admin API's windows.
type Maintenance struct {
	d     Deps
	store MaintenanceStore
	// active caches each service's active windows for a second: every
	// alert asks, and in a storm that is thousands of identical queries.
	// Windows changed here show at once; changed elsewhere (herald apply,
	// another replica), within the second.
	active *ttlcache.Cache[string, []models.MaintenanceWindow]
}

// activeWindowsTTL is how stale the windows an alert is checked against
// may be.
const activeWindowsTTL = time.Second

// NewMaintenance builds maintenance windows on the handlers' dependencies.
func NewMaintenance(d Deps, store MaintenanceStore) *Maintenance {
	return &Maintenance{d: d, store: store, active: ttlcache.New[string, []models.MaintenanceWindow](activeWindowsTTL, 10_000, clockOf(d))}
}

// ForgetCached drops cached windows (after configuration changed here).
func (m *Maintenance) ForgetCached() { m.active.Clear() }

// activeWindows is ActiveMaintenance through the cache.
func (m *Maintenance) activeWindows(ctx context.Context, serviceID string, now time.Time) ([]models.MaintenanceWindow, error) {
	if ws, ok := m.active.Get(serviceID); ok {
		return ws, nil
	}
	ws, err := m.store.ActiveMaintenance(ctx, serviceID, now)
	if err != nil {
		return nil, err
	}
	m.active.Put(serviceID, ws)
	return ws, nil
}

// Suppressed implements AlertSuppressor: the first window (by name)
// holding the alert's service and matching its labels now. An alert
// without a service (the Iris API names a plan) is held only by windows
// for every service.
func (m *Maintenance) Suppressed(ctx context.Context, svc *models.Service, a *NewAlert) (string, error) {
	now := m.d.Clock.Now()
	serviceID, serviceName := "", ""
	if svc != nil {
		serviceID, serviceName = svc.ID, svc.Name
	}
	ws, err := m.activeWindows(ctx, serviceID, now)
	if err != nil {
		return "", err
	}
	for i := range ws {
		w := &ws[i]
		if !w.Matches(a.Labels) {
			continue
		}
		_, end, _ := w.OccurrenceAt(now)
		m.d.Log.InfoContext(ctx, "alert held by a maintenance window", "service", serviceName, "window", w.Name)
		return fmt.Sprintf("%s, until %s", w.Describe(), end.UTC().Format("2006-01-02 15:04 MST")), nil
	}
	return "", nil
}

// MaintenanceBy is who a window stops an escalation as (the claim's "by").
func MaintenanceBy(w *models.MaintenanceWindow) string {
	return fmt.Sprintf("maintenance window %q", w.Name)
}

// CancelPending stops the running escalations of the open incidents each
// cancel_pending window holds, once per occurrence of the window: pages
// already queued are suppressed and nobody further is paged, but the
// incident stays open (the engine's claim, by "maintenance window <name>";
// paging does not resume when the window ends: page again with @incident
// page). It returns how many escalations it stopped.
func (m *Maintenance) CancelPending(ctx context.Context) (int, error) {
	now := m.d.Clock.Now()
	ws, err := m.store.WindowsToSweep(ctx, now)
	if err != nil {
		return 0, err
	}
	stopped := 0
	for i := range ws {
		w := &ws[i]
		start, end, ok := w.OccurrenceAt(now)
		if !ok {
			continue
		}
		n, err := m.stopMatching(ctx, w, start, end)
		stopped += n
		if err != nil {
			return stopped, fmt.Errorf("maintenance window %q: %w", w.Name, err)
		}
		if err := m.store.MarkWindowSwept(ctx, w.ID, start); err != nil {
			return stopped, err
		}
	}
	return stopped, nil
}

func (m *Maintenance) stopMatching(ctx context.Context, w *models.MaintenanceWindow, start, end time.Time) (int, error) {
	if m.d.Pager == nil {
		return 0, nil
	}
	incs, err := m.store.EscalatingIncidents(ctx, w.ServiceID)
	if err != nil {
		return 0, err
	}
	stopped := 0
	for i := range incs {
		inc := &incs[i]
		if !w.Matches(models.IncidentLabels(inc.Context)) {
			continue
		}
		err := m.d.Pager.Claim(ctx, inc.ID, MaintenanceBy(w))
		if errors.Is(err, models.ErrNoChange) || models.IsNotFound(err) {
			continue // claimed or resolved meanwhile
		}
		if err != nil {
			return stopped, err
		}
		stopped++
		text := fmt.Sprintf("Paging stopped: %s started; nobody else is paged for this incident, which stays open (until %s). Page someone with @%s page.",
			w.Describe(), end.UTC().Format("2006-01-02 15:04 MST"), m.d.Settings.BotName)
		// One note per window occurrence, however often this runs.
		ref := "maintenance:" + w.ID + ":" + strconv.FormatInt(start.Unix(), 10)
		if err := m.d.Store.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: inc.ID, Kind: models.TimelineNote, Text: text, SourceRef: &ref, OccurredAt: m.d.Clock.Now()}); err != nil {
			return stopped, err
		}
		if _, err := m.d.Store.EnqueueJobs(ctx, noticeJob(inc, "🔕 "+text)); err != nil {
			return stopped, err
		}
		m.d.Log.InfoContext(ctx, "maintenance window stopped an escalation", "incident", inc.Number, "window", w.Name)
	}
	return stopped, nil
}

// CreateWindow adds a window for the admin API. Its problems are a
// models.InputErrors naming each field; a name in use is
// models.ErrDuplicate.
func (m *Maintenance) CreateWindow(ctx context.Context, in models.MaintenanceInput, by string) (*models.MaintenanceWindow, error) {
	w, perr := models.ParseMaintenance(in)
	var problems models.InputErrors
	if perr != nil && !errors.As(perr, &problems) {
		return nil, perr
	}
	if by == "" {
		problems = append(problems, models.FieldProblem{Field: "created_by", Message: "required: who is creating the window"})
	} else if len(by) > 200 {
		problems = append(problems, models.FieldProblem{Field: "created_by", Message: "at most 200 characters"})
	}
	var svc *models.Service
	if in.Service != "" && !slices.ContainsFunc(problems, func(p models.FieldProblem) bool { return p.Field == "service" }) {
		var err error
		svc, err = m.store.ServiceByName(ctx, in.Service)
		if models.IsNotFound(err) {
			problems = append(problems, models.FieldProblem{Field: "service", Message: fmt.Sprintf("unknown service %q", in.Service)})
		} else if err != nil {
			return nil, err
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	w.CreatedBy, w.ManagedBy = by, models.ManagedByAPI
	if svc != nil {
		w.ServiceID, w.ServiceName = &svc.ID, svc.Name
	}
	if err := m.store.CreateMaintenanceWindow(ctx, w); err != nil {
		return nil, err
	}
	m.active.Clear()
	m.d.Log.InfoContext(ctx, "maintenance window created", "window", w.Name, "service", in.Service, "by", by)
	return w, nil
}

// Windows lists every window, by name.
func (m *Maintenance) Windows(ctx context.Context) ([]models.MaintenanceWindow, error) {
	return m.store.MaintenanceWindows(ctx)
}

// DeleteWindow removes a window the admin API made.
func (m *Maintenance) DeleteWindow(ctx context.Context, name string) error {
	if err := m.store.DeleteMaintenanceWindow(ctx, name); err != nil {
		return err
	}
	m.active.Clear()
	m.d.Log.InfoContext(ctx, "maintenance window deleted", "window", name)
	return nil
}
