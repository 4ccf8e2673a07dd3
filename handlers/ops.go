package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// The operations on an incident, shared by `@incident` commands, headline
// buttons and modals, so each change is recorded the same way: one
// transaction with the timeline entry, the audit entry, a notice in the
// comms channel and a headline refresh.

// ErrNotAllowed means the caller may not make this change.
var ErrNotAllowed = errors.New("not allowed")

// Job kinds of the incident operations.
const (
	JobCommsNotice = "comms.notice"
	JobReportDM    = "report.dm"
)

type incidentText struct {
	IncidentID int64  `json:"incident_id"`
	Text       string `json:"text"`
	UserID     string `json:"user_id,omitempty"`
}

func jsonJob(kind, dedup string, v any) models.NewJob {
	p, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encoding %s job: %v", kind, err)) // only plain structs are encoded
	}
	return models.NewJob{Kind: kind, Payload: p, DedupKey: dedup}
}

// incidentJob is a job whose payload is an incidentText: it decodes the
// payload and loads the incident before fn runs.
func incidentJob(d Deps, fn func(ctx context.Context, inc *models.Incident, p incidentText) error) bot.JobFunc {
	return func(ctx context.Context, payload []byte) error {
		var p incidentText
		if err := json.Unmarshal(payload, &p); err != nil {
			return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		inc, err := d.Store.IncidentByID(ctx, p.IncidentID)
		if models.IsNotFound(err) {
			return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		if err != nil {
			return err
		}
		return fn(ctx, inc, p)
	}
}

// noticeJob posts text in the incident's comms channel, if it has one.
func noticeJob(inc *models.Incident, text string) models.NewJob {
	return jsonJob(JobCommsNotice, "", incidentText{IncidentID: inc.ID, Text: text})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// actor records and returns the Slack user behind a request.
func (d Deps) actor(ctx context.Context, slackUserID string) (*models.ExternalUser, error) {
	return d.Store.UpsertSlackUser(ctx, models.SlackUser{ID: slackUserID})
}

func idOf(u *models.ExternalUser) *string {
	if u == nil || u.ID == "" { // "": a web user without Slack (WebActor)
		return nil
	}
	return &u.ID
}

// change applies a change and schedules the headline refresh with it.
func (d Deps) change(ctx context.Context, incidentID int64, actor *models.ExternalUser, apply func(inc *models.Incident) (models.Change, error)) (*models.Incident, error) {
	return d.Store.ChangeIncident(ctx, incidentID, idOf(actor), func(inc *models.Incident) (models.Change, error) {
		ch, err := apply(inc)
		if err != nil {
			return ch, err
		}
		ch.Jobs = append(ch.Jobs, headlineJob(inc.ID, inc.Version+1))
		return ch, nil
	})
}

func mention(u *models.ExternalUser) string {
	if u == nil {
		return "nobody"
	}
	if u.SlackUserID == "" { // a web user without Slack (WebActor)
		return u.DisplayName
	}
	return "<@" + u.SlackUserID + ">"
}

func (d Deps) setLead(ctx context.Context, incidentID int64, actor, lead *models.ExternalUser) (*models.Incident, error) {
	return d.change(ctx, incidentID, actor, func(inc *models.Incident) (models.Change, error) {
		if inc.LeadID != nil && *inc.LeadID == lead.ID {
			return models.Change{}, models.ErrNoChange
		}
		before := derefString(inc.LeadID)
		inc.LeadID = &lead.ID
		text := fmt.Sprintf("%s is now leading the incident (set by %s)", mention(lead), mention(actor))
		return models.Change{
			Action: "incident.lead", Before: before, After: lead.ID,
			Timeline: []models.TimelineEvent{{Kind: models.TimelineLeadChange, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "👑 "+text)},
		}, nil
	})
}

func (d Deps) setSeverity(ctx context.Context, incidentID int64, actor *models.ExternalUser, sev models.Severity) (*models.Incident, error) {
	return d.change(ctx, incidentID, actor, func(inc *models.Incident) (models.Change, error) {
		if inc.Severity == sev {
			return models.Change{}, models.ErrNoChange
		}
		before := inc.Severity
		inc.Severity = sev
		text := fmt.Sprintf("Severity changed from %s to %s by %s", before, sev, mention(actor))
		ch := models.Change{
			Action: "incident.severity", Before: before.String(), After: sev.String(),
			Timeline: []models.TimelineEvent{{Kind: models.TimelineSeverityChange, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "🚦 "+text)},
		}
		if d.wantsCommsChannel(inc) {
			ch.Jobs = append(ch.Jobs, commsCreateJob(inc, nil))
		}
		return ch, nil
	})
}

// wantsCommsChannel says whether an incident's severity calls for a comms
// channel at once. Creating one twice is harmless (the claim stops it).
func (d Deps) wantsCommsChannel(inc *models.Incident) bool {
	return inc.IsOpen() && !inc.IsReport && inc.Severity.Valid() && int(inc.Severity) <= d.Settings.AutoCommsSeverity
}

func (d Deps) setStatus(ctx context.Context, incidentID int64, actor *models.ExternalUser, status models.Status) (*models.Incident, error) {
	if status == models.StatusResolved {
		return d.closeIncident(ctx, incidentID, actor)
	}
	return d.change(ctx, incidentID, actor, func(inc *models.Incident) (models.Change, error) {
		if inc.Status == status {
			return models.Change{}, models.ErrNoChange
		}
		if !inc.IsOpen() {
			return models.Change{}, bot.Usagef("Incident #%d is closed; `reopen` it first.", inc.Number)
		}
		before := inc.Status
		inc.Status = status
		text := fmt.Sprintf("Status changed from %s to %s by %s", before, status, mention(actor))
		return models.Change{
			Action: "incident.status", Before: string(before), After: string(status),
			Timeline: []models.TimelineEvent{{Kind: models.TimelineStatusChange, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "📣 "+text)},
		}, nil
	})
}

// setText changes the summary or the impact.
func (d Deps) setText(ctx context.Context, incidentID int64, actor *models.ExternalUser, field, text string) (*models.Incident, error) {
	return d.change(ctx, incidentID, actor, func(inc *models.Incident) (models.Change, error) {
		target, kind := &inc.Summary, models.TimelineSummaryChange
		if field == "impact" {
			target, kind = &inc.Impact, models.TimelineImpactChange
		}
		if *target == text {
			return models.Change{}, models.ErrNoChange
		}
		before := *target
		*target = text
		entry := fmt.Sprintf("%s updated by %s:\n%s", strings.ToUpper(field[:1])+field[1:], mention(actor), text)
		return models.Change{
			Action: "incident." + field, Before: before, After: text,
			Timeline: []models.TimelineEvent{{Kind: kind, Text: entry}},
		}, nil
	})
}

// mayClose applies the optional rule that only the lead closes.
func (d Deps) mayClose(inc *models.Incident, actor *models.ExternalUser) error {
	if !d.Settings.RestrictClose || inc.LeadID == nil || actor == nil || *inc.LeadID == actor.ID {
		return nil
	}
	return fmt.Errorf("%w: only the incident's lead (<@%s>) may close it here", ErrNotAllowed, leadSlackID(inc))
}

func leadSlackID(inc *models.Incident) string {
	if inc.Lead != nil {
		return inc.Lead.SlackUserID
	}
	return "?"
}

func (d Deps) closeIncident(ctx context.Context, incidentID int64, actor *models.ExternalUser) (*models.Incident, error) {
	inc, err := d.change(ctx, incidentID, actor, func(inc *models.Incident) (models.Change, error) {
		if !inc.IsOpen() {
			return models.Change{}, models.ErrNoChange
		}
		if err := d.mayClose(inc, actor); err != nil {
			return models.Change{}, err
		}
		now := d.Clock.Now()
		inc.Status, inc.ResolvedAt, inc.ResolvedByID = models.StatusResolved, &now, idOf(actor)
		took := bot.HumanDuration(inc.Duration(now))
		text := fmt.Sprintf("Incident closed by %s after %s", mention(actor), took)
		ch := models.Change{
			Action: "incident.close", Before: "open", After: "resolved",
			Timeline: []models.TimelineEvent{{Kind: models.TimelineClosed, Text: text}},
			Jobs: []models.NewJob{
				noticeJob(inc, fmt.Sprintf("✅ %s. Thank you all.\nWrite up what happened in the incident doc: %s", text, d.Settings.docURL(inc))),
				jsonJob(JobReportDM, fmt.Sprintf("report-dm:%d:%d", inc.ID, inc.Version+1), incidentText{IncidentID: inc.ID}),
			},
		}
		if d.Settings.ArchiveAfter > 0 {
			j := jsonJob(JobCommsArchive, fmt.Sprintf("archive:%d:%d", inc.ID, inc.Version+1), incidentText{IncidentID: inc.ID})
			j.RunAt = now.Add(d.Settings.ArchiveAfter)
			ch.Jobs = append(ch.Jobs, j)
		}
		return ch, nil
	})
	if err != nil {
		return nil, err
	}
	return inc, d.stopPaging(ctx, incidentID, true, actor)
}

func (d Deps) reopen(ctx context.Context, incidentID int64, actor *models.ExternalUser) (*models.Incident, error) {
	inc, err := d.change(ctx, incidentID, actor, func(inc *models.Incident) (models.Change, error) {
		if inc.IsOpen() {
			return models.Change{}, models.ErrNoChange
		}
		inc.Status, inc.ResolvedAt, inc.ResolvedByID = models.StatusInvestigating, nil, nil
		text := fmt.Sprintf("Incident re-opened by %s", mention(actor))
		return models.Change{
			Action: "incident.reopen", Before: "resolved", After: "investigating",
			Timeline: []models.TimelineEvent{{Kind: models.TimelineReopened, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "🔁 "+text)},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := d.Store.RestartReminders(ctx, inc.ID, d.reminderPlan(d.Clock.Now())...); err != nil {
		return nil, err
	}
	return inc, nil
}

func (d Deps) acknowledge(ctx context.Context, incidentID int64, actor *models.ExternalUser) (*models.Incident, error) {
	inc, err := d.change(ctx, incidentID, actor, func(inc *models.Incident) (models.Change, error) {
		if inc.AcknowledgedAt != nil || !inc.IsOpen() {
			return models.Change{}, models.ErrNoChange
		}
		now := d.Clock.Now()
		inc.AcknowledgedAt = &now
		text := fmt.Sprintf("Acknowledged by %s", mention(actor))
		return models.Change{
			Action: "incident.ack", After: now.Format("2006-01-02T15:04:05Z"),
			Timeline: []models.TimelineEvent{{Kind: models.TimelineAcknowledged, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "👍 "+text)},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	// Acknowledged is claimed: no more pages.
	return inc, d.stopPaging(ctx, incidentID, false, actor)
}

// edit applies the edit modal's form.
func (d Deps) edit(ctx context.Context, incidentID int64, actor *models.ExternalUser, f bot.IncidentForm, lead *models.ExternalUser) (*models.Incident, error) {
	return d.change(ctx, incidentID, actor, func(inc *models.Incident) (models.Change, error) {
		var changed []string
		set := func(name string, dst *string, v string) {
			if *dst != v {
				*dst = v
				changed = append(changed, name)
			}
		}
		set("title", &inc.Title, f.Title)
		set("summary", &inc.Summary, f.Summary)
		set("impact", &inc.Impact, f.Impact)
		set("affected services", &inc.AffectedServices, f.Services)
		if f.Severity.Valid() && f.Severity != inc.Severity {
			inc.Severity = f.Severity
			changed = append(changed, "severity ("+f.Severity.String()+")")
		}
		if lead != nil && (inc.LeadID == nil || *inc.LeadID != lead.ID) {
			inc.LeadID = &lead.ID
			changed = append(changed, "lead ("+mention(lead)+")")
		}
		if len(changed) == 0 {
			return models.Change{}, models.ErrNoChange
		}
		text := fmt.Sprintf("Edited by %s: %s", mention(actor), strings.Join(changed, ", "))
		ch := models.Change{
			Action: "incident.edit", After: strings.Join(changed, ", "),
			Timeline: []models.TimelineEvent{{Kind: models.TimelineNote, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "✏️ "+text)},
		}
		if d.wantsCommsChannel(inc) {
			ch.Jobs = append(ch.Jobs, commsCreateJob(inc, nil))
		}
		return ch, nil
	})
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// explain turns an operation's error into words for the person who asked,
// or returns it unchanged when it is not theirs to fix.
func explain(err error) (string, bool) {
	var ue *bot.UsageError
	switch {
	case errors.As(err, &ue):
		return ue.Message, true
	case errors.Is(err, ErrNotAllowed):
		return strings.TrimPrefix(err.Error(), ErrNotAllowed.Error()+": ") + ".", true
	case errors.Is(err, models.ErrNoChange):
		return "Nothing to change: it is already so.", true
	}
	return "", false
}
