package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
)

// Bounds of `/oncall cover`: an override from Slack is for covering a
// while; longer changes belong in the schedule itself.
const (
	minCover = time.Minute
	maxCover = 14 * 24 * time.Hour
	// maxOncallText bounds the command text read (Slack sends at most
	// a few thousand characters anyway).
	maxOncallText = 1000
	maxTeamName   = 100
)

// oncallRequest is a parsed `/oncall` (or `@incident oncall`) command:
// show a team's on-call (Team, or the caller's teams when empty), the
// usage (Help), or cover the on-call from now (Cover).
type oncallRequest struct {
	Help  bool
	Cover bool
	Team  string
	// Cover only. Who covers: UserID (a Slack mention) or Person (a
	// Herald handle typed as @name); neither means the caller.
	UserID string
	Person string
	// For how long: For, or until the next Until (HH:MM, in the caller's
	// zone); exactly one is set.
	For   time.Duration
	Until string
	Role  string // models.RotationPrimary (default), …
}

// oncallUsage is the usage of the command, written with prefix
// ("/oncall" or "@incident oncall").
func oncallUsage(prefix string) string {
	return fmt.Sprintf("Usage:\n• `%[1]s [team]` shows who is on call now and next (your teams without a team name)\n"+
		"• `%[1]s cover [@person] <30m|2h|1d|until 18:00> [team] [primary|secondary|shadow]` puts you (or @person) on call from now, primary by default",
		prefix)
}

// parseOncall reads the text of the command. Its errors are the
// caller's mistakes, worded for them.
func parseOncall(text string) (oncallRequest, error) {
	var r oncallRequest
	if len(text) > maxOncallText {
		return r, fmt.Errorf("that is %d characters: the command is a few words", len(text))
	}
	if !utf8.ValidString(text) {
		return r, fmt.Errorf("the text is not valid UTF-8")
	}
	words := oncallWords(text)
	switch {
	case len(words) == 0:
		return r, nil
	case strings.EqualFold(words[0], "help"):
		if len(words) > 1 {
			return r, fmt.Errorf("`help` takes nothing after it")
		}
		r.Help = true
		return r, nil
	case strings.EqualFold(words[0], "cover"):
		r.Cover = true
		return r, parseCover(&r, words[1:])
	case len(words) > 1:
		return r, fmt.Errorf("name one team (`%s` is more than a team name)", strings.Join(words, " "))
	}
	return r, setTeam(&r, words[0])
}

// parseCover reads the words after `cover`, in any order.
func parseCover(r *oncallRequest, words []string) error {
	r.Role = models.RotationPrimary
	roleSet := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		lower := strings.ToLower(w)
		switch {
		case strings.HasPrefix(w, "<@"):
			id, rest, ok := parseUserMention(w)
			if !ok || rest != "" {
				return fmt.Errorf("`%s` is not a person: mention them with @", w)
			}
			if r.UserID != "" || r.Person != "" {
				return fmt.Errorf("name one person to cover (or nobody to cover yourself)")
			}
			r.UserID = id
		case strings.HasPrefix(w, "@") && len(w) > 1:
			if r.UserID != "" || r.Person != "" {
				return fmt.Errorf("name one person to cover (or nobody to cover yourself)")
			}
			r.Person = w[1:]
		case lower == "for":
			// "cover @bob for 2h" reads well; the word adds nothing.
		case lower == "until":
			if i+1 >= len(words) {
				return fmt.Errorf("`until` needs a time of day, like `until 18:00`")
			}
			i++
			if _, _, err := parseClockTime(words[i]); err != nil {
				return err
			}
			if r.For != 0 || r.Until != "" {
				return fmt.Errorf("give one duration (`2h`) or one end (`until 18:00`), not both")
			}
			r.Until = words[i]
		case lower == models.RotationPrimary || lower == models.RotationSecondary || lower == models.RotationShadow:
			if roleSet {
				return fmt.Errorf("name one role: primary, secondary or shadow")
			}
			r.Role, roleSet = lower, true
		case startsWithDigit(w):
			d, err := parseCoverDuration(w)
			if err != nil {
				return err
			}
			if r.For != 0 || r.Until != "" {
				return fmt.Errorf("give one duration (`2h`) or one end (`until 18:00`), not both")
			}
			r.For = d
		default:
			if err := setTeam(r, w); err != nil {
				return err
			}
		}
	}
	if r.For == 0 && r.Until == "" {
		return fmt.Errorf("say for how long: `2h`, `30m`, `1d` or `until 18:00`")
	}
	return nil
}

