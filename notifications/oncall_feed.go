package notifications

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// ScheduleFeed is the calendar feed a schedule token shows: the
// schedule's shifts overlapping [from, to), whole. An unknown, revoked or
// wrong token — or one whose schedule is gone — is a not-found error.
func (v OnCallViews) ScheduleFeed(ctx context.Context, token string, from, to time.Time) (*CalendarFeed, error) {
	id, err := v.Store.CalendarTokenSubject(ctx, models.CalendarTokenSchedule, token)
	if err != nil {
		return nil, err
	}
	cal, sc, err := v.scheduleCalendar(ctx, id, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	shifts := WholeShifts(cal, from.UTC(), to.UTC())
	people, err := v.people(ctx, shifts)
	if err != nil {
		return nil, err
	}
	return &CalendarFeed{Kind: models.CalendarTokenSchedule, Name: sc.Name, Shifts: shiftViews(shifts, people)}, nil
}

// PersonFeed is the calendar feed a person token shows: the person's
// shifts overlapping [from, to) in every team's schedules, as paging sees
// them (a layer beaten by a higher one or an override is not a shift).
// Refused tokens are not-found errors, as in ScheduleFeed.
func (v OnCallViews) PersonFeed(ctx context.Context, token string, from, to time.Time) (*CalendarFeed, error) {
	from, to = from.UTC(), to.UTC()
	id, err := v.Store.CalendarTokenSubject(ctx, models.CalendarTokenPerson, token)
	if err != nil {
		return nil, err
	}
	sets, err := v.Store.PersonScheduleSets(ctx, id, from.Add(-loadMargin), to.Add(loadMargin))
	if err != nil {
		return nil, err
	}
	var mine []schedule.Shift
	for _, set := range sets {
		cal, err := schedule.New(set)
		if err != nil {
			return nil, err
		}
		for _, s := range WholeShifts(cal, from, to) {
			if s.PersonID == id {
				mine = append(mine, s)
			}
		}
	}
	slices.SortStableFunc(mine, func(a, b schedule.Shift) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ScheduleName, b.ScheduleName))
	})
	people, err := v.people(ctx, mine, id)
	if err != nil {
		return nil, err
	}
	p, ok := people[id]
	if !ok {
		return nil, fmt.Errorf("finding person %s: %w", id, gorm.ErrRecordNotFound)
	}
	return &CalendarFeed{Kind: models.CalendarTokenPerson, Name: p.ref.Display(), Shifts: shiftViews(mine, people)}, nil
}

// IssueCalendarToken makes a feed token for a schedule (by id) or a person
// (by name), revoking the one it had; the token is shown only now. An
// unknown subject is a not-found error.
func (v OnCallViews) IssueCalendarToken(ctx context.Context, kind, subject string) (string, bool, error) {
	id, err := v.subjectID(ctx, kind, subject)
	if err != nil {
		return "", false, err
	}
	return v.Store.IssueCalendarToken(ctx, kind, id)
}

// RevokeCalendarToken revokes the feed token of a schedule (by id) or a
// person (by name); a not-found error when it has none.
func (v OnCallViews) RevokeCalendarToken(ctx context.Context, kind, subject string) error {
	id, err := v.subjectID(ctx, kind, subject)
	if err != nil {
		return err
	}
	return v.Store.RevokeCalendarToken(ctx, kind, id)
}

func (v OnCallViews) subjectID(ctx context.Context, kind, subject string) (string, error) {
	if kind != models.CalendarTokenPerson {
		return subject, nil
	}
	p, err := v.Store.PersonByName(ctx, subject)
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

// personInfo is a person as the answers need them.
type personInfo struct {
	ref    PersonRef
	active bool
}

// people loads the people of shifts (on call and replaced) and of ids.
func (v OnCallViews) people(ctx context.Context, shifts []schedule.Shift, ids ...string) (map[string]personInfo, error) {
	for _, s := range shifts {
		ids = append(ids, s.PersonID)
		if s.ReplacedPersonID != "" {
			ids = append(ids, s.ReplacedPersonID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[string]personInfo, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ps, err := v.Store.PeopleByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		ref := PersonRef{ID: p.ID, Name: p.Name, FullName: p.FullName}
		if p.SlackUserID != nil {
			ref.SlackUserID = *p.SlackUserID
		}
		out[p.ID] = personInfo{ref: ref, active: p.Active}
	}
	return out, nil
}

// personRef names a person; one missing from people (deleted meanwhile)
// keeps their id as name.
func personRef(id string, people map[string]personInfo) PersonRef {
	if p, ok := people[id]; ok {
		return p.ref
	}
	return PersonRef{ID: id, Name: id}
}

func shiftView(s schedule.Shift, people map[string]personInfo) ShiftView {
	out := ShiftView{Role: s.Role, Person: personRef(s.PersonID, people), Start: s.Start.UTC(), End: s.End.UTC(),
		Source: s.Source, Description: s.Describe(), ScheduleID: s.ScheduleID, ScheduleName: s.ScheduleName,
		RotationID: s.RotationID, RotationName: s.RotationName, OverrideID: s.OverrideID}
	if s.ReplacedPersonID != "" {
		r := personRef(s.ReplacedPersonID, people)
		out.ReplacedPerson = &r
	}
	return out
}

func shiftViews(shifts []schedule.Shift, people map[string]personInfo) []ShiftView {
	out := make([]ShiftView, len(shifts))
	for i, s := range shifts {
		out[i] = shiftView(s, people)
	}
	return out
}
