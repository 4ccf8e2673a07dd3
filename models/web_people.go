package models

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// What the web UI's people pages read and write: a person's contact
// methods, preferences and page history (issue 7).

// MaxContactMethods bounds one person's contact methods.
const MaxContactMethods = 20

// Contact method errors the web UI explains to the person.
var (
	ErrDuplicateContact   = errors.New("this contact method is already there")
	ErrTooManyContacts    = fmt.Errorf("a person has at most %d contact methods", MaxContactMethods)
	ErrContactNotOfPerson = errors.New("no such contact method on this person")
)

// PersonSummary is one row of the people list.
type PersonSummary struct {
	Person
	Teams    []string // team names
	Contacts int
	Verified int // contact methods verified
}

// PeopleSummaries lists every person by name with their teams and how many
// contact methods they have, and how many are verified.
func (s *Store) PeopleSummaries(ctx context.Context) ([]PersonSummary, error) {
	var people []Person
	if err := s.db.WithContext(ctx).Order("name").Find(&people).Error; err != nil {
		return nil, fmt.Errorf("listing people: %w", err)
	}
	var teams []struct{ PersonID, Name string }
	err := s.db.WithContext(ctx).Table("team_members").Select("team_members.person_id, teams.name").
		Joins("JOIN teams ON teams.id = team_members.team_id").Order("teams.name").Scan(&teams).Error
	if err != nil {
		return nil, fmt.Errorf("listing team members: %w", err)
	}
	var counts []struct {
		PersonID string
		Total    int
		Verified int
	}
	err = s.db.WithContext(ctx).Model(&ContactMethod{}).
		Select("person_id, COUNT(*) AS total, COUNT(verified_at) AS verified").Group("person_id").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("counting contact methods: %w", err)
	}
	byID := make(map[string]*PersonSummary, len(people))
	out := make([]PersonSummary, len(people))
	for i, p := range people {
		out[i] = PersonSummary{Person: p}
		byID[p.ID] = &out[i]
	}
	for _, t := range teams {
		if p := byID[t.PersonID]; p != nil {
			p.Teams = append(p.Teams, t.Name)
		}
	}
	for _, c := range counts {
		if p := byID[c.PersonID]; p != nil {
			p.Contacts, p.Verified = c.Total, c.Verified
		}
	}
	return out, nil
}

// PersonByID loads a person.
func (s *Store) PersonByID(ctx context.Context, id string) (*Person, error) {
	var p Person
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&p).Error; err != nil {
		return nil, fmt.Errorf("finding person: %w", err)
	}
	return &p, nil
}

// ContactMethodsOf lists all of a person's contact methods, oldest first.
func (s *Store) ContactMethodsOf(ctx context.Context, personID string) ([]ContactMethod, error) {
	var out []ContactMethod
	if err := s.db.WithContext(ctx).Where("person_id = ?", personID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading contact methods: %w", err)
	}
	return out, nil
}

// PendingVerification is a code sent to a contact method and not used yet.
type PendingVerification struct {
	ExpiresAt time.Time
	TriesLeft int
}

// PendingVerifications lists a person's contact methods waiting for a code,
// by id. The codes themselves are not read.
func (s *Store) PendingVerifications(ctx context.Context, personID string) (map[string]PendingVerification, error) {
	var rows []struct {
		ID              string
		VerifyExpiresAt time.Time
		VerifyAttempts  int
	}
	err := s.db.WithContext(ctx).Table("contact_methods").Select("id, verify_expires_at, verify_attempts").
		Where("person_id = ? AND verify_code IS NOT NULL AND verify_expires_at IS NOT NULL AND verified_at IS NULL", personID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("loading pending verifications: %w", err)
	}
	out := make(map[string]PendingVerification, len(rows))
	for _, r := range rows {
		out[r.ID] = PendingVerification{ExpiresAt: r.VerifyExpiresAt.UTC(), TriesLeft: max(MaxVerificationAttempts-r.VerifyAttempts, 0)}
	}
	return out, nil
}

