// Package slackfake is a fake Slack Web API for tests. It answers like
// Slack does (HTTP 200 with {"ok":true,...} or {"ok":false,"error":...},
// HTTP 429 with Retry-After when rate limited), records every call, and
// lets a test make the next call of a method fail.
//
// It is built on slack-go's slacktest server: a front server parses and
// records each request, answers the methods slacktest lacks or answers too
// crudely for Herald (messages with unique timestamps, channels with real
// ids, views, pins, users), and forwards the rest to slacktest.
//
//	fake := slackfake.New(t)
//	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))
//	fake.FailNext("chat.postMessage", "channel_not_found")
//	... run the code under test ...
//	calls := fake.Calls("chat.postMessage")
package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// The workspace the fake pretends to be.
const (
	TeamID     = "T0FAKETEAM"
	TeamDomain = "herald-test"
	TeamName   = "Herald Test"
	BotUserID  = "U0FAKEBOT"
	BotID      = "B0FAKEBOT"
	BotName    = "incident"
	AppID      = "A0FAKEAPP"
)

// baseTS is the Unix second message timestamps start from.
const baseTS = 1700000000

// maxBody bounds request bodies the fake reads.
const maxBody = 8 << 20

// HandlerFunc answers one call; the value is sent as the JSON body with
// HTTP 200. See Fake.Handle.
type HandlerFunc func(c Call) any

// Option configures a Fake.
type Option func(*Fake)

// WithToken makes the fake accept only this token (others get
// invalid_auth). By default any non-empty token is accepted.
func WithToken(token string) Option { return func(f *Fake) { f.token = token } }

// WithScopes makes every answer carry X-OAuth-Scopes with these scopes, as
// Slack's answers to a bot token do. By default the header is absent.
func WithScopes(scopes ...string) Option {
	return func(f *Fake) { f.scopes = strings.Join(scopes, ",") }
}

// Fake is a fake Slack Web API server. It is safe for concurrent use.
type Fake struct {
	front   *httptest.Server
	back    *slacktest.Server
	backURL string
	client  *http.Client
	token   string
	scopes  string // X-OAuth-Scopes of every answer; empty: no header

	closeOnce sync.Once

	mu        sync.Mutex
	calls     []Call
	faults    map[string][]fault
	custom    map[string]HandlerFunc
	methods   map[string]methodFunc
	seq       int64
	channels  map[string]*Channel // by id
	chanOrder []string
	byName    map[string]string // name -> id
	messages  map[string]*Message
	msgOrder  []string
	pins      map[string]bool
	users     map[string]*User // by id
	views     map[string]map[string]any
	homeViews map[string]string // user id -> view id
	outage    []fault           // while set, every call answers the next of these in turn
	outageN   int
}

type fault struct {
	code       string
	retryAfter time.Duration
	status     int
}

// New starts a fake Slack; it is closed when the test ends.
func New(tb testing.TB, opts ...Option) *Fake {
	tb.Helper()
	f := &Fake{
		faults:    map[string][]fault{},
		custom:    map[string]HandlerFunc{},
		channels:  map[string]*Channel{},
		byName:    map[string]string{},
		messages:  map[string]*Message{},
		pins:      map[string]bool{},
		users:     map[string]*User{},
		views:     map[string]map[string]any{},
		homeViews: map[string]string{},
		client:    &http.Client{Timeout: 10 * time.Second},
		methods:   builtinMethods(),
	}
	for _, o := range opts {
		o(f)
	}
	f.back = slacktest.NewTestServer()
	f.back.SetBotName(BotName)
	f.back.Start()
	f.backURL = f.back.GetAPIURL()
	f.front = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.Close)
	return f
}

// APIURL is the Web API base URL, with its trailing slash: give it to
// slack.OptionAPIURL or SLACK_API_URL.
func (f *Fake) APIURL() string { return f.front.URL + "/api/" }

// Close stops the servers. It is safe to call more than once.
func (f *Fake) Close() {
	f.closeOnce.Do(func() {
		f.front.Close()
		f.back.Stop()
		f.client.CloseIdleConnections()
	})
}

