package bot

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/heraldhq/herald/internal/apimetrics"
)

// APIObserver times calls to Slack's Web API (api "slack", method the Web
// API method such as chat.postMessage, an apimetrics outcome).
type APIObserver = apimetrics.Observer

// slackMethodName is what a Web API method looks like; anything else in a
// path is labelled "other", so labels stay bounded.
var slackMethodName = regexp.MustCompile(`^[a-z]+(\.[a-zA-Z]+){1,3}$`)

// maxSlackPeek bounds how much of an answer is read to find "ok".
const maxSlackPeek = 8 << 20

// slackMethod is the Web API method a request calls.
func slackMethod(r *http.Request) string {
	if method := path.Base(r.URL.Path); slackMethodName.MatchString(method) {
		return method
	}
	return "other"
}

// slackOutcome classifies an answer; for a JSON 200 it reads the body
// (and puts it back) to see Slack's "ok".
func slackOutcome(resp *http.Response) string {
	if s := resp.StatusCode; s != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.Body == nil {
		return apimetrics.StatusOutcome(s)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSlackPeek))
	rest := resp.Body
	resp.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(body), rest), Closer: rest}
	if err != nil {
		return apimetrics.TransportError
	}
	if ok, found := slackOKField(body); found && !ok {
		return apimetrics.APIError
	}
	return apimetrics.OK
}

type readCloser struct {
	io.Reader
	io.Closer
}

// slackOKField finds the top-level "ok" of a Slack answer, which Slack
// writes first, without decoding the rest.
func slackOKField(body []byte) (ok, found bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false, false
		}
		if key == "ok" {
			var v bool
			if err := dec.Decode(&v); err != nil {
				return false, false
			}
			return v, true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false, false
		}
	}
	return false, false
}
