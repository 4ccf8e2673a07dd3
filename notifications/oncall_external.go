package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
)

// Teams that keep their schedule in an external LinkedIn Oncall-compatible
// service get their oncall-primary and oncall-secondary from it:
// GET {base}/api/v0/teams/{team}/oncall/{role} answers a JSON list of who
// is on call now ({"user": "alice", "start": <unix s>, "end": <unix s>, …}),
// each user a Herald person's handle. The chain is Herald's schedules
// (ScheduleRoles) → the external service (ExternalOncallRoles, for the
// listed teams) → static assignments (DirectoryRoles): a team's own
// rotations win, and when the service fails the static on-call is paged
// with a warning in the incident channel, as for a schedule gap.

// Defaults of ExternalOncallOptions.
const (
	DefaultOncallTimeout  = 2 * time.Second
	DefaultOncallTTL      = 30 * time.Second
	DefaultOncallErrorTTL = 10 * time.Second
	// maxOncallResponse bounds the body read; maxOncallEntries the list.
	maxOncallResponse = 1 << 20
	maxOncallEntries  = 100
	maxOncallUser     = 200
)

// ErrOncallUnavailable wraps every failure of the external service: the
// role then falls through to the static assignment.
var ErrOncallUnavailable = errors.New("external Oncall unavailable")

// ExternalOncallOptions configure ExternalOncallRoles.
type ExternalOncallOptions struct {
	// BaseURL is the service's (HERALD_ONCALL_API_URL), without the
	// /api/v0 path.
	BaseURL string
	// Teams are the Herald teams whose schedule it holds.
	Teams []string
	// HTTPClient defaults to one without its own timeout: Timeout bounds
	// each request.
	HTTPClient *http.Client
	// Timeout bounds one request (default 2 s); TTL is how long an answer
	// is used (default 30 s, less when a listed shift ends sooner);
	// ErrorTTL how long a failure is (default 10 s), so a storm of pages
	// asks a failing service once per team and role in that time.
	Timeout, TTL, ErrorTTL time.Duration
	Clock                  models.Clock
	Log                    *slog.Logger
}

// PersonFinder finds a person by handle; *models.Store implements it.
type PersonFinder interface {
	PersonByName(ctx context.Context, name string) (*models.Person, error)
}

// ExternalOncallRoles is a SourcedResolver that answers the on-call roles
// of its teams from the external service and passes everything else to
// Next. Safe for concurrent use.
type ExternalOncallRoles struct {
	people PersonFinder
	next   RoleResolver
	opts   ExternalOncallOptions
	base   *url.URL
	teams  map[string]bool

	mu    sync.Mutex
	cache map[string]*oncallCacheEntry // team + "\x00" + role
}

// oncallCacheEntry is one team and role's last answer; mu serialises its
// fetches, so concurrent lookups wait for one request.
type oncallCacheEntry struct {
	mu      sync.Mutex
	expires time.Time
	shifts  []oncallShift
	err     error
}

// NewExternalOncallRoles builds the resolver; people maps the service's
// users to Herald people, next answers what it does not.
func NewExternalOncallRoles(people PersonFinder, next RoleResolver, o ExternalOncallOptions) (*ExternalOncallRoles, error) {
	base, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("external Oncall: the base URL must be an absolute http(s) URL")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultOncallTimeout
	}
	if o.TTL <= 0 {
		o.TTL = DefaultOncallTTL
	}
	if o.ErrorTTL <= 0 {
		o.ErrorTTL = DefaultOncallErrorTTL
	}
	if o.Clock == nil {
		o.Clock = models.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	teams := make(map[string]bool, len(o.Teams))
	for _, t := range o.Teams {
		teams[t] = true
	}
	return &ExternalOncallRoles{people: people, next: next, opts: o, base: base, teams: teams, cache: map[string]*oncallCacheEntry{}}, nil
}

// Resolve implements RoleResolver.
func (r *ExternalOncallRoles) Resolve(ctx context.Context, role, target string) ([]string, error) {
	res, err := r.ResolveWithSource(ctx, role, target)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Recipients))
	for i, rc := range res.Recipients {
		ids[i] = rc.PersonID
	}
	return ids, nil
}

// ResolveWithSource implements SourcedResolver. Nobody on call in the
// service is a schedule gap; a failure (or only users Herald does not
// know) falls through to Next with a warning.
func (r *ExternalOncallRoles) ResolveWithSource(ctx context.Context, role, target string) (Resolution, error) {
	if (role != RoleOncallPrimary && role != RoleOncallSecondary) || !r.teams[target] {
		return resolveWithSource(ctx, r.next, role, target)
	}
	rotation := scheduleRole(role)
	shifts, err := r.onCall(ctx, target, rotation)
	if err == nil {
		if len(shifts) == 0 {
			return Resolution{Gap: true}, nil
		}
		var res Resolution
		if res, err = r.recipients(ctx, rotation, shifts); err == nil {
			return res, nil
		}
	}
	if !errors.Is(err, ErrOncallUnavailable) {
		return Resolution{}, err // the database, or the caller gave up
	}
	res, nerr := resolveWithSource(ctx, r.next, role, target)
	if nerr != nil {
		return Resolution{}, nerr
	}
	res.Warning = fmt.Sprintf("⚠️ Team %s keeps its on-call in the external Oncall, which failed (%s): its %s comes from Herald's static assignment instead.",
		target, strings.TrimPrefix(err.Error(), ErrOncallUnavailable.Error()+": "), rotation)
	return res, nil
}

