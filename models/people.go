package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Person is someone Herald can page.
type Person struct {
	ID          string // UUIDv7
	Name        string // unique handle used in plans and config
	FullName    string
	SlackUserID *string
	TimeZone    string
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName keeps the plural English name.
func (Person) TableName() string { return "people" }

// ContactMethod is one way to reach a person. The destination (a phone
// number, an address) is encrypted; phones are paged only once verified.
type ContactMethod struct {
	ID          string // UUIDv7: encrypted fields bind to it
	PersonID    string
	Mode        string // slack, email, sms, call
	Destination EncryptedString
	VerifiedAt  *time.Time
	// OptedOutAt is set when the number texted STOP: it is not paged
	// until it texts START.
	OptedOutAt *time.Time
	CreatedAt  time.Time
}

// Team is a group of people with a manager and on-call roles.
type Team struct {
	ID             string
	Name           string
	SlackChannelID string
	ManagerID      *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TeamMember puts a person in a team.
type TeamMember struct {
	TeamID   string `gorm:"primaryKey"`
	PersonID string `gorm:"primaryKey"`
}

// OncallAssignment is a static on-call role (primary, secondary) of a team.
type OncallAssignment struct {
	TeamID   string `gorm:"primaryKey"`
	Role     string `gorm:"primaryKey"`
	PersonID string
}

// PriorityMode is how a person wants to be reached at a priority: a comma
// list of modes, all used. Application "" is the global preference.
type PriorityMode struct {
	PersonID    string `gorm:"primaryKey"`
	Priority    string `gorm:"primaryKey"`
	Application string `gorm:"primaryKey"`
	Modes       string
}

// ModeList splits Modes.
func (p PriorityMode) ModeList() []string {
	var out []string
	for _, m := range strings.Split(p.Modes, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// Plan is a named escalation plan; its content lives in versions.
type Plan struct {
	ID            string
	Name          string
	TeamID        *string
	OwnerID       *string
	ActiveVersion int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PlanVersion is an immutable plan version (published, or a web UI draft):
// running escalations keep the version they started with.
type PlanVersion struct {
	ID         int64
	PlanID     string
	Version    int
	Definition string // JSON of PlanDefinition
	CreatedBy  string
	CreatedAt  time.Time
	// Draft is a version saved in the web UI and not yet published; it
	// never becomes active until it is.
	Draft bool
}

// PlanDefinition is the content of a plan version.
type PlanDefinition struct {
	Steps []PlanStep `json:"steps"`
	// Aggregation batches the plan's pages in an alert storm; nil never
	// batches.
	Aggregation *PlanAggregation `json:"aggregation,omitempty"`
}

// PlanAggregation is Iris's aggregation: once more than ThresholdCount
// incidents started on the plan within ThresholdWindowSeconds, each
// person's further pages of the plan (per mode) wait up to
// BatchWindowSeconds and go out as one message that claims them all.
type PlanAggregation struct {
	ThresholdCount         int `json:"threshold_count"`
	ThresholdWindowSeconds int `json:"threshold_window_seconds"`
	BatchWindowSeconds     int `json:"batch_window_seconds"`
}

// PlanStep is a set of notifications sent in parallel.
type PlanStep struct {
	Notifications []PlanNotification `json:"notifications"`
}

// PlanNotification is Iris's notification: who (role, target), how urgent
// (priority), how often (repeat extra sends, wait minutes apart and before
// the next step), what (template), and whether its failure matters.
type PlanNotification struct {
	Role        string `json:"role"`
	Target      string `json:"target"`
	Priority    string `json:"priority"`
	WaitMinutes int    `json:"wait"`
	Repeat      int    `json:"repeat"`
	Template    string `json:"template,omitempty"`
	Optional    bool   `json:"optional,omitempty"`
}

// MessageTemplate holds per-mode subject and body templates (JSON).
type MessageTemplate struct {
	Name       string `gorm:"primaryKey"`
	Definition string
	UpdatedAt  time.Time
}

// PersonByName finds a person by handle.
func (s *Store) PersonByName(ctx context.Context, name string) (*Person, error) {
	var p Person
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&p).Error; err != nil {
		return nil, fmt.Errorf("finding person %q: %w", name, err)
	}
	return &p, nil
}

// PersonBySlackID finds the person linked to a Slack user.
func (s *Store) PersonBySlackID(ctx context.Context, slackUserID string) (*Person, error) {
	var p Person
	if err := s.db.WithContext(ctx).Where("slack_user_id = ?", slackUserID).Take(&p).Error; err != nil {
		return nil, fmt.Errorf("finding person of slack user %s: %w", slackUserID, err)
	}
	return &p, nil
}

// PeopleByID loads people by id.
func (s *Store) PeopleByID(ctx context.Context, ids []string) ([]Person, error) {
	var out []Person
	if len(ids) == 0 {
		return nil, nil
	}
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading people: %w", err)
	}
	return out, nil
}

// TeamByName finds a team.
func (s *Store) TeamByName(ctx context.Context, name string) (*Team, error) {
	var t Team
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&t).Error; err != nil {
		return nil, fmt.Errorf("finding team %q: %w", name, err)
	}
	return &t, nil
}

// TeamMemberIDs lists a team's active members.
func (s *Store) TeamMemberIDs(ctx context.Context, teamID string) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Table("team_members").Select("team_members.person_id").
		Joins("JOIN people ON people.id = team_members.person_id AND people.active").
		Where("team_members.team_id = ?", teamID).Order("people.name").Pluck("team_members.person_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("loading team members: %w", err)
	}
	return ids, nil
}

// OncallPersonID is a team's static on-call person for a role.
func (s *Store) OncallPersonID(ctx context.Context, teamID, role string) (string, error) {
	var a OncallAssignment
	if err := s.db.WithContext(ctx).Where("team_id = ? AND role = ?", teamID, role).Take(&a).Error; err != nil {
		return "", fmt.Errorf("finding %s on-call of team: %w", role, err)
	}
	return a.PersonID, nil
}

// ContactMethods lists a person's contact methods for a mode.
func (s *Store) ContactMethods(ctx context.Context, personID, mode string) ([]ContactMethod, error) {
	var out []ContactMethod
	if err := s.db.WithContext(ctx).Where("person_id = ? AND mode = ?", personID, mode).Order("created_at").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading contact methods: %w", err)
	}
	return out, nil
}

