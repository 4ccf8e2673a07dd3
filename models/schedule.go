package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// On-call schedules (issue 6). A team has schedules; a schedule has
// rotations (layers), each paging one role (primary, secondary, shadow)
// with an ordered list of members taking turns; overrides and swaps put
// someone else on call for a while; time off moves a person's shifts to the
// next member of the rotation. The computation of who is on call when is
// in notifications/schedule; this file holds the stored shapes.

// Rotation roles. The engine's oncall-primary and oncall-secondary roles
// read the rotations of the same name; shadow rotations are never paged
// (someone learning, shown in listings only).
const (
	RotationPrimary   = "primary"
	RotationSecondary = "secondary"
	RotationShadow    = "shadow"
)

// RotationRoles lists the rotation roles in the order listings show them.
var RotationRoles = []string{RotationPrimary, RotationSecondary, RotationShadow}

// Shift kinds: how long one member's turn is, ShiftCount times.
// "Every 12 hours" is hourly×12, "every 2 days" daily×2, "fortnightly"
// weekly×2.
const (
	ShiftHourly = "hourly"
	ShiftDaily  = "daily"
	ShiftWeekly = "weekly"
)

// ShiftKinds lists the shift kinds.
var ShiftKinds = []string{ShiftHourly, ShiftDaily, ShiftWeekly}

// Schedule is a team's named on-call schedule. Its rotations hand off at
// wall-clock times in TimeZone unless they name their own.
type Schedule struct {
	ID        string // UUIDv7
	TeamID    string
	Name      string // unique within the team
	TimeZone  string // IANA name, like Europe/London
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Rotation is one layer of a schedule: Members take turns in order, one
// shift each, the first shift starting at HandoffTime (in the rotation's
// zone) on StartDate — for weekly rotations on the first HandoffWeekday on
// or after StartDate. Daily and weekly handoffs stay at HandoffTime local
// time across daylight-saving changes; hourly shifts count real hours.
// With Windows, the layer covers only the windows' times (outside them it
// is empty); a shift is still a member's turn whether or not a window
// falls inside it.
type Rotation struct {
	ID         string // UUIDv7
	ScheduleID string
	Name       string // unique within the schedule
	Role       string // RotationPrimary, RotationSecondary, RotationShadow
	// Layer orders the rotations of a schedule: when two rotations of the
	// same role cover an instant, the higher layer wins. CreateRotation
	// puts a new rotation on top.
	Layer          int
	ShiftKind      string // ShiftHourly, ShiftDaily, ShiftWeekly
	ShiftCount     int    // hours, days or weeks per shift (≥ 1)
	HandoffTime    string // HH:MM, 24-hour, in the rotation's zone
	HandoffWeekday string // weekly only: mon … sun
	StartDate      string // YYYY-MM-DD in the rotation's zone
	// TimeZone is the rotation's own zone (a follow-the-sun layer); ""
	// uses the schedule's.
	TimeZone  string
	Windows   RotationWindows
	CreatedAt time.Time
	UpdatedAt time.Time

	// Members are the person ids taking turns, in order (rotation_members).
	Members []string `gorm:"-"`
}

// TableName names the table after what it belongs to.
func (Rotation) TableName() string { return "schedule_rotations" }

// RotationMember is one turn of a rotation: the member at Position (from
// 0). A table rather than a JSON list so that a person's rotations are
// found by index (when am I on call?), an unknown person is refused by a
// foreign key, and a person removed from the directory leaves the
// rotations they were in, as they leave teams.
type RotationMember struct {
	RotationID string `gorm:"primaryKey"`
	Position   int    `gorm:"primaryKey"`
	PersonID   string
}

// RotationWindow restricts a rotation to the given weekdays from Start to
// End (HH:MM in the rotation's zone). An End at or before Start ends on
// the next day (22:00-06:00 is overnight); the weekday is the day the
// window starts.
type RotationWindow struct {
	Weekdays []string `json:"weekdays"` // mon … sun
	Start    string   `json:"start"`
	End      string   `json:"end"`
}

// RotationWindows is stored as a JSON list (empty text for none): the windows are
// always read with their rotation and nothing refers to them.
type RotationWindows []RotationWindow

// Value implements driver.Valuer.
func (w RotationWindows) Value() (driver.Value, error) {
	if len(w) == 0 {
		return "", nil
	}
	b, err := json.Marshal([]RotationWindow(w))
	if err != nil {
		return nil, fmt.Errorf("encoding rotation windows: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (w *RotationWindows) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("reading rotation windows: unexpected %T", src)
	}
	if len(raw) == 0 {
		*w = nil
		return nil
	}
	var out []RotationWindow
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("reading rotation windows: %w", err)
	}
	*w = out
	return nil
}

// GormDataType tells gorm the column is text.
func (RotationWindows) GormDataType() string { return "text" }

// Sources of a shift: who put the person on call.
const (
	SourceRotation = "rotation" // their turn in a rotation
	SourceOverride = "override" // an override put them on call
	SourceSwap     = "swap"     // half of a swap
	SourceTimeOff  = "time-off" // covering for a member who is off
)

// ScheduleOverride puts PersonID on call for Role from StartsAt until
// EndsAt, beating every rotation of the team. With ReplacedPersonID it
// covers only where that person would be on call for the role ("Bob takes
// Alice's shift"); without, the whole role for the period. A swap is two
// overrides with the same SwapID, each replacing the other person.
type ScheduleOverride struct {
	ID               string // UUIDv7
	ScheduleID       string
	Role             string
	PersonID         string
	ReplacedPersonID *string
	SwapID           *string
	StartsAt         time.Time
	EndsAt           time.Time
	Reason           string
	CreatedBy        string
	CreatedAt        time.Time
}

// Source is SourceSwap for half of a swap, else SourceOverride.
func (o *ScheduleOverride) Source() string {
	if o.SwapID != nil {
		return SourceSwap
	}
	return SourceOverride
}

// TimeOff is a person away from StartsAt until EndsAt: each of their
// shifts in that time goes to the next member of the rotation who is not
// off. It applies to every rotation they are in.
type TimeOff struct {
	ID        string // UUIDv7
	PersonID  string
	StartsAt  time.Time
	EndsAt    time.Time
	Reason    string
	CreatedBy string
	CreatedAt time.Time
}

// TableName keeps the table's name singular, as people say it.
func (TimeOff) TableName() string { return "time_off" }

// ScheduleData is a schedule with what decides who is on call.
type ScheduleData struct {
	Schedule  Schedule
	Rotations []Rotation // with Members, by layer
	Overrides []ScheduleOverride
}

// ScheduleSet is everything the shift computation needs for one or more
// schedules (a team's) over a time range: the schedules, the time off of
// their rotations' members, and which members are no longer active (never
// on call; their turns go to the next member, as in time off).
type ScheduleSet struct {
	Schedules []ScheduleData
	TimeOff   []TimeOff
	Inactive  []string
}

// Actor is who changes a schedule, for the audit log: Name always (a
// person's handle, "herald apply", "admin api"…), UserID when the change
// came from a Slack user (their external_users id).
type Actor struct {
	Name   string
	UserID *string
}
