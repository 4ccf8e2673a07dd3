package ui

import (
	"regexp"

	"github.com/heraldhq/herald/models"
)

// incSlackMarkup matches Slack's angle-bracket tokens: <@U123>, <@U123|name>,
// <#C123|name>, <!here>, <https://x|label>. Other text in angle brackets
// is left alone: stored text is plain (Slack's escaping is undone when it
// arrives).
var incSlackMarkup = regexp.MustCompile(`<(@|#|!|)((?:[UW][A-Z0-9]+)|(?:C[A-Z0-9]+)|(?:here|channel|everyone)|(?:(?:https?|mailto):[^<>|\s]+))(?:\|([^<>]*))?>`)

// incSlackText turns Slack message markup into text a web page can show:
// user mentions become @names (from the people the page knows), channel
// mentions #names, links their label and address. html/template escapes
// the result.
func incSlackText(s string, names map[string]string) string {
	return incSlackMarkup.ReplaceAllStringFunc(s, func(tok string) string {
		m := incSlackMarkup.FindStringSubmatch(tok)
		sigil, id, label := m[1], m[2], m[3]
		switch sigil {
		case "@":
			if n := names[id]; n != "" {
				return "@" + n
			}
			if label != "" {
				return "@" + label
			}
			return "@" + id
		case "#":
			if label != "" {
				return "#" + label
			}
			return "#" + id
		case "!":
			return "@" + id
		default:
			if label != "" && label != id {
				return label + " (" + id + ")"
			}
			return id
		}
	})
}

// incKnownNames maps Slack user ids to display names of everyone in a doc.
func incKnownNames(doc *models.IncidentDoc) map[string]string {
	names := map[string]string{}
	add := func(u *models.ExternalUser) {
		if u != nil && u.SlackUserID != "" && u.DisplayName != "" {
			names[u.SlackUserID] = u.DisplayName
		}
	}
	add(doc.Incident.Reporter)
	add(doc.Incident.Lead)
	add(doc.Incident.ResolvedBy)
	for _, r := range doc.Roles {
		add(r.User)
	}
	for _, e := range doc.Timeline {
		add(e.Author)
	}
	for _, p := range doc.Participants {
		add(p.User)
	}
	for _, a := range doc.ActionItems {
		add(a.Owner)
	}
	return names
}
