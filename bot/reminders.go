package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/models"
)

// ReminderStore is the storage the reminder runner needs.
type ReminderStore interface {
	LeaseDueReminders(ctx context.Context, owner string, limit int, lease time.Duration) ([]models.RecurringNotification, error)
	FinishReminder(ctx context.Context, r *models.RecurringNotification, sentCount int, next *time.Time) error
	IncidentByID(ctx context.Context, id int64) (*models.Incident, error)
}

// reminderRetry is the wait after a failed send; the failure does not use
// up a send.
const reminderRetry = time.Minute

// Reminders runs the recurring notifications of open incidents. Their state
// is stored, so a restart loses nothing, and leased, so two replicas never
// send the same reminder.
type Reminders struct {
	store ReminderStore
	reg   *NotificationRegistry
	clock models.Clock
	log   *slog.Logger
	owner string
	poll  time.Duration
}

// NewReminders builds the runner; poll is how often it looks for due
// reminders (reminders are minutes apart, so seconds of delay are fine).
func NewReminders(store ReminderStore, reg *NotificationRegistry, clock models.Clock, log *slog.Logger, owner string, poll time.Duration) *Reminders {
	if poll <= 0 {
		poll = 15 * time.Second
	}
	return &Reminders{store: store, reg: reg, clock: clock, log: log, owner: owner, poll: poll}
}

// Run sends due reminders until ctx ends.
func (r *Reminders) Run(ctx context.Context) {
	t := time.NewTicker(r.poll)
	defer t.Stop()
	for {
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "running reminders", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunDue sends every reminder due now and reports how many it looked at.
func (r *Reminders) RunDue(ctx context.Context) (int, error) {
	seen := 0
	for {
		due, err := r.store.LeaseDueReminders(ctx, r.owner, 20, 2*time.Minute)
		if err != nil {
			return seen, err
		}
		if len(due) == 0 {
			return seen, nil
		}
		for i := range due {
			// Leased reminders finish even while shutting down, as jobs
			// do; the next lease, on ctx, is refused.
			r.runOne(context.WithoutCancel(ctx), &due[i])
			seen++
		}
	}
}

func (r *Reminders) runOne(ctx context.Context, row *models.RecurringNotification) {
	log := r.log.With("reminder", row.Name, "incident_id", row.IncidentID)
	finish := func(count int, next *time.Time) {
		if err := r.store.FinishReminder(ctx, row, count, next); err != nil {
			log.ErrorContext(ctx, "recording reminder", "err", err)
		}
	}
	n, ok := r.reg.Lookup(row.Name)
	if !ok {
		log.WarnContext(ctx, "reminder no longer registered; dropping it")
		finish(row.SentCount, nil)
		return
	}
	inc, err := r.store.IncidentByID(ctx, row.IncidentID)
	if models.IsNotFound(err) {
		finish(row.SentCount, nil)
		return
	}
	now := r.clock.Now()
	if err != nil {
		log.ErrorContext(ctx, "loading incident for reminder", "err", err)
		retry := now.Add(reminderRetry)
		finish(row.SentCount, &retry)
		return
	}
	if !inc.IsOpen() {
		finish(row.SentCount, nil)
		return
	}
	if n.Done != nil {
		done, err := n.Done(ctx, inc)
		if err != nil {
			log.ErrorContext(ctx, "checking reminder", "err", err)
			retry := now.Add(reminderRetry)
			finish(row.SentCount, &retry)
			return
		}
		if done {
			finish(row.SentCount, nil)
			return
		}
	}
	next := n.Next(now)
	// The condition is checked before counting: a skipped reminder is not
	// a sent one.
	if n.Condition != nil {
		ok, err := n.Condition(ctx, inc)
		if err != nil {
			log.ErrorContext(ctx, "checking reminder", "err", err)
			retry := now.Add(reminderRetry)
			finish(row.SentCount, &retry)
			return
		}
		if !ok {
			finish(row.SentCount, &next)
			return
		}
	}
	count := row.SentCount + 1
	if err := n.Send(ctx, inc, count); err != nil {
		log.ErrorContext(ctx, "sending reminder failed; will try again", "err", err)
		retry := now.Add(reminderRetry)
		finish(row.SentCount, &retry)
		return
	}
	if count >= n.MaxCount {
		finish(count, nil)
		return
	}
	if n.Gap != nil {
		if g := now.Add(n.Gap(inc)); g.After(next) {
			next = g
		}
	}
	finish(count, &next)
}
