package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Leasing work in turns between applications: due escalation checks and
// due messages. See docs/architecture.md ("Fairness").

// LeaseDueEscalations hands active escalations whose check is due to
// owner: oldest first, in equal shares between applications when several
// have checks due (what a share leaves goes to the oldest of any).
func (s *Store) LeaseDueEscalations(ctx context.Context, owner string, limit int, lease time.Duration) ([]Escalation, error) {
	now := s.clock.Now().UTC()
	var apps []string
	err := s.db.WithContext(ctx).Raw(`WITH RECURSIVE apps(app) AS (
			SELECT MIN(application) FROM escalations WHERE state = 'active' AND next_check_at <= ?
			UNION ALL
			SELECT (SELECT MIN(e.application) FROM escalations e
				WHERE e.state = 'active' AND e.next_check_at <= ? AND e.application > apps.app)
			FROM apps WHERE apps.app IS NOT NULL)
		SELECT app FROM apps WHERE app IS NOT NULL LIMIT ?`, now, now, limit).Scan(&apps).Error
	if err != nil {
		return nil, fmt.Errorf("listing applications with due checks: %w", err)
	}
	var out []Escalation
	if len(apps) > 1 {
		if out, err = s.leaseChecksFair(ctx, owner, apps, (limit+len(apps)-1)/len(apps), now, lease); err != nil {
			return nil, err
		}
	}
	if len(out) >= limit {
		return out, nil
	}
	lock := ""
	if s.Dialect() == DialectPostgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	var rest []Escalation
	err = s.db.WithContext(ctx).Raw(`UPDATE escalations SET lease_owner = ?, lease_until = ?
		WHERE id IN (SELECT id FROM escalations
			WHERE `+dueCheck+`
			ORDER BY next_check_at LIMIT ? `+lock+`)
		RETURNING *`, owner, now.Add(lease), now, now, limit-len(out)).Find(&rest).Error
	if err != nil {
		return nil, fmt.Errorf("leasing escalations: %w", err)
	}
	return append(out, rest...), nil
}

// dueCheck is the condition on an escalation whose check is due and not
// leased (or whose lease ran out).
const dueCheck = `state = 'active' AND next_check_at <= ? AND (lease_until IS NULL OR lease_until < ?)`