// AddContactMethod adds an unverified contact method to a person and
// records it in the audit log (with the destination masked). The caller
// has validated mode and destination.
func (s *Store) AddContactMethod(ctx context.Context, by Actor, personID, mode, dest string) (*ContactMethod, error) {
	var out *ContactMethod
	err := s.InTx(ctx, func(tx *Store) error {
		have, err := tx.ContactMethodsOf(ctx, personID)
		if err != nil {
			return err
		}
		if len(have) >= MaxContactMethods {
			return ErrTooManyContacts
		}
		for _, cm := range have {
			if cm.Mode == mode && cm.Destination.Reveal() == dest {
				return ErrDuplicateContact
			}
		}
		cm := ContactMethod{ID: newID(), PersonID: personID, Mode: mode, Destination: Secret(dest), CreatedAt: tx.clock.Now().UTC()}
		if err := tx.db.WithContext(ctx).Create(&cm).Error; err != nil {
			return fmt.Errorf("adding contact method: %w", err)
		}
		out = &cm
		return tx.AddAudit(ctx, AuditEntry{ActorID: by.UserID, Actor: by.Name, Subject: "person:" + personID,
			Action: "person.contact.add", After: mode + " " + MaskDestination(mode, dest)})
	})
	return out, err
}

// RemoveContactMethod deletes one of a person's contact methods, audited.
// A method of another person is ErrContactNotOfPerson.
func (s *Store) RemoveContactMethod(ctx context.Context, by Actor, personID, id string) (*ContactMethod, error) {
	var out ContactMethod
	err := s.InTx(ctx, func(tx *Store) error {
		err := tx.db.WithContext(ctx).Where("id = ? AND person_id = ?", id, personID).Take(&out).Error
		if IsNotFound(err) {
			return ErrContactNotOfPerson
		}
		if err != nil {
			return fmt.Errorf("loading contact method: %w", err)
		}
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Delete(&ContactMethod{}).Error; err != nil {
			return fmt.Errorf("removing contact method: %w", err)
		}
		return tx.AddAudit(ctx, AuditEntry{ActorID: by.UserID, Actor: by.Name, Subject: "person:" + personID,
			Action: "person.contact.remove", Before: out.Mode + " " + MaskDestination(out.Mode, out.Destination.Reveal())})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PriorityModesOf lists all of a person's preferences, global ones
// (application "") first.
func (s *Store) PriorityModesOf(ctx context.Context, personID string) ([]PriorityMode, error) {
	var out []PriorityMode
	if err := s.db.WithContext(ctx).Where("person_id = ?", personID).Order("application, priority").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading priority preferences: %w", err)
	}
	return out, nil
}

// SetGlobalPriorityModes makes a person's global preferences (application
// "") the given ones: priority → modes; a priority with no modes has its
// preference removed (Herald's defaults apply). Priorities not in want are
// left alone. It reports whether anything changed; a change is audited.
func (s *Store) SetGlobalPriorityModes(ctx context.Context, by Actor, personID string, want map[string][]string) (bool, error) {
	changed := false
	err := s.InTx(ctx, func(tx *Store) error {
		var rows []PriorityMode
		if err := tx.db.WithContext(ctx).Where("person_id = ? AND application = ''", personID).Find(&rows).Error; err != nil {
			return fmt.Errorf("loading priority preferences: %w", err)
		}
		have := map[string]string{}
		for _, r := range rows {
			have[r.Priority] = strings.Join(r.ModeList(), ",")
		}
		after := map[string]string{}
		for k, v := range have {
			after[k] = v
		}
		for prio, modes := range want {
			next := strings.Join(modes, ",")
			cur, had := have[prio]
			row := tx.db.WithContext(ctx).Where("person_id = ? AND priority = ? AND application = ''", personID, prio)
			switch {
			case had && cur == next, !had && next == "":
				continue
			case next == "":
				if err := row.Delete(&PriorityMode{}).Error; err != nil {
					return fmt.Errorf("removing a priority preference: %w", err)
				}
				delete(after, prio)
			default:
				pm := PriorityMode{PersonID: personID, Priority: prio, Application: "", Modes: next}
				err := tx.db.WithContext(ctx).Clauses(clause.OnConflict{
					Columns:   []clause.Column{{Name: "person_id"}, {Name: "priority"}, {Name: "application"}},
					DoUpdates: clause.AssignmentColumns([]string{"modes"}),
				}).Create(&pm).Error
				if err != nil {
					return fmt.Errorf("saving a priority preference: %w", err)
				}
				after[prio] = next
			}
			changed = true
		}
		if !changed {
			return nil
		}
		return tx.AddAudit(ctx, AuditEntry{ActorID: by.UserID, Actor: by.Name, Subject: "person:" + personID,
			Action: "person.preferences", Before: prefText(have), After: prefText(after)})
	})
	return changed, err
}

// prefText is preferences as the audit log shows them: "high=sms,call
// low=slack" (priorities sorted).
func prefText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

// TakeWebAllowance takes the one use allowed per clock-aligned window of
// length every for key ("test-page:<person id>"), in the table the send
// rate limits use, so replicas share it. It reports whether it was taken
// and, when not, when the next window starts.
func (s *Store) TakeWebAllowance(ctx context.Context, key string, every time.Duration) (bool, time.Time, error) {
	now := s.clock.Now().UTC()
	start := now.Truncate(every)
	got, err := s.TakeSendTokens(ctx, "web:"+key, start, 1, 1)
	if err != nil {
		return false, time.Time{}, err
	}
	return got == 1, start.Add(every), nil
}

// PersonMessage is one message sent (or tried) to a person, for their
// notification history. Destinations and vendor errors are left out: they
// may hold phone numbers and addresses.
type PersonMessage struct {
	ID             int64
	At             time.Time
	IncidentNumber *int64
	IncidentTitle  string
	Mode           string
	Priority       string
	Status         string
	OutOfBand      bool
	Subject        string // out-of-band messages only
}

// MaxPersonMessagesPage bounds one page of a person's history.
const MaxPersonMessagesPage = 100

// PersonMessages lists the messages to a person, newest first, and how
// many there are.
func (s *Store) PersonMessages(ctx context.Context, personID string, limit, offset int) ([]PersonMessage, int64, error) {
	if limit <= 0 || limit > MaxPersonMessagesPage {
		limit = MaxPersonMessagesPage
	}
	var total int64
	if err := s.db.WithContext(ctx).Model(&Message{}).Where("person_id = ?", personID).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("counting a person's messages: %w", err)
	}
	var rows []struct {
		ID        int64
		SentAt    *time.Time
		CreatedAt time.Time
		Number    *int64
		Title     *string
		Mode      string
		Priority  string
		Status    string
		OutOfBand bool
		Subject   string
	}
	err := s.db.WithContext(ctx).Table("messages").
		Select("messages.id, messages.sent_at, messages.created_at, incidents.number, incidents.title, messages.mode, messages.priority, messages.status, messages.out_of_band, messages.subject").
		Joins("LEFT JOIN incidents ON incidents.id = messages.incident_id").
		Where("messages.person_id = ?", personID).Order("messages.id DESC").Limit(limit).Offset(offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("listing a person's messages: %w", err)
	}
	out := make([]PersonMessage, len(rows))
	for i, r := range rows {
		at := r.CreatedAt
		if r.SentAt != nil {
			at = *r.SentAt
		}
		m := PersonMessage{ID: r.ID, At: at.UTC(), IncidentNumber: r.Number, Mode: r.Mode, Priority: r.Priority, Status: r.Status, OutOfBand: r.OutOfBand}
		if r.Title != nil {
			m.IncidentTitle = *r.Title
		}
		if r.OutOfBand {
			m.Subject = r.Subject
		}
		out[i] = m
	}
	return out, total, nil
}

// PersonOncallTeams lists, by name, the teams a person may be on call
// for: those they are a member of, hold a static on-call role in, or are
// in a schedule rotation or a coming override of.
func (s *Store) PersonOncallTeams(ctx context.Context, personID string) ([]Team, error) {
	db := s.db.WithContext(ctx)
	members := db.Table("team_members").Select("team_id").Where("person_id = ?", personID)
	static := db.Table("oncall_assignments").Select("team_id").Where("person_id = ?", personID)
	rotations := db.Table("schedules").Select("schedules.team_id").
		Joins("JOIN schedule_rotations ON schedule_rotations.schedule_id = schedules.id").
		Joins("JOIN rotation_members ON rotation_members.rotation_id = schedule_rotations.id").
		Where("rotation_members.person_id = ?", personID)
	overrides := db.Table("schedules").Select("schedules.team_id").
		Joins("JOIN schedule_overrides ON schedule_overrides.schedule_id = schedules.id").
		Where("schedule_overrides.person_id = ? AND schedule_overrides.ends_at > ?", personID, s.clock.Now().UTC())
	var out []Team
	err := db.Where("id IN (?) OR id IN (?) OR id IN (?) OR id IN (?)", members, static, rotations, overrides).Order("name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("listing the on-call teams of a person: %w", err)
	}
	return out, nil
}
