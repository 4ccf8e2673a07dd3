package ui

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/models"
)

// GET /incidents/:number/review.md: the incident doc and its post-incident
// review as Markdown, for a wiki or a postmortem repository. Times are in
// the viewer's zone, named; hidden timeline entries are left out.

func (p *IncidentPages) markdown(c *Ctx) error {
	doc, done, err := p.loadDoc(c)
	if done {
		return err
	}
	review, err := p.Store.IncidentReviewOf(c.Request().Context(), doc.Incident.ID)
	if err != nil {
		return c.Failed("loading the incident's review", err)
	}
	// A viewer with no role: the export leaves hidden entries out.
	v := newIncDocView(&Viewer{Location: c.Viewer.Location, ZoneName: c.Viewer.ZoneName}, doc, p.Clock.Now())
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="incident-%d-review.md"`, doc.Incident.Number))
	return c.Blob(http.StatusOK, "text/markdown; charset=utf-8", []byte(incMarkdown(v, review)))
}

// incMarkdown renders the doc. The viewer passed to newIncDocView has no
// role, so hidden entries are already left out.
func incMarkdown(v incDocView, r *models.IncidentReview) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Incident #%d: %s\n\n", v.Number, incMDInline(v.Title))
	fact := func(name, value string) {
		if value != "" {
			w("- **%s:** %s\n", name, value)
		}
	}
	fact("Status", v.Status)
	fact("Severity", incOr(v.Severity, "not assessed"))
	if v.IsReport {
		fact("Kind", "report of a past incident")
	}
	fact("Lead", incMDInline(incOr(v.Lead, "none")))
	fact("Reporter", incMDInline(v.Reporter))
	fact("Started", incMDTime(v.Started))
	if v.AckedAt != nil {
		fact("Acknowledged", incMDTime(*v.AckedAt))
	}
	fact("Time to acknowledge", v.TimeToAck)
	if v.ResolvedAt != nil {
		fact("Resolved", incMDTime(*v.ResolvedAt))
	}
	fact("Resolved by", incMDInline(v.ResolvedBy))
	fact("Time to resolve", v.TimeToResolve)
	for _, role := range v.Roles {
		fact(strings.ToUpper(role.Role[:1])+role.Role[1:], incMDInline(role.Holder))
	}
	section := func(title, text, none string) {
		w("\n## %s\n\n", title)
		if strings.TrimSpace(text) == "" {
			w("_%s_\n", none)
			return
		}
		w("%s\n", incMDBlock(text))
	}
	section("Summary", v.Summary, "No summary.")
	section("Impact", v.Impact, "No impact recorded.")
	section("Affected services", v.Services, "None recorded.")
	w("\n## Timeline\n\n")
	if len(v.Timeline) == 0 {
		w("_Nothing on the timeline._\n")
	}
	for _, e := range v.Timeline {
		w("- %s — **%s**", incMDTime(e.At), e.Kind)
		if e.Author != "" {
			w(" (%s)", incMDInline(e.Author))
		}
		w(": %s\n", strings.ReplaceAll(incMDBlock(e.Text), "\n", "\n  "))
	}
	w("\n## Action items\n\n")
	if len(v.ActionItems) == 0 {
		w("_No action items._\n")
	}
	for _, a := range v.ActionItems {
		box := " "
		if a.Done != nil {
			box = "x"
		}
		w("- [%s] %s", box, incMDInline(a.Text))
		if a.Owner != "" {
			w(" (owner: %s)", incMDInline(a.Owner))
		}
		w("\n")
	}
	w("\n## Post-incident review\n")
	if r.Empty() {
		w("\n_No review written yet._\n")
		return b.String()
	}
	for _, s := range []struct{ title, text string }{
		{"What happened", r.WhatHappened}, {"Contributing factors", r.ContributingFactors}, {"Lessons learned", r.LessonsLearned},
	} {
		w("\n### %s\n\n", s.title)
		if strings.TrimSpace(s.text) == "" {
			w("_Not written._\n")
			continue
		}
		w("%s\n", incMDBlock(s.text))
	}
	if r.UpdatedBy != "" {
		w("\n_Last edited by %s._\n", incMDInline(r.UpdatedBy))
	}
	return b.String()
}

func incOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func incMDTime(t Time) string { return t.Human + " (" + t.Zone + ")" }

// incMDEscaper backslash-escapes Markdown's inline syntax and raw HTML, so
// stored text (a title with <script>, a summary with *) reads as written.
var incMDEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`, `#`, `\#`, `|`, `\|`, `&`, `&amp;`)

// incMDInline is one line of escaped text.
func incMDInline(s string) string { return incMDEscaper.Replace(strings.Join(strings.Fields(s), " ")) }

// incMDBlock is escaped text keeping its lines (a hard break each).
func incMDBlock(s string) string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")), "\n")
	for i, l := range lines {
		l = incMDEscaper.Replace(strings.TrimRight(l, " \t"))
		// A line starting like a list, a quote or a heading stays text.
		if t := strings.TrimLeft(l, " "); strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "+ ") || strings.HasPrefix(t, "=") {
			l = `\` + t
		}
		lines[i] = l
	}
	return strings.Join(lines, "  \n")
}