// Calls returns the recorded calls of method ("" for every method), in the
// order they were answered.
func (f *Fake) Calls(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// CallsExcept returns every recorded call whose method is not listed (for
// "nothing else was called" assertions, e.g. CallsExcept("auth.test")).
func (f *Fake) CallsExcept(methods ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		skip := false
		for _, m := range methods {
			skip = skip || c.Method == m
		}
		if !skip {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls (not channels, messages or faults).
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// FailNext makes the next call of method answer {"ok":false,"error":code}
// with HTTP 200, as Slack does for API errors. Calls queue up: two
// FailNext make the next two calls fail.
func (f *Fake) FailNext(method, code string) {
	f.addFault(method, fault{code: code, status: http.StatusOK})
}

// RateLimitNext makes the next call of method answer HTTP 429 with a
// Retry-After header of retryAfter (whole seconds, rounded up, at least 1);
// slack-go returns *slack.RateLimitedError.
func (f *Fake) RateLimitNext(method string, retryAfter time.Duration) {
	f.addFault(method, fault{code: "ratelimited", status: http.StatusTooManyRequests, retryAfter: retryAfter})
}

// HTTPErrorNext makes the next call of method answer an HTML error page
// with the given status (500, 503...), like Slack's front end does when it
// is in trouble; slack-go returns slack.StatusCodeError.
func (f *Fake) HTTPErrorNext(method string, status int) {
	f.addFault(method, fault{status: status})
}

// StartOutage makes every call of every method fail until EndOutage,
// taking turns: HTTP 429 with a Retry-After of retryAfter, then an HTML
// error page of status (500, 503...), then 429 again.
func (f *Fake) StartOutage(retryAfter time.Duration, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outage = []fault{{code: "ratelimited", status: http.StatusTooManyRequests, retryAfter: retryAfter}, {status: status}}
	f.outageN = 0
}

// EndOutage ends StartOutage: calls are answered again.
func (f *Fake) EndOutage() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outage = nil
}

func (f *Fake) addFault(method string, ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = append(f.faults[method], ft)
}

// Handle answers every later call of method with h instead of the built-in
// behaviour (injected failures still come first). The handler runs without
// the fake's lock, so it may call the fake.
func (f *Fake) Handle(method string, h HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.custom[method] = h
}

// --- serving -----------------------------------------------------------

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || method == "" || strings.Contains(method, "/") {
		http.NotFound(w, r)
		return
	}
	c, err := parseCall(r, method)
	if err != nil {
		f.answer(w, c, http.StatusOK, nil, result{"ok": false, "error": "invalid_form_data"})
		return
	}

	f.mu.Lock()
	if len(f.outage) > 0 {
		ft := f.outage[f.outageN%len(f.outage)]
		f.outageN++
		f.mu.Unlock()
		f.answerFault(w, c, ft)
		return
	}
	if q := f.faults[method]; len(q) > 0 {
		ft := q[0]
		f.faults[method] = q[1:]
		f.mu.Unlock()
		f.answerFault(w, c, ft)
		return
	}
	if c.Token == "" {
		f.mu.Unlock()
		f.answer(w, c, http.StatusOK, nil, apiError("not_authed"))
		return
	}
	if f.token != "" && c.Token != f.token {
		f.mu.Unlock()
		f.answer(w, c, http.StatusOK, nil, apiError("invalid_auth"))
		return
	}
	if h, ok := f.custom[method]; ok {
		f.mu.Unlock()
		f.answer(w, c, http.StatusOK, nil, h(c))
		return
	}
	if h, ok := f.methods[method]; ok {
		res := h(f, &c)
		f.mu.Unlock()
		f.answer(w, c, http.StatusOK, nil, res)
		return
	}
	f.mu.Unlock()
	if slacktestMethods[method] {
		f.proxy(w, c)
		return
	}
	f.answer(w, c, http.StatusOK, nil, apiError("unknown_method"))
}

// parseCall reads a request's arguments the ways Slack accepts them.
func parseCall(r *http.Request, method string) (Call, error) {
	c := Call{Method: method, HTTPMethod: r.Method, Params: url.Values{}}
	for k, vs := range r.URL.Query() {
		c.Params[k] = append(c.Params[k], vs...)
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		c.Token = strings.TrimSpace(strings.TrimPrefix(auth, "Bearer "))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return c, err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "application/json":
			c.JSONBody = true
			var m map[string]json.RawMessage
			if err := json.Unmarshal(body, &m); err != nil {
				return c, err
			}
			for k, v := range m {
				c.Params.Set(k, rawString(v))
			}
		default:
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return c, err
			}
			for k, vs := range form {
				c.Params[k] = append(c.Params[k], vs...)
			}
		}
	}
	if t := c.Params.Get("token"); t != "" && c.Token == "" {
		c.Token = t
	}
	c.Params.Del("token")
	return c, nil
}

func (f *Fake) answerFault(w http.ResponseWriter, c Call, ft fault) {
	switch {
	case ft.status == http.StatusTooManyRequests:
		secs := int64(math.Ceil(ft.retryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		f.answer(w, c, ft.status, http.Header{"Retry-After": {fmt.Sprint(secs)}}, apiError("ratelimited"))
	case ft.status == http.StatusOK:
		f.answer(w, c, ft.status, nil, apiError(ft.code))
	default:
		body := fmt.Sprintf("<html><body><h1>%d %s</h1></body></html>", ft.status, http.StatusText(ft.status))
		f.record(c, ft.status, []byte(body))
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(ft.status)
		_, _ = io.WriteString(w, body)
	}
}

// answer records the call and sends v as JSON. Recording comes first, so a
// client that has its answer always finds its call recorded.
func (f *Fake) answer(w http.ResponseWriter, c Call, status int, h http.Header, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"ok":false,"error":"fake_encoding_error"}`)
	}
	f.record(c, status, body)
	for k, vs := range h {
		w.Header()[k] = vs
	}
	if f.scopes != "" {
		w.Header().Set("X-OAuth-Scopes", f.scopes)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (f *Fake) record(c Call, status int, body []byte) {
	c.Status = status
	c.Response = append(json.RawMessage(nil), body...)
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

// slacktestMethods are forwarded to slacktest, which answers them well
// enough; every other method is built in.
var slacktestMethods = map[string]bool{
	"conversations.setTopic":     true,
	"conversations.setPurpose":   true,
	"conversations.rename":       true,
	"conversations.invite":       true,
	"conversations.inviteShared": true,
	"reactions.add":              true,
	"bots.info":                  true,
}

// proxy forwards a call to slacktest, form-encoded as its handlers expect.
func (f *Fake) proxy(w http.ResponseWriter, c Call) {
	form := url.Values{}
	for k, vs := range c.Params {
		form[k] = vs
	}
	form.Set("token", c.Token)
	resp, err := f.client.PostForm(f.backURL+c.Method, form)
	if err != nil {
		f.answer(w, c, http.StatusOK, nil, apiError("fake_backend_unreachable"))
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(body) {
		f.answer(w, c, http.StatusOK, nil, apiError("fake_backend_error"))
		return
	}
	f.record(c, http.StatusOK, bytes.TrimSpace(body))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

type result = map[string]any

func apiError(code string) result { return result{"ok": false, "error": code} }
