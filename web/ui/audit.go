package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald/models"
)

// AuditReader lists audit entries; *models.Store is one.
type AuditReader interface {
	ListAudit(ctx context.Context, f models.AuditFilter) ([]models.AuditEntry, int64, error)
}

// AuditPages is the audit log, for admins: who changed what, before and
// after, newest first.
type AuditPages struct {
	Audit AuditReader
}

// auditPerPage is the audit log's page size.
const auditPerPage = 50

// Mount adds /audit.
func (p AuditPages) Mount(r *Router) {
	r.GET("/audit", p.list, NeedAdmin)
}

type auditRow struct {
	At                                    Time
	Actor, Action, Subject, Before, After string
	Incident                              int64
}

type auditView struct {
	Rows                   []auditRow
	Actor, Subject, Action string
	Total                  int64
	Page                   int
	PrevURL, NextURL       string
}

func (p AuditPages) list(c *Ctx) error {
	q := c.QueryParams()
	v := auditView{Actor: q.Get("actor"), Subject: q.Get("subject"), Action: q.Get("action"), Page: 1}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 100000 {
		v.Page = n
	}
	for _, f := range []string{v.Actor, v.Subject, v.Action} {
		if len(f) > 200 {
			return c.ErrorPage(http.StatusBadRequest, "Filter too long", "Audit filters are at most 200 characters.")
		}
	}
	entries, total, err := p.Audit.ListAudit(c.Request().Context(), models.AuditFilter{Actor: v.Actor, SubjectPrefix: v.Subject, Action: v.Action,
		Limit: auditPerPage, Offset: (v.Page - 1) * auditPerPage})
	if err != nil {
		return c.Failed("loading the audit log", err)
	}
	v.Total = total
	for _, e := range entries {
		row := auditRow{At: c.Viewer.At(e.At), Actor: e.Actor, Action: e.Action, Subject: e.Subject, Before: e.Before, After: e.After}
		if row.Actor == "" && e.ActorID != nil {
			row.Actor = "slack:" + *e.ActorID
		}
		if e.IncidentID != nil {
			row.Incident = *e.IncidentID
		}
		v.Rows = append(v.Rows, row)
	}
	link := func(page int) string {
		u := url.Values{}
		for k, val := range map[string]string{"actor": v.Actor, "subject": v.Subject, "action": v.Action} {
			if val != "" {
				u.Set(k, val)
			}
		}
		u.Set("page", strconv.Itoa(page))
		return "/audit?" + u.Encode()
	}
	if v.Page > 1 {
		v.PrevURL = link(v.Page - 1)
	}
	if int64(v.Page*auditPerPage) < total {
		v.NextURL = link(v.Page + 1)
	}
	return c.Page(http.StatusOK, "audit_list.html", "Audit log", v)
}
