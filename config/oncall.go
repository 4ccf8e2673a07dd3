package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// ExternalOncall is an external LinkedIn Oncall-compatible service
// (HERALD_ONCALL_*) that holds the on-call schedules of some teams: their
// oncall-primary and oncall-secondary come from it when Herald's own
// schedules have no rotation of the role, before the static assignments.
type ExternalOncall struct {
	// APIURL is the service's base URL (HERALD_ONCALL_API_URL): Herald asks
	// GET {APIURL}/api/v0/teams/{team}/oncall/{role}.
	APIURL string
	// Teams are the Herald team names that keep their schedule there
	// (HERALD_ONCALL_TEAMS, comma-separated); empty: none.
	Teams []string
}

// Enabled reports whether any team uses the external service.
func (o ExternalOncall) Enabled() bool { return len(o.Teams) > 0 }

// oncallTeamName is a Herald team name (notifications' name pattern;
// config does not import it).
var oncallTeamName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// externalOncall reads and checks the external on-call settings together.
// The URL is never echoed in an error: it may carry credentials.
func (p *parser) externalOncall() ExternalOncall {
	o := ExternalOncall{APIURL: strings.TrimSuffix(p.str("HERALD_ONCALL_API_URL", ""), "/")}
	if raw := p.str("HERALD_ONCALL_TEAMS", ""); raw != "" {
		for _, t := range strings.Split(raw, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if !oncallTeamName.MatchString(t) {
				p.failValue("HERALD_ONCALL_TEAMS", raw, "a comma-separated list of Herald team names (letters, digits, \".\", \"_\" and \"-\"), e.g. payments,search")
				return ExternalOncall{}
			}
			if !slices.Contains(o.Teams, t) {
				o.Teams = append(o.Teams, t)
			}
		}
	}
	if o.APIURL == "" {
		if len(o.Teams) > 0 {
			p.fail("HERALD_ONCALL_API_URL", "the base URL of the Oncall service (required with HERALD_ONCALL_TEAMS), e.g. https://oncall.example.com")
		}
		return o
	}
	u, err := url.Parse(o.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		p.fail("HERALD_ONCALL_API_URL", "an absolute http(s) base URL without a query, e.g. https://oncall.example.com")
	}
	return o
}
