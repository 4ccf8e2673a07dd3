package notifications

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// defaultBatchWindow is how long a batch collects pages when the plan
// does not say.
const defaultBatchWindow = time.Minute

// maxBatchLines bounds the incidents listed in a batched message.
const maxBatchLines = 10

// aggregate turns the pages a check planned into batched ones when the
// escalation's plan is in an alert storm (more than ThresholdCount
// escalations started within ThresholdWindow): each waits up to the batch
// window in its person's batch for the plan and mode, and the sender
// sends the batch as one message.
func (e *Engine) aggregate(ctx context.Context, b *checkBatch, esc *models.Escalation, agg models.PlanAggregation, msgs []models.Message, now time.Time) error {
	if agg.ThresholdCount <= 0 || agg.ThresholdWindowSeconds <= 0 {
		return nil
	}
	pv := esc.PlanVersionID
	storm, err := b.storms.get(strconv.FormatInt(pv, 10), func() (bool, error) {
		n, err := e.store.RecentEscalations(ctx, pv, now.Add(-time.Duration(agg.ThresholdWindowSeconds)*time.Second))
		return n > agg.ThresholdCount, err
	})
	if err != nil || !storm {
		return err
	}
	plan, _ := e.planIDs.Load(pv)
	window := time.Duration(agg.BatchWindowSeconds) * time.Second
	if window <= 0 {
		window = defaultBatchWindow
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Status != models.MessageQueued || m.PersonID == nil {
			continue
		}
		m.BatchKey = fmt.Sprintf("plan:%v/%s/%s", plan, *m.PersonID, m.Mode)
		m.NotBefore = now.Add(window)
	}
	return nil
}

// sendBatch sends the leased pages of one batch (leased[0] leads)
// together with the rest of the batch as one message: the incidents
// listed, one claim code (the lead's) for them all.
func (e *Engine) sendBatch(ctx context.Context, leased []models.Message) {
	lead := &leased[0]
	log := e.log.With("message", lead.ID, "mode", lead.Mode)
	all := slices.Clone(leased)
	if len(leased) > 1 {
		// Leased with the lead, so not yet given its code.
		ids := make([]int64, 0, len(leased)-1)
		for _, m := range leased[1:] {
			ids = append(ids, m.ID)
		}
		if err := e.store.SetClaimCode(ctx, ids, lead.ClaimCode); err != nil {
			// Sent now, the code would claim only some of the batch: try
			// the whole batch again later instead.
			log.ErrorContext(ctx, "giving a batch its claim code", "err", err)
			ptrs := make([]*models.Message, len(all))
			for i := range all {
				ptrs[i] = &all[i]
			}
			detail := "could not give the batch its claim code: " + err.Error()
			e.finishSends(ctx, ptrs, models.MessageOutcome{Status: models.MessageFailed, Error: detail, Detail: detail}, false)
			return
		}
		for i := range all {
			all[i].ClaimCode = lead.ClaimCode
		}
	}
	members, err := e.store.LeaseBatch(ctx, lead)
	if err != nil {
		// The leased pages still go; the others stay queued for the next
		// batch.
		log.ErrorContext(ctx, "leasing a batch of pages", "err", err)
	}
	for _, m := range members {
		e.inflight.add(m.ID)
	}
	all = append(all, members...)
	var ids []int64
	for _, m := range all {
		if m.IncidentID != nil && !slices.Contains(ids, *m.IncidentID) {
			ids = append(ids, *m.IncidentID)
		}
	}
	incs, err := e.store.IncidentsByID(ctx, ids)
	if err != nil {
		log.ErrorContext(ctx, "loading a batch's incidents", "err", err)
	}
	content := batchContent(lead, ids, incs)
	dctx, cancel := context.WithTimeout(ctx, e.deliveryBudget(lead))
	outcome, permanent := e.deliver(dctx, lead, content)
	cancel()
	ptrs := make([]*models.Message, len(all))
	for i := range all {
		ptrs[i] = &all[i]
	}
	e.finishSends(ctx, ptrs, outcome, permanent)
}

// batchContent is the text of a batched message: how many incidents, the
// newest few, and the code that claims them all.
func batchContent(lead *models.Message, ids []int64, incs map[int64]*models.Incident) *Message {
	if len(ids) == 1 {
		// Everything else in the batch was claimed meanwhile: an
		// ordinary page.
		return nil
	}
	// Newest first (incident ids grow with their numbers).
	slices.SortFunc(ids, func(a, b int64) int { return cmp.Compare(b, a) })
	var lines []string
	for i, id := range ids {
		if i == maxBatchLines {
			lines = append(lines, fmt.Sprintf("…and %d more", len(ids)-maxBatchLines))
			break
		}
		if inc := incs[id]; inc != nil {
			lines = append(lines, fmt.Sprintf("#%d %s (%s)", inc.Number, inc.Title, inc.Severity))
		} else {
			lines = append(lines, fmt.Sprintf("incident id %d", id))
		}
	}
	subject := fmt.Sprintf("[Herald] %d incidents need you (alert storm, batched)", len(ids))
	body := fmt.Sprintf("%d unclaimed incidents are paging you (%s priority):\n%s\nClaim them all with code %s.",
		len(ids), lead.Priority, strings.Join(lines, "\n"), lead.ClaimCode)
	if Mode(lead.Mode) == ModeCall {
		body = fmt.Sprintf("Herald alert storm. %d unclaimed incidents are paging you. Press 1 to claim them all.", len(ids))
	}
	return &Message{Subject: subject, Body: body, IncidentID: ids[0], Batch: len(ids)}
}
