package models

import (
	"context"
	"fmt"
	"strings"
)

// AddAudit records a change made outside an incident's own workflow (a web
// page's edit, a role change). At defaults to now.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.clock.Now().UTC()
	}
	if e.Action == "" {
		return fmt.Errorf("audit entry needs an action")
	}
	return s.addAudit(ctx, e)
}

// AuditFilter narrows ListAudit. Zero values match everything.
type AuditFilter struct {
	Actor         string // exact actor name
	SubjectPrefix string // "plan:", "schedule:abc"…
	Action        string // exact action
	Limit, Offset int
}

// MaxAuditPage bounds one page of the audit log.
const MaxAuditPage = 200

// ListAudit returns audit entries newest first and how many match.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	q := s.db.WithContext(ctx).Model(&AuditEntry{})
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.SubjectPrefix != "" {
		q = q.Where("subject LIKE ? ESCAPE '\\'", escapeLike(f.SubjectPrefix)+"%")
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("counting audit entries: %w", err)
	}
	if f.Limit <= 0 || f.Limit > MaxAuditPage {
		f.Limit = MaxAuditPage
	}
	var out []AuditEntry
	if err := q.Order("at DESC, id DESC").Limit(f.Limit).Offset(f.Offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("listing audit entries: %w", err)
	}
	return out, total, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
