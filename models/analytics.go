package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ResponseSample is one incident's response times, for analytics.
type ResponseSample struct {
	Number         int64
	ReportedAt     time.Time
	AcknowledgedAt *time.Time
	ResolvedAt     *time.Time
	Severity       Severity
	Service        string // "" when raised without a service (declared in Slack)
	Team           string // the service's team, ""
	Occurrences    int
}

// MaxAnalyticsSamples bounds one analytics query: a range with more
// incidents is refused with advice to narrow it.
const MaxAnalyticsSamples = 200_000

// ErrTooManySamples is a range holding more than MaxAnalyticsSamples.
var ErrTooManySamples = fmt.Errorf("more than %d incidents in the range", MaxAnalyticsSamples)

// ResponseSamples lists the live incidents (not after-the-fact reports)
// reported in [from, to), oldest first, with their service and team names.
func (s *Store) ResponseSamples(ctx context.Context, from, to time.Time) ([]ResponseSample, error) {
	var out []ResponseSample
	err := s.db.WithContext(ctx).Table("incidents AS i").
		Select(`i.number, i.reported_at, i.acknowledged_at, i.resolved_at, i.severity,
			COALESCE(s.name, '') AS service, COALESCE(t.name, '') AS team, i.occurrences`).
		Joins("LEFT JOIN services s ON s.id = i.service_id").
		Joins("LEFT JOIN teams t ON t.id = s.team_id").
		Where("i.reported_at >= ? AND i.reported_at < ? AND i.is_report = ?", from.UTC(), to.UTC(), false).
		Order("i.reported_at, i.id").Limit(MaxAnalyticsSamples + 1).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("loading response samples: %w", err)
	}
	if len(out) > MaxAnalyticsSamples {
		return nil, ErrTooManySamples
	}
	return out, nil
}

// PersonPages is how many pages reached one person in one week.
type PersonPages struct {
	Person string
	Week   time.Time // the week's first instant (the from of PagesPerPerson)
	Pages  int64
}

// PagesPerPerson counts the pages sent to each person (not out-of-band
// messages: test pages and notices are not on-call load) in each 7-day
// week starting at from, up to to: one pass over the range, the week
// bucketed by a CASE of the week boundaries (the same SQL on both
// dialects).
func (s *Store) PagesPerPerson(ctx context.Context, from, to time.Time) ([]PersonPages, error) {
	from, to = from.UTC(), to.UTC()
	var (
		weeks []time.Time
		cases strings.Builder
		args  []any
	)
	cases.WriteString("CASE")
	for w := from; w.Before(to); w = w.AddDate(0, 0, 7) {
		fmt.Fprintf(&cases, " WHEN m.created_at < ? THEN %d", len(weeks))
		args = append(args, w.AddDate(0, 0, 7))
		weeks = append(weeks, w)
	}
	if len(weeks) == 0 {
		return nil, nil
	}
	cases.WriteString(" END")
	var rows []struct {
		Person string
		Week   int
		Pages  int64
	}
	err := s.db.WithContext(ctx).Table("messages AS m").
		Select("p.name AS person, "+cases.String()+" AS week, COUNT(*) AS pages", args...).
		Joins("JOIN people p ON p.id = m.person_id").
		Where("m.created_at >= ? AND m.created_at < ? AND m.out_of_band = ? AND m.status IN ?", from, to, false,
			[]string{MessageSent, MessageDelivered}).
		Group("p.name, week").Order("p.name, week").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("counting pages per person: %w", err)
	}
	out := make([]PersonPages, 0, len(rows))
	for _, r := range rows {
		if r.Week >= 0 && r.Week < len(weeks) {
			out = append(out, PersonPages{Person: r.Person, Week: weeks[r.Week], Pages: r.Pages})
		}
	}
	return out, nil
}