// leaseChecksFair leases up to per due checks of each application (one
// statement on PostgreSQL, one per application on SQLite).
func (s *Store) leaseChecksFair(ctx context.Context, owner string, apps []string, per int, now time.Time, lease time.Duration) ([]Escalation, error) {
	var out []Escalation
	if s.Dialect() == DialectPostgres {
		values := make([]string, len(apps))
		args := []any{owner, now.Add(lease)}
		for i, a := range apps {
			values[i] = "(?::text)"
			args = append(args, a)
		}
		args = append(args, now, now, per)
		err := s.db.WithContext(ctx).Raw(`UPDATE escalations SET lease_owner = ?, lease_until = ?
			WHERE id IN (SELECT q.id FROM (VALUES `+strings.Join(values, ", ")+`) AS apps(app)
				CROSS JOIN LATERAL (SELECT id FROM escalations WHERE `+dueCheck+` AND application = apps.app
					ORDER BY next_check_at LIMIT ? FOR UPDATE SKIP LOCKED) q)
			RETURNING *`, args...).Find(&out).Error
		if err != nil {
			return nil, fmt.Errorf("leasing escalations in turns: %w", err)
		}
		return out, nil
	}
	for _, a := range apps {
		var got []Escalation
		err := s.db.WithContext(ctx).Raw(`UPDATE escalations SET lease_owner = ?, lease_until = ?
			WHERE id IN (SELECT id FROM escalations WHERE `+dueCheck+` AND application = ? ORDER BY next_check_at LIMIT ?)
			RETURNING *`, owner, now.Add(lease), now, now, a, per).Find(&got).Error
		if err != nil {
			return nil, fmt.Errorf("leasing escalations of application %q: %w", a, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// LeaseQueuedMessages marks up to limit due messages as sending by owner
// until the deadline: at most one attempt of a message is in flight. It
// skips messages of escalations that were claimed or resolved; those of an
// exhausted escalation (its last step's pages, their retries) still go.
//
// Escalation pages go before out-of-band ones. When pages of several
// applications are due, each gets an equal share of the lease (oldest
// first within it) so a noisy one cannot starve the others; what a share
// leaves unused goes to the oldest pages of any application.
func (s *Store) LeaseQueuedMessages(ctx context.Context, owner string, limit int, deadline time.Duration) ([]Message, error) {
	now := s.clock.Now().UTC()
	apps, err := s.dueApplications(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	var out []Message
	if len(apps) > 1 {
		per := (limit + len(apps) - 1) / len(apps)
		if out, err = s.leaseFair(ctx, owner, apps, per, now, deadline); err != nil {
			return nil, err
		}
	}
	if len(out) < limit {
		rest, err := s.leaseOldest(ctx, owner, limit-len(out), now, deadline)
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	// RETURNING keeps no order: send in queue order.
	slices.SortFunc(out, func(a, b Message) int {
		if a.OutOfBand != b.OutOfBand {
			if a.OutOfBand {
				return 1
			}
			return -1
		}
		if c := a.NotBefore.Compare(b.NotBefore); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// dueApplications lists (up to limit) the applications with due
// escalation pages, walking the fair-queue index one application at a
// time instead of reading the whole queue.
func (s *Store) dueApplications(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var apps []string
	err := s.db.WithContext(ctx).Raw(`WITH RECURSIVE apps(app) AS (
			SELECT MIN(application) FROM messages WHERE status = 'queued' AND NOT out_of_band AND not_before <= ?
			UNION ALL
			SELECT (SELECT MIN(m.application) FROM messages m
				WHERE m.status = 'queued' AND NOT m.out_of_band AND m.not_before <= ? AND m.application > apps.app)
			FROM apps WHERE apps.app IS NOT NULL)
		SELECT app FROM apps WHERE app IS NOT NULL LIMIT ?`, now, now, limit).Scan(&apps).Error
	if err != nil {
		return nil, fmt.Errorf("listing applications with due pages: %w", err)
	}
	return apps, nil
}

// leasableMessage is the condition on a queued message that may be sent.
const leasableMessage = `messages.status = 'queued' AND messages.not_before <= ?
	AND (messages.escalation_id IS NULL OR escalations.state IN ('active', 'exhausted'))`

// leaseOldest leases the oldest due messages, escalation pages first.
func (s *Store) leaseOldest(ctx context.Context, owner string, limit int, now time.Time, deadline time.Duration) ([]Message, error) {
	lock := ""
	if s.Dialect() == DialectPostgres {
		lock = "FOR UPDATE OF messages SKIP LOCKED"
	}
	var out []Message
	err := s.db.WithContext(ctx).Raw(`UPDATE messages SET status = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT messages.id FROM messages
			LEFT JOIN escalations ON escalations.id = messages.escalation_id
			WHERE `+leasableMessage+`
			ORDER BY messages.out_of_band, messages.not_before, messages.id LIMIT ? `+lock+`)
		RETURNING *`, owner, now.Add(deadline), now, limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("leasing messages: %w", err)
	}
	return out, nil
}

// leaseFair leases up to per due escalation pages of each application.
// PostgreSQL does it in one statement (a LATERAL lease per application);
// SQLite, with its single writer, one application at a time.
func (s *Store) leaseFair(ctx context.Context, owner string, apps []string, per int, now time.Time, deadline time.Duration) ([]Message, error) {
	pick := `SELECT messages.id FROM messages
		LEFT JOIN escalations ON escalations.id = messages.escalation_id
		WHERE ` + leasableMessage + ` AND NOT messages.out_of_band AND messages.application = %s
		ORDER BY messages.not_before, messages.id LIMIT ?`
	update := `UPDATE messages SET status = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (%s) RETURNING *`
	var out []Message
	if s.Dialect() == DialectPostgres {
		values := make([]string, len(apps))
		args := []any{owner, now.Add(deadline)}
		for i, a := range apps {
			values[i] = "(?::text)"
			args = append(args, a)
		}
		args = append(args, now, per)
		q := fmt.Sprintf(update, `SELECT q.id FROM (VALUES `+strings.Join(values, ", ")+`) AS apps(app)
			CROSS JOIN LATERAL (`+fmt.Sprintf(pick, "apps.app")+` FOR UPDATE OF messages SKIP LOCKED) q`)
		if err := s.db.WithContext(ctx).Raw(q, args...).Find(&out).Error; err != nil {
			return nil, fmt.Errorf("leasing messages in turns: %w", err)
		}
		return out, nil
	}
	q := fmt.Sprintf(update, fmt.Sprintf(pick, "?"))
	for _, a := range apps {
		var got []Message
		if err := s.db.WithContext(ctx).Raw(q, owner, now.Add(deadline), now, a, per).Find(&got).Error; err != nil {
			return nil, fmt.Errorf("leasing messages of application %q: %w", a, err)
		}
		out = append(out, got...)
	}
	return out, nil
}
