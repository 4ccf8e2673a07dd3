package web

import (
	"fmt"
	"slices"

	"github.com/heraldhq/herald/models"
)

// withPages merges an escalation's pages into the timeline, in time order:
// "Paged alice (primary, Payments weekly) by sms, step 1: delivered".
func withPages(timeline []timelineView, pages []models.PageRecord) []timelineView {
	for _, p := range pages {
		timeline = append(timeline, timelineView{At: newStamp(p.At), Kind: "Page", Text: pageText(p), at: p.At})
	}
	slices.SortStableFunc(timeline, func(a, b timelineView) int { return a.at.Compare(b.at) })
	return timeline
}

func pageText(p models.PageRecord) string {
	who := p.Person
	if who == "" {
		who = fmt.Sprintf("%s %s", p.Role, p.Target) // a page posted in a channel
	}
	if p.Source != "" {
		who += " (" + p.Source + ")"
	}
	verb := "Paged"
	if p.Status == models.MessageFailed {
		verb = "Could not page"
	}
	text := fmt.Sprintf("%s %s", verb, who)
	if p.Mode != "" {
		text += " by " + p.Mode
	}
	text += fmt.Sprintf(", step %d", p.Step+1)
	if p.Status == models.MessageDelivered {
		text += ": delivered"
	}
	return text
}
