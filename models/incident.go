package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Severity ranks an incident's impact; 0 means not yet assessed.
type Severity int

const (
	SeverityUnset Severity = 0
	SEV1          Severity = 1 // critical
	SEV2          Severity = 2 // major
	SEV3          Severity = 3 // minor
	SEV4          Severity = 4 // trivial
)

var severityNames = map[Severity]string{SEV1: "critical", SEV2: "major", SEV3: "minor", SEV4: "trivial"}

// String renders "SEV1 (critical)", or "unset".
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return fmt.Sprintf("SEV%d (%s)", int(s), n)
	}
	return "unset"
}

// Valid reports whether s is one of SEV1..SEV4.
func (s Severity) Valid() bool { _, ok := severityNames[s]; return ok }

// ParseSeverity accepts 1-4, sev1-sev4 and the names (critical, major, minor, trivial).
func ParseSeverity(text string) (Severity, error) {
	t := strings.ToLower(strings.TrimSpace(text))
	t = strings.TrimPrefix(t, "sev")
	if n, err := strconv.Atoi(t); err == nil && Severity(n).Valid() {
		return Severity(n), nil
	}
	for s, name := range severityNames {
		if t == name {
			return s, nil
		}
	}
	return SeverityUnset, fmt.Errorf("%q is not a severity: use 1-4, sev1-sev4, critical, major, minor or trivial", text)
}

// Status is where an incident stands in its lifecycle.
type Status string

const (
	StatusInvestigating Status = "investigating"
	StatusIdentified    Status = "identified"
	StatusMonitoring    Status = "monitoring"
	StatusResolved      Status = "resolved"
)

// Statuses lists the statuses in lifecycle order.
var Statuses = []Status{StatusInvestigating, StatusIdentified, StatusMonitoring, StatusResolved}

// ParseStatus accepts a status name, case-insensitively.
func ParseStatus(text string) (Status, error) {
	t := Status(strings.ToLower(strings.TrimSpace(text)))
	for _, s := range Statuses {
		if t == s {
			return s, nil
		}
	}
	return "", fmt.Errorf("%q is not a status: use investigating, identified, monitoring or resolved", text)
}

// Incident is one thing going wrong, from declaration to resolution.
type Incident struct {
	ID       int64
	Number   int64 // human-facing, sequential: "Incident #42"
	Title    string
	Summary  string
	Impact   string
	Severity Severity
	Status   Status
	Source   string // where it was declared: slack, api, alertmanager...
	// Application is the integration that raised it ("" from Slack): pages
	// are sent in turns between applications, and people may set
	// per-application priority preferences.
	Application    string
	IdempotencyKey *string // retried declarations with the same key return the first incident
	ReporterID     *string
	Reporter       *ExternalUser `gorm:"foreignKey:ReporterID"`
	LeadID         *string
	Lead           *ExternalUser `gorm:"foreignKey:LeadID"`
	ReportedAt     time.Time
	AcknowledgedAt *time.Time
	ResolvedAt     *time.Time
	ResolvedByID   *string
	ResolvedBy     *ExternalUser `gorm:"foreignKey:ResolvedByID"`
	// IsReport marks an after-the-fact report rather than a live incident.
	IsReport bool
	// AffectedServices is free text from the Slack form.
	AffectedServices string
	// ServiceID is the service an alert raised it for (nil from Slack).
	ServiceID *string
	// DedupKey makes repeats of an alert, while the incident is open, add
	// an occurrence instead of a new incident.
	DedupKey    *string
	Occurrences int
	LastSeenAt  *time.Time
	// DetectedAt is when the monitoring system saw the problem.
	DetectedAt *time.Time
	// Context is the alert's context (labels, annotations…) as JSON.
	Context string
	// Version grows with every change; the headline post records the
	// version it shows, so a burst of changes becomes one Slack update.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// FairnessKey is whose turn its pages and checks take when the engine
// shares its work between sources: the application that raised it, else
// where it was declared (Slack, the API). StartEscalation computes the
// same in SQL.
func (i *Incident) FairnessKey() string {
	if i.Application != "" {
		return i.Application
	}
	return i.Source
}

// IsOpen reports whether the incident is not resolved.
func (i *Incident) IsOpen() bool { return i.Status != StatusResolved }

// Duration is how long the incident has run, up to now or its resolution.
func (i *Incident) Duration(now time.Time) time.Duration {
	end := now
	if i.ResolvedAt != nil {
		end = *i.ResolvedAt
	}
	return end.Sub(i.ReportedAt)
}

// ExternalUser is a person as a chat platform knows them.
type ExternalUser struct {
	ID          string // UUIDv7, set before insert (encrypted fields bind to it)
	SlackUserID string
	DisplayName string
	Email       EncryptedString
	TimeZone    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CommsChannel is the Slack channel where one incident is worked.
type CommsChannel struct {
	ID          int64
	IncidentID  int64
	ChannelID   string
	ChannelName string
	Private     bool
	SummaryTS   string `gorm:"column:summary_ts"` // the pinned summary, once posted
	CreatedAt   time.Time
	ArchivedAt  *time.Time
}

// Pending reports whether the channel is still being created in Slack.
func (c *CommsChannel) Pending() bool { return strings.HasPrefix(c.ChannelID, pendingChannelPrefix) }

// HeadlinePost is the one message per incident in the incidents channel,
// updated in place as the incident changes.
type HeadlinePost struct {
	ID         int64
	IncidentID int64
	ChannelID  string
	MessageTS  string `gorm:"column:message_ts"`
	// RenderedVersion is the incident version the post shows.
	RenderedVersion int64
	// PostingUntil is a short lease: one replica at a time posts or
	// updates this headline.
	PostingUntil *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Posted reports whether the post exists in Slack.
func (h *HeadlinePost) Posted() bool { return h.MessageTS != "" }

// TimelineKind classifies timeline entries.
type TimelineKind string

const (
	TimelineDeclared       TimelineKind = "declared"
	TimelineNote           TimelineKind = "note"
	TimelinePin            TimelineKind = "pin"
	TimelineStatusChange   TimelineKind = "status"
	TimelineSeverityChange TimelineKind = "severity"
	TimelineLeadChange     TimelineKind = "lead"
	TimelineRoleChange     TimelineKind = "role"
	TimelineSummaryChange  TimelineKind = "summary"
	TimelineImpactChange   TimelineKind = "impact"
	TimelineRename         TimelineKind = "rename"
	TimelineAction         TimelineKind = "action"
	TimelinePageRequest    TimelineKind = "page"
	TimelineAcknowledged   TimelineKind = "ack"
	TimelineClosed         TimelineKind = "closed"
	TimelineReopened       TimelineKind = "reopened"
	TimelineReaction       TimelineKind = "reaction"
	TimelineMessage        TimelineKind = "message" // the message an incident was declared from
)

// TimelineEvent is one dated entry in an incident's story.
type TimelineEvent struct {
	ID         int64
	IncidentID int64
	Kind       TimelineKind
	Text       string
	AuthorID   *string
	Author     *ExternalUser `gorm:"foreignKey:AuthorID"`
	SourceRef  *string       // the outside object (message ts of a pin...), unique per incident and kind
	OccurredAt time.Time
	CreatedAt  time.Time
	RemovedAt  *time.Time // a pin was removed: kept for the record, hidden from the doc
}

// SlackEventReceipt records a Slack event id once, so retries and other
// replicas never run its handlers twice.
type SlackEventReceipt struct {
	EventID    string `gorm:"primaryKey"`
	Kind       string
	ReceivedAt time.Time
}