func setTeam(r *oncallRequest, w string) error {
	if r.Team != "" {
		return fmt.Errorf("name one team (`%s` and `%s` are two)", r.Team, w)
	}
	if len(w) > maxTeamName || strings.ContainsAny(w, "<>`*") {
		return fmt.Errorf("`%s` is not a team name", truncate(w, 40))
	}
	r.Team = w
	return nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// parseCoverDuration reads "30m", "2h", "1d", "1h30m", "1d12h": whole
// numbers of days, hours and minutes, in that order.
func parseCoverDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("`%s` is not a duration: use minutes, hours or days like `30m`, `2h`, `1h30m` or `1d`", truncate(s, 40))
	units := []struct {
		suffix byte
		unit   time.Duration
	}{{'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}}
	rest := strings.ToLower(s)
	var total time.Duration
	next := 0
	for rest != "" {
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 0 || n == len(rest) || n > 5 {
			return 0, bad
		}
		v, err := strconv.Atoi(rest[:n])
		if err != nil {
			return 0, bad
		}
		found := false
		for next < len(units) {
			u := units[next]
			next++
			if rest[n] == u.suffix {
				total += time.Duration(v) * u.unit
				found = true
				break
			}
		}
		if !found {
			return 0, bad
		}
		rest = rest[n+1:]
	}
	switch {
	case total < minCover:
		return 0, fmt.Errorf("`%s` is too short: cover at least a minute", s)
	case total > maxCover:
		return 0, fmt.Errorf("`%s` is too long: cover at most %d days from Slack; longer changes belong in the schedule", s, int(maxCover/(24*time.Hour)))
	}
	return total, nil
}

// parseClockTime reads HH:MM (24-hour; H:MM too).
func parseClockTime(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(s, ":")
	bad := fmt.Errorf("`%s` is not a time of day: use 24-hour HH:MM, like `until 18:00`", truncate(s, 40))
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return 0, 0, bad
	}
	hour, _ = strconv.Atoi(h)
	minute, _ = strconv.Atoi(m)
	if hour > 23 || minute > 59 {
		return 0, 0, bad
	}
	return hour, minute, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// nextClockTime is the first hour:minute in loc strictly after now.
func nextClockTime(now time.Time, loc *time.Location, hour, minute int) time.Time {
	local := now.In(loc)
	t := time.Date(local.Year(), local.Month(), local.Day(), hour, minute, 0, 0, loc)
	if !t.After(now) {
		t = time.Date(local.Year(), local.Month(), local.Day()+1, hour, minute, 0, 0, loc)
	}
	return t.UTC()
}

// oncallWords splits the text at spaces, keeping each Slack reference
// (<@U1|Bob Smith>) one word whatever its label holds.
func oncallWords(text string) []string {
	var out []string
	for {
		text = strings.TrimLeftFunc(text, unicode.IsSpace)
		if text == "" {
			return out
		}
		end := strings.IndexFunc(text, unicode.IsSpace)
		if text[0] == '<' {
			if gt := strings.IndexByte(text, '>'); gt > 0 {
				end = gt + 1
			}
		}
		if end < 0 {
			end = len(text)
		}
		out = append(out, text[:end])
		text = text[end:]
	}
}
