package bot

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/heraldhq/herald/internal/apimetrics"
)

// FuzzSlackOutcome: whatever Slack answers, the classification never
// panics, agrees with a full decode about "ok", and hands the client the
// body byte for byte.
func FuzzSlackOutcome(f *testing.F) {
	for _, seed := range []string{
		`{"ok":true,"channel":"C1","ts":"1.2"}`,
		`{"ok":false,"error":"channel_not_found"}`,
		`{"warning":"superfluous_charset","ok":false,"error":"not_in_channel"}`,
		`{"ok":"false"}`, `[]`, `{`, ``, `{"nested":{"ok":false},"ok":true}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			Body: io.NopCloser(bytes.NewReader(body))}
		outcome := slackOutcome(resp)
		got, err := io.ReadAll(resp.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("the body the client reads changed: %q, want %q (%v)", got, body, err)
		}
		var full struct {
			OK *bool `json:"ok"`
		}
		if json.Unmarshal(body, &full) == nil && full.OK != nil {
			if want := map[bool]string{true: apimetrics.OK, false: apimetrics.APIError}[*full.OK]; outcome != want {
				t.Fatalf("%q: outcome %s, want %s", body, outcome, want)
			}
		}
		if outcome != apimetrics.OK && outcome != apimetrics.APIError {
			t.Fatalf("%q: outcome %s for a 200", body, outcome)
		}
	})
}