// recipients maps the service's users to active Herald people, in its
// order, once each.
func (r *ExternalOncallRoles) recipients(ctx context.Context, rotation string, shifts []oncallShift) (Resolution, error) {
	var res Resolution
	var unknown []string
	for _, s := range shifts {
		p, err := r.people.PersonByName(ctx, s.User)
		switch {
		case models.IsNotFound(err) || (err == nil && !p.Active):
			unknown = append(unknown, s.User)
			continue
		case err != nil:
			return Resolution{}, err
		}
		if !slices.ContainsFunc(res.Recipients, func(rc Recipient) bool { return rc.PersonID == p.ID }) {
			res.Recipients = append(res.Recipients, Recipient{PersonID: p.ID, Source: rotation + ", external Oncall"})
		}
	}
	if len(res.Recipients) == 0 {
		return Resolution{}, fmt.Errorf("%w: it puts %s on call, who is no active Herald person", ErrOncallUnavailable, strings.Join(unknown, ", "))
	}
	return res, nil
}

// onCall is who the service puts on call for team's role now, from the
// cache when it is fresh.
func (r *ExternalOncallRoles) onCall(ctx context.Context, team, role string) ([]oncallShift, error) {
	key := team + "\x00" + role
	r.mu.Lock()
	e := r.cache[key]
	if e == nil {
		e = &oncallCacheEntry{}
		r.cache[key] = e
	}
	r.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	now := r.opts.Clock.Now()
	if now.Before(e.expires) {
		return e.shifts, e.err
	}
	shifts, err := r.fetch(ctx, team, role)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err() // our caller gave up: not the service's failure
	}
	e.shifts, e.err, e.expires = shifts, err, now.Add(r.opts.TTL)
	if err != nil {
		e.expires = now.Add(r.opts.ErrorTTL)
		r.opts.Log.WarnContext(ctx, "external Oncall lookup failed; the static on-call assignment answers", "team", team, "role", role, "err", err)
	}
	for _, s := range shifts {
		// A handoff within the TTL: ask again once the shift ends.
		if !s.End.IsZero() && s.End.After(now) && s.End.Before(e.expires) {
			e.expires = s.End
		}
	}
	return shifts, err
}

// fetch asks the service. Errors name the team and what went wrong,
// never the URL (it may carry credentials).
func (r *ExternalOncallRoles) fetch(ctx context.Context, team, role string) ([]oncallShift, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	u := r.base.JoinPath("api", "v0", "teams", team, "oncall", role)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: building the request: %v", ErrOncallUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.opts.HTTPClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: no answer within %s", ErrOncallUnavailable, r.opts.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %v", ErrOncallUnavailable, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w: it does not know team %q (HTTP 404)", ErrOncallUnavailable, team)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: HTTP %d", ErrOncallUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOncallResponse+1))
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("%w: no whole answer within %s", ErrOncallUnavailable, r.opts.Timeout)
	case err != nil:
		return nil, fmt.Errorf("%w: reading the answer: %v", ErrOncallUnavailable, err)
	case len(body) > maxOncallResponse:
		return nil, fmt.Errorf("%w: the answer is larger than %d bytes", ErrOncallUnavailable, maxOncallResponse)
	}
	shifts, err := parseOncallResponse(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOncallUnavailable, err)
	}
	return shifts, nil
}

// oncallShift is one entry of the service's answer; Start and End are
// zero when it leaves them out.
type oncallShift struct {
	User       string
	Start, End time.Time
}

// parseOncallResponse reads the service's answer: a JSON list of objects,
// each with a "user" (a handle) and optionally "start" and "end" (whole
// unix seconds). Other fields (full_name, contacts…) are ignored.
func parseOncallResponse(body []byte) ([]oncallShift, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return nil, errors.New("the answer is not a JSON list")
	}
	var raw []struct {
		User  *string `json:"user"`
		Start *int64  `json:"start"`
		End   *int64  `json:"end"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("the answer is not a list of on-call entries: %v", err)
	}
	if len(raw) > maxOncallEntries {
		return nil, fmt.Errorf("the answer lists %d entries, more than %d", len(raw), maxOncallEntries)
	}
	out := make([]oncallShift, 0, len(raw))
	for i, e := range raw {
		switch {
		case e.User == nil || *e.User == "":
			return nil, fmt.Errorf("entry %d has no user", i)
		case len(*e.User) > maxOncallUser || !utf8.ValidString(*e.User) || strings.ContainsFunc(*e.User, isControl):
			return nil, fmt.Errorf("entry %d: the user is not a handle (text of at most %d bytes)", i, maxOncallUser)
		}
		s := oncallShift{User: *e.User}
		for _, t := range []struct {
			name string
			v    *int64
			dst  *time.Time
		}{{"start", e.Start, &s.Start}, {"end", e.End, &s.End}} {
			if t.v == nil {
				continue
			}
			if *t.v < 0 || *t.v > maxUnixSeconds {
				return nil, fmt.Errorf("entry %d: %s %d is not a time (unix seconds)", i, t.name, *t.v)
			}
			*t.dst = time.Unix(*t.v, 0).UTC()
		}
		if !s.Start.IsZero() && !s.End.IsZero() && s.End.Before(s.Start) {
			return nil, fmt.Errorf("entry %d ends before it starts", i)
		}
		out = append(out, s)
	}
	return out, nil
}

// maxUnixSeconds is the year 9999: beyond it a time is nonsense.
const maxUnixSeconds = 253402300799

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
