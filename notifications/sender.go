package notifications

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// ErrNoDestination means the person has no usable contact for the mode.
var ErrNoDestination = errors.New("no destination for mode")

// leaseBatchMin is how many free send slots SendDue waits for (a couple of
// milliseconds at most) before it leases more messages.
const leaseBatchMin = 32

// SendDue sends every queued message that is due, up to SendConcurrency at
// once, and reports how many it handled.
func (e *Engine) SendDue(ctx context.Context) (int, error) {
	if !e.mayWork(ctx) {
		return 0, nil
	}
	handled := 0
	sem := make(chan struct{}, e.opts.SendConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		free := cap(sem) - len(sem)
		if free < min(leaseBatchMin, cap(sem)) {
			sem <- struct{}{} // wait for a slot
			<-sem
			if cap(sem)-len(sem) < min(leaseBatchMin, cap(sem)) {
				// Let a few more free up: leasing one message per freed
				// slot would run the queue query once per message.
				time.Sleep(2 * time.Millisecond)
			}
			continue
		}
		batch, err := e.store.LeaseQueuedMessages(ctx, e.opts.Owner, min(free, 500), e.opts.SendDeadline)
		if err != nil {
			return handled, err
		}
		if len(batch) == 0 {
			e.passes.sent.Store(e.clock.Now().UnixNano())
			return handled, nil
		}
		if batch, err = e.admit(ctx, batch); err != nil {
			return handled, err
		}
		for _, m := range batch {
			e.inflight.add(m.ID)
		}
		for _, group := range groupBatches(batch) {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				e.send(sendContext(context.WithoutCancel(ctx), &group[0]), group)
			}()
			handled += len(group)
		}
	}
}

// send delivers one message, or one batched page for a group of the
// same batch.
func (e *Engine) send(ctx context.Context, group []models.Message) {
	m := &group[0]
	if m.BatchKey != "" {
		e.sendBatch(ctx, group)
		return
	}
	// Every vendor of the mode together must finish before the lease runs
	// out, or another replica would take the message over and send it again.
	dctx, cancel := context.WithTimeout(ctx, e.deliveryBudget(m))
	outcome, permanent := e.deliver(dctx, m, nil)
	cancel()
	e.finishSends(ctx, []*models.Message{m}, outcome, permanent)
}

// groupBatches splits leased messages into sends: each message alone,
// except pages of one batch, which go together.
func groupBatches(leased []models.Message) [][]models.Message {
	out := make([][]models.Message, 0, len(leased))
	at := map[string]int{}
	for _, m := range leased {
		if m.BatchKey == "" {
			out = append(out, []models.Message{m})
			continue
		}
		if i, ok := at[m.BatchKey]; ok {
			out[i] = append(out[i], m)
			continue
		}
		at[m.BatchKey] = len(out)
		out = append(out, []models.Message{m})
	}
	return out
}

// finishSends records one delivery's outcome for the messages it carried
// (one, or a batch): a retry later while attempts remain, else sent or
// failed, with an alert for each incident whose required page failed.
func (e *Engine) finishSends(ctx context.Context, ms []*models.Message, outcome models.MessageOutcome, permanent bool) {
	lead := ms[0]
	log := e.log.With("message", lead.ID, "mode", lead.Mode)
	if len(ms) > 1 {
		log = log.With("batch", len(ms))
	}
	if outcome.Status == models.MessageFailed && !permanent && lead.Attempts < e.opts.MaxAttempts {
		retry := e.clock.Now().Add(time.Duration(lead.Attempts*lead.Attempts) * 5 * time.Second)
		outcome.Status, outcome.RetryAt = models.MessageQueued, &retry
		outcome.Detail = "will retry: " + outcome.Detail
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		failed  []*models.Message
		overrun int
	)
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counted, err := e.finishMessage(ctx, m, outcome)
			e.inflight.remove(m.ID)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				log.ErrorContext(ctx, "recording send", "err", err, "of", m.ID)
			case !counted:
				overrun++
			case outcome.Status == models.MessageFailed:
				failed = append(failed, m)
			}
		}()
	}
	wg.Wait()
	if outcome.Error != "" && !permanent {
		e.noteVendorFailure(ctx, lead, outcome) // vendors refused: on the timeline
	}
	if overrun > 0 {
		log.WarnContext(ctx, "send finished after its lease ran out; another replica may send it too", "messages", overrun)
	}
	if len(failed) == 0 {
		return
	}
	log.WarnContext(ctx, "page failed for good", "err", outcome.Error)
	alerted := map[int64]bool{}
	for _, m := range failed {
		if m.Optional || m.IncidentID == nil || alerted[*m.IncidentID] {
			continue
		}
		alerted[*m.IncidentID] = true
		if inc, err := e.store.IncidentByID(ctx, *m.IncidentID); err == nil {
			e.alert(ctx, inc, fmt.Sprintf("🚨 Incident #%d: a %s page could not be delivered (%s). Reach them another way.", inc.Number, m.Mode, outcome.Error))
		}
	}
}