// PriorityModes returns a person's preferences at a priority: the
// application's if set, else the global one; nil when neither.
func (s *Store) PriorityModes(ctx context.Context, personID, priority, application string) ([]string, error) {
	var rows []PriorityMode
	err := s.db.WithContext(ctx).Where("person_id = ? AND priority = ? AND application IN ?", personID, priority, []string{"", application}).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("loading priority modes: %w", err)
	}
	var global []string
	for _, r := range rows {
		if r.Application == application && application != "" {
			return r.ModeList(), nil
		}
		if r.Application == "" {
			global = r.ModeList()
		}
	}
	return global, nil
}

// PlanByName finds a plan.
func (s *Store) PlanByName(ctx context.Context, name string) (*Plan, error) {
	var p Plan
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&p).Error; err != nil {
		return nil, fmt.Errorf("finding plan %q: %w", name, err)
	}
	return &p, nil
}

// PlanVersionByID loads one published version.
func (s *Store) PlanVersionByID(ctx context.Context, id int64) (*PlanVersion, error) {
	var v PlanVersion
	if err := s.db.WithContext(ctx).Take(&v, id).Error; err != nil {
		return nil, fmt.Errorf("loading plan version %d: %w", id, err)
	}
	return &v, nil
}

// ActivePlanVersion is the version new escalations of a plan use.
func (s *Store) ActivePlanVersion(ctx context.Context, planName string) (*PlanVersion, error) {
	var v PlanVersion
	err := s.db.WithContext(ctx).Joins("JOIN plans ON plans.id = plan_versions.plan_id AND plans.active_version = plan_versions.version").
		Where("plans.name = ?", planName).Take(&v).Error
	if err != nil {
		return nil, fmt.Errorf("finding active version of plan %q: %w", planName, err)
	}
	return &v, nil
}

// Template loads a message template by name.
func (s *Store) Template(ctx context.Context, name string) (*MessageTemplate, error) {
	var t MessageTemplate
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&t).Error; err != nil {
		return nil, fmt.Errorf("loading template %q: %w", name, err)
	}
	return &t, nil
}

// ListTeams lists every team by name.
func (s *Store) ListTeams(ctx context.Context) ([]Team, error) {
	var out []Team
	if err := s.db.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing teams: %w", err)
	}
	return out, nil
}

// TeamPlanName is the name of the plan a team pages with ("" when none).
func (s *Store) TeamPlanName(ctx context.Context, teamID string) (string, error) {
	var p Plan
	err := s.db.WithContext(ctx).Where("team_id = ? AND active_version > 0", teamID).Order("name").Take(&p).Error
	if IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("finding plan of team: %w", err)
	}
	return p.Name, nil
}
