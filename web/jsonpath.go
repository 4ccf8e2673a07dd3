package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The generic webhook finds its fields in the posted JSON with simple
// dotted paths: "alert.name" is the key "name" of the object "alert";
// "items.0.name" indexes an array. A backslash escapes the next character,
// so keys holding dots can be named ("labels.app\.kubernetes\.io/name").

// maxJSONPathLen bounds a path (as `herald apply` does): it names a
// field, not a program.
const maxJSONPathLen = 512

// errJSONPath wraps every malformed path.
var errJSONPath = errors.New("malformed JSON path")

// parseJSONPath splits a dotted path into its keys.
func parseJSONPath(p string) ([]string, error) {
	if p == "" {
		return nil, fmt.Errorf("%w: empty", errJSONPath)
	}
	if len(p) > maxJSONPathLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", errJSONPath, maxJSONPathLen)
	}
	var (
		segs []string
		cur  strings.Builder
	)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 == len(p) {
				return nil, fmt.Errorf("%w %q: ends with a lone backslash", errJSONPath, p)
			}
			i++
			cur.WriteByte(p[i])
		case '.':
			if cur.Len() == 0 {
				return nil, fmt.Errorf("%w %q: empty key (two dots, or a dot at an end)", errJSONPath, p)
			}
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() == 0 {
		return nil, fmt.Errorf("%w %q: empty key (a dot at the end)", errJSONPath, p)
	}
	return append(segs, cur.String()), nil
}

// escapeJSONPathKey writes a key so parseJSONPath reads it back whole.
func escapeJSONPathKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		if k[i] == '.' || k[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(k[i])
	}
	return b.String()
}

// lookupJSONPath follows keys through a document decoded into any
// (objects as map[string]any, arrays as []any). A key indexes an array
// when it is a decimal index without a sign or leading zeros.
func lookupJSONPath(doc any, keys []string) (any, bool) {
	cur := doc
	for _, k := range keys {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[k]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, ok := arrayIndex(k)
			if !ok || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func arrayIndex(k string) (int, bool) {
	if k == "" || len(k) > 9 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(k)
	return n, err == nil
}

// jsonScalarText is a looked-up value as text: strings as they are,
// numbers as written, booleans as true/false. Objects, arrays and null
// are not text.
func jsonScalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}
