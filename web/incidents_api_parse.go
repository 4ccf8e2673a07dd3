package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
)

// Limits of the incidents API's input.
const (
	maxIncidentsAPIBody = 64 << 10 // bodies beyond it get 413
	maxContextBytes     = 16 << 10 // context, compacted
	maxMessageChars     = 10000
	maxServiceChars     = 100
	maxSourceChars      = 64
	maxDedupKeyBytes    = 255
	maxByChars          = 100
	maxIdempotencyKey   = 255
	// maxDetectedSkew is how far in the future a detection time may be
	// (clock drift between the monitor and Herald); beyond is a mistake.
	maxDetectedSkew     = 15 * time.Minute
	defaultIncidentPage = 50
	maxIncidentPage     = 200
)

// inputError is a 400 answer: what is wrong with which field (a JSON key,
// a query parameter or a header; "" for the body as a whole).
type inputError struct {
	Field string
	Msg   string
}

func (e *inputError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func inputErrorf(field, format string, args ...any) *inputError {
	return &inputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// decodeJSONObject reads body as one JSON object of known keys: an unknown or
// repeated key, a body that is not an object, or anything after it is a
// inputError. JSON null values are dropped (an absent optional field).
func decodeJSONObject(body []byte, known ...string) (map[string]json.RawMessage, *inputError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, inputErrorf("", "the body is empty: send a JSON object")
	}
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		return nil, inputErrorf("", "the body must be a JSON object")
	}
	out := map[string]json.RawMessage{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, inputErrorf("", "the body is not valid JSON: %v", err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, inputErrorf("", "the body ends in the middle of its JSON object")
		} else if err != nil {
			return nil, inputErrorf(key, "not valid JSON: %v", err)
		}
		if !slices.Contains(known, key) {
			return nil, inputErrorf(key, "unknown field; known fields: %s", strings.Join(known, ", "))
		}
		if seen[key] {
			return nil, inputErrorf(key, "given more than once")
		}
		seen[key] = true
		if !bytes.Equal(raw, []byte("null")) {
			out[key] = raw
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, inputErrorf("", "the body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, inputErrorf("", "the body has data after its JSON object")
	}
	return out, nil
}

// jsonStringField decodes an optional string field ("" when absent).
func jsonStringField(obj map[string]json.RawMessage, key string) (string, *inputError) {
	raw, ok := obj[key]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", inputErrorf(key, "must be a string, not %s", jsonKindOf(raw))
	}
	// encoding/json would quietly replace invalid bytes with U+FFFD.
	if !utf8.Valid(raw) {
		return "", inputErrorf(key, "is not valid UTF-8")
	}
	return s, nil
}

// jsonKindOf names the type of a JSON value for error messages.
func jsonKindOf(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// inputOneLine rejects control characters (newlines included) and invalid UTF-8.
func inputOneLine(field, s string) *inputError {
	if !utf8.ValidString(s) {
		return inputErrorf(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return inputErrorf(field, "must be one line without control characters")
		}
	}
	return nil
}

// incidentCreateRequest is a parsed PUT /api/v1/incidents body.
type incidentCreateRequest struct {
	Service    string
	Severity   models.Severity
	Title      string
	Message    string
	DetectedAt *time.Time
	Source     string
	DedupKey   string
	Context    string // a compact JSON object, or ""
}

// apiSeverities maps the API's severities onto Herald's.
var apiSeverities = map[string]models.Severity{"CRIT": models.SEV1, "ERR": models.SEV2, "WARN": models.SEV3}

// apiSeverityName is a severity as the API writes it (INFO for SEV4).
func apiSeverityName(s models.Severity) string {
	switch s {
	case models.SEV1:
		return "CRIT"
	case models.SEV2:
		return "ERR"
	case models.SEV3:
		return "WARN"
	case models.SEV4:
		return "INFO"
	}
	return ""
}

var alertSourcePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// parseCreateRequest validates a create body, naming the first field that
// is missing or malformed; now bounds detected_at.
func parseCreateRequest(body []byte, now time.Time) (incidentCreateRequest, *inputError) {
	var r incidentCreateRequest
	obj, ferr := decodeJSONObject(body, "service", "severity", "title", "message", "detected_at", "source", "dedup_key", "context")
	if ferr != nil {
		return r, ferr
	}
	str := func(key string) string {
		if ferr != nil {
			return ""
		}
		var s string
		s, ferr = jsonStringField(obj, key)
		return s
	}
	service, severity, title, message := str("service"), str("severity"), str("title"), str("message")
	detected, source, dedup := str("detected_at"), str("source"), str("dedup_key")
	if ferr != nil {
		return r, ferr
	}

	r.Service = strings.TrimSpace(service)
	switch {
	case r.Service == "":
		return r, inputErrorf("service", "is required: the name of the service that is broken")
	case utf8.RuneCountInString(r.Service) > maxServiceChars:
		return r, inputErrorf("service", "is longer than %d characters", maxServiceChars)
	}
	if ferr := inputOneLine("service", r.Service); ferr != nil {
		return r, ferr
	}

	sev, ok := apiSeverities[strings.ToUpper(strings.TrimSpace(severity))]
	if strings.TrimSpace(severity) == "" {
		return r, inputErrorf("severity", "is required: CRIT, ERR or WARN")
	}
	if !ok {
		return r, inputErrorf("severity", "%q is not a severity: use CRIT, ERR or WARN", severity)
	}
	r.Severity = sev

	r.Title = strings.TrimSpace(title)
	switch {
	case r.Title == "":
		return r, inputErrorf("title", "is required")
	case utf8.RuneCountInString(r.Title) > models.MaxTitleLength:
		return r, inputErrorf("title", "is longer than %d characters", models.MaxTitleLength)
	}
	if ferr := inputOneLine("title", r.Title); ferr != nil {
		return r, ferr
	}

	r.Message = strings.TrimSpace(message)
	if utf8.RuneCountInString(r.Message) > maxMessageChars {
		return r, inputErrorf("message", "is longer than %d characters", maxMessageChars)
	}

	if detected != "" {
		t, err := time.Parse(time.RFC3339, detected)
		switch {
		case err != nil:
			return r, inputErrorf("detected_at", "%q is not an RFC 3339 time such as 2026-03-01T12:00:00Z", detected)
		case t.After(now.Add(maxDetectedSkew)):
			return r, inputErrorf("detected_at", "%s is in the future (now is %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		case t.Year() < 1970:
			return r, inputErrorf("detected_at", "%s is before 1970", detected)
		}
		t = t.UTC()
		r.DetectedAt = &t
	}

	r.Source = strings.TrimSpace(source)
	if r.Source != "" && (len(r.Source) > maxSourceChars || !alertSourcePattern.MatchString(r.Source)) {
		return r, inputErrorf("source", "must be a short name such as nagios or prometheus (letters, digits, '.', '_', '-'; at most %d)", maxSourceChars)
	}

	r.DedupKey = dedup
	if len(r.DedupKey) > maxDedupKeyBytes {
		return r, inputErrorf("dedup_key", "is longer than %d bytes", maxDedupKeyBytes)
	}
	if strings.TrimSpace(r.DedupKey) == "" {
		r.DedupKey = ""
	}

	if raw, ok := obj["context"]; ok {
		if jsonKindOf(raw) != "an object" {
			return r, inputErrorf("context", "must be a JSON object, not %s", jsonKindOf(raw))
		}
		if !utf8.Valid(raw) { // json.Compact keeps invalid bytes: PostgreSQL refuses them
			return r, inputErrorf("context", "is not valid UTF-8")
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return r, inputErrorf("context", "is not valid JSON: %v", err)
		}
		if buf.Len() > maxContextBytes {
			return r, inputErrorf("context", "is larger than %d bytes", maxContextBytes)
		}
		r.Context = buf.String()
	}
	return r, nil
}

// incidentStateRequest is a parsed POST /api/v1/incidents/{number} body.
type incidentStateRequest struct {
	State string // handlers.StateOpen, StateClaimed or StateResolved
	By    string
}

// parseStateRequest validates a state change body.
func parseStateRequest(body []byte) (incidentStateRequest, *inputError) {
	var r incidentStateRequest
	obj, ferr := decodeJSONObject(body, "state", "by")
	if ferr != nil {
		return r, ferr
	}
	state, ferr := jsonStringField(obj, "state")
	if ferr != nil {
		return r, ferr
	}
	by, ferr := jsonStringField(obj, "by")
	if ferr != nil {
		return r, ferr
	}
	r.State = strings.ToUpper(strings.TrimSpace(state))
	switch r.State {
	case "":
		return r, inputErrorf("state", "is required: OPEN, CLAIMED or RESOLVED")
	case handlers.StateOpen, handlers.StateClaimed, handlers.StateResolved:
	default:
		return r, inputErrorf("state", "%q is not a state: use OPEN, CLAIMED or RESOLVED", state)
	}
	r.By = strings.TrimSpace(by)
	if utf8.RuneCountInString(r.By) > maxByChars {
		return r, inputErrorf("by", "is longer than %d characters", maxByChars)
	}
	if ferr := inputOneLine("by", r.By); ferr != nil {
		return r, ferr
	}
	// by is shown in Slack: no markup that could mention a channel.
	if strings.ContainsAny(r.By, "<>") {
		return r, inputErrorf("by", "must not contain < or >")
	}
	return r, nil
}

// parseAPINumber reads an incident number from the path.
func parseAPINumber(s string) (int64, *inputError) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, inputErrorf("number", "%q is not an incident number", s)
	}
	return n, nil
}

// incidentListQuery is a parsed GET /api/v1/incidents query.
type incidentListQuery struct {
	Service string
	State   string // a models.AlertState constant, or ""
	Since   *time.Time
	Limit   int
	Before  int64 // from the cursor
}

// apiIncidentStates maps the API's states onto the store's filter.
var apiIncidentStates = map[string]string{
	handlers.StateOpen: models.AlertStateOpen, handlers.StateClaimed: models.AlertStateClaimed, handlers.StateResolved: models.AlertStateResolved,
}

// parseListQuery validates the listing's query parameters.
func parseListQuery(q url.Values) (incidentListQuery, *inputError) {
	r := incidentListQuery{Limit: defaultIncidentPage}
	for key, vs := range q {
		if !slices.Contains([]string{"service", "state", "since", "limit", "cursor"}, key) {
			return r, inputErrorf(key, "unknown query parameter; known: service, state, since, limit, cursor")
		}
		if len(vs) > 1 {
			return r, inputErrorf(key, "given more than once")
		}
	}
	r.Service = strings.TrimSpace(q.Get("service"))
	if st := strings.ToUpper(strings.TrimSpace(q.Get("state"))); st != "" {
		var ok bool
		if r.State, ok = apiIncidentStates[st]; !ok {
			return r, inputErrorf("state", "%q is not a state: use OPEN, CLAIMED or RESOLVED", q.Get("state"))
		}
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return r, inputErrorf("since", "%q is not an RFC 3339 time such as 2026-03-01T12:00:00Z", s)
		}
		r.Since = &t
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxIncidentPage {
			return r, inputErrorf("limit", "%q is not a number from 1 to %d", s, maxIncidentPage)
		}
		r.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		n, ok := decodeIncidentCursor(s)
		if !ok {
			return r, inputErrorf("cursor", "is not a cursor this API gave out (next_cursor)")
		}
		r.Before = n
	}
	return r, nil
}

// The cursor is opaque to clients: the number the next page starts below.
const incidentCursorPrefix = "before:"

func encodeIncidentCursor(number int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(incidentCursorPrefix + strconv.FormatInt(number, 10)))
}

func decodeIncidentCursor(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), incidentCursorPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != rest {
		return 0, false
	}
	return n, true
}

// parseIdempotencyKey validates the Idempotency-Key header ("" if absent).
func parseIdempotencyKey(values []string) (string, *inputError) {
	if len(values) == 0 {
		return "", nil
	}
	if len(values) > 1 {
		return "", inputErrorf("Idempotency-Key", "header given more than once")
	}
	k := strings.TrimSpace(values[0])
	if k == "" || len(k) > maxIdempotencyKey {
		return "", inputErrorf("Idempotency-Key", "must be 1-%d characters", maxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", inputErrorf("Idempotency-Key", "must be printable ASCII without spaces (a UUID is a good key)")
		}
	}
	return k, nil
}