// deliveryBudget bounds one delivery, failover included: each vendor of
// the mode gets VendorTimeout (the lease is renewed meanwhile).
func (e *Engine) deliveryBudget(m *models.Message) time.Duration {
	return e.opts.VendorTimeout*time.Duration(max(1, len(e.vendors.For(Mode(m.Mode))))) + time.Second
}

// deliver tries each vendor of the mode in order until one accepts.
// batch, when set, is the text of a batched page that m leads. permanent
// reports a failure that retrying cannot fix (no destination, no vendor
// for the mode, every vendor rejected the message itself: an error with a
// Rejected() bool method saying so, like Twilio's invalid number).
func (e *Engine) deliver(ctx context.Context, m *models.Message, batch *Message) (o models.MessageOutcome, permanent bool) {
	dest, err := e.destination(ctx, m)
	if err != nil {
		if errors.Is(err, ErrNoDestination) {
			e.metrics.PageAttempt(m.Mode, "none", PageNoDestination)
		}
		return models.MessageOutcome{Status: models.MessageFailed, Error: err.Error(), Detail: err.Error()}, errors.Is(err, ErrNoDestination)
	}
	vendors := e.vendors.For(Mode(m.Mode))
	if failed := m.FailedVendorList(); len(failed) > 0 {
		// A delivery report failed the page with these: the others now.
		vendors = slices.DeleteFunc(slices.Clone(vendors), func(v Vendor) bool { return slices.Contains(failed, v.Name()) })
		if len(vendors) == 0 {
			e.metrics.PageAttempt(m.Mode, "none", PageNoVendor)
			err := fmt.Errorf("every %s vendor failed to deliver this page (%s)", m.Mode, strings.Join(failed, ", "))
			return models.MessageOutcome{Status: models.MessageFailed, Error: err.Error(), Detail: err.Error()}, true
		}
	}
	if len(vendors) == 0 {
		e.metrics.PageAttempt(m.Mode, "none", PageNoVendor)
		err := fmt.Errorf("%w %q", ErrNoVendor, m.Mode)
		return models.MessageOutcome{Status: models.MessageFailed, Error: err.Error(), Detail: err.Error()}, true
	}
	var failures []string
	rejected := true // by every vendor: retrying cannot help
	for _, v := range vendors {
		if ctx.Err() != nil {
			failures = append(failures, v.Name()+": not tried, out of time for this attempt")
			rejected = false
			continue
		}
		vctx, cancel := context.WithTimeout(ctx, e.opts.VendorTimeout)
		out := Message{ID: m.ID, Mode: Mode(m.Mode), Destination: dest, Subject: m.Subject, Body: m.Body, ClaimCode: m.ClaimCode, IncidentID: derefID(m.IncidentID), OutOfBand: m.OutOfBand}
		if batch != nil {
			out.Subject, out.Body, out.IncidentID, out.Batch = batch.Subject, batch.Body, batch.IncidentID, batch.Batch
		}
		if id, found := e.alreadySent(vctx, v, m, out); found {
			cancel() // a taken-over page the vendor already had
			return alreadySentOutcome(v.Name(), id), false
		}
		id, err := e.tracedSend(vctx, v, m, out)
		cancel()
		if err == nil {
			e.metrics.PageAttempt(m.Mode, v.Name(), PageAccepted)
			return models.MessageOutcome{Status: models.MessageSent, Vendor: v.Name(), VendorID: id, Detail: "accepted by " + v.Name()}, false
		}
		e.metrics.PageAttempt(m.Mode, v.Name(), PageFailed)
		failures = append(failures, v.Name()+": "+err.Error())
		var rj interface{ Rejected() bool }
		if !errors.As(err, &rj) || !rj.Rejected() {
			rejected = false
		}
	}
	msg := fmt.Sprintf("every %s vendor failed: %v", m.Mode, failures)
	return models.MessageOutcome{Status: models.MessageFailed, Error: msg, Detail: msg}, rejected
}

// lookupDestination finds where a message goes: the person's Slack id for
// Slack, a verified number for SMS and calls, an address for e-mail.
func (e *Engine) lookupDestination(ctx context.Context, m *models.Message) (string, error) {
	if m.PersonID == nil && m.Role == RoleSlackChannel && Mode(m.Mode) == ModeSlack && m.Target != "" {
		return m.Target, nil
	}
	if m.PersonID == nil {
		return "", fmt.Errorf("%w: message has no recipient", ErrNoDestination)
	}
	if Mode(m.Mode) == ModeSlack {
		people, err := e.store.PeopleByID(ctx, []string{*m.PersonID})
		if err != nil {
			return "", err
		}
		if len(people) == 1 && people[0].SlackUserID != nil {
			return *people[0].SlackUserID, nil
		}
	}
	methods, err := e.store.ContactMethods(ctx, *m.PersonID, m.Mode)
	if err != nil {
		return "", err
	}
	for _, cm := range methods {
		needsVerify := Mode(m.Mode) == ModeSMS || Mode(m.Mode) == ModeCall
		if needsVerify && cm.VerifiedAt == nil {
			continue // an unverified number is never paged
		}
		if cm.OptedOutAt != nil {
			continue // texted STOP: not paged until START
		}
		if d := cm.Destination.Reveal(); d != "" {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w %s", ErrNoDestination, m.Mode)
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
