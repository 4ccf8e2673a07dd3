package slackfake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack"
)

// Call is one Web API request the fake received, and what it answered.
type Call struct {
	// Method is the Web API method, e.g. "chat.postMessage".
	Method string
	// HTTPMethod is GET or POST.
	HTTPMethod string
	// Params are the request's arguments: query string, form body, or the
	// top-level keys of a JSON body (strings as themselves, anything else as
	// its raw JSON). The token is not among them: see Token.
	Params url.Values
	// Token is the bearer token, from the Authorization header or the
	// token form field.
	Token string
	// JSONBody reports whether the body was application/json.
	JSONBody bool
	// Status is the HTTP status the fake answered (200, or 429 and the like
	// for injected failures).
	Status int
	// Response is the body the fake answered.
	Response json.RawMessage
}

// OK reports whether Slack answered HTTP 200 with "ok": true.
func (c Call) OK() bool {
	if c.Status != 200 {
		return false
	}
	var r struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal(c.Response, &r) == nil && r.OK
}

// Error is the Web API error code answered ("channel_not_found"), or "".
func (c Call) Error() string {
	var r struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(c.Response, &r)
	return r.Error
}

// Param is Params.Get(key).
func (c Call) Param(key string) string { return c.Params.Get(key) }

// ResponseField returns a top-level field of the response as a string
// (strings as themselves, other values as raw JSON), or "".
func (c Call) ResponseField(key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(c.Response, &m) != nil {
		return ""
	}
	return rawString(m[key])
}

// Decode unmarshals a JSON-valued parameter (blocks, view, attachments...)
// into v.
func (c Call) Decode(param string, v any) error {
	raw := c.Params.Get(param)
	if raw == "" {
		return fmt.Errorf("slackfake: %s call has no %q parameter", c.Method, param)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fmt.Errorf("slackfake: %s %q parameter: %w", c.Method, param, err)
	}
	return nil
}

// Blocks decodes the blocks parameter.
func (c Call) Blocks() ([]slack.Block, error) {
	var b slack.Blocks
	if err := c.Decode("blocks", &b); err != nil {
		return nil, err
	}
	return b.BlockSet, nil
}

// View decodes the view parameter (views.open, views.update, views.push,
// views.publish).
func (c Call) View() (slack.View, error) {
	var v slack.View
	err := c.Decode("view", &v)
	return v, err
}

// AllText is everything a person would read in the call: the text
// parameter and every "text" string inside blocks, attachments and view,
// one per line. Handy for "the post mentions X" assertions.
func (c Call) AllText() string {
	var parts []string
	if t := c.Params.Get("text"); t != "" {
		parts = append(parts, t)
	}
	for _, k := range []string{"blocks", "attachments", "view"} {
		raw := c.Params.Get(k)
		if raw == "" {
			continue
		}
		var v any
		if json.Unmarshal([]byte(raw), &v) == nil {
			collectText(v, &parts)
		}
	}
	return strings.Join(parts, "\n")
}

func collectText(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "text" {
				*out = append(*out, s)
				continue
			}
			collectText(e, out)
		}
	case []any:
		for _, e := range x {
			collectText(e, out)
		}
	}
}

// rawString renders a JSON value as a parameter: strings unquoted, other
// values as their JSON.
func rawString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
