package notifications

import (
	"errors"
	"net/mail"
	"strings"
)

// CheckDestination reports what is wrong with a contact method's
// destination for a mode (nil when nothing is), in words that never
// repeat the destination: they may reach logs and CI output. herald apply
// and the web UI check contacts with it.
func CheckDestination(m Mode, dest string) error {
	switch {
	case dest == "":
		return errors.New("required")
	case m == ModeSMS || m == ModeCall:
		if !e164Pattern.MatchString(dest) {
			return errors.New("not a phone number in E.164 form (like +447700900123: a plus, the country code, no spaces)")
		}
	case m == ModeEmail:
		a, err := mail.ParseAddress(dest)
		if err != nil || a.Name != "" || a.Address != dest || !strings.Contains(dest, "@") {
			return errors.New("not a valid e-mail address (like alice@example.com)")
		}
	case m == ModeSlack:
		if !slackUserPattern.MatchString(dest) {
			return errors.New("not a Slack user id (like U0123ABCD)")
		}
	default:
		return errors.New("unknown mode")
	}
	return nil
}
