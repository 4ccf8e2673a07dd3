package notifications

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// SMSAction is what an SMS reply asks for.
type SMSAction int

// SMS reply actions.
const (
	SMSClaim    SMSAction = iota + 1 // claim: Code, or the latest page when Code is ""
	SMSClaimAll                      // claim every active escalation that paged the number
	SMSResolve                       // resolve the incident of Code
	SMSStop                          // opt the number out of paging
	SMSStart                         // opt it back in
	SMSHelp                          // say what can be sent
)

// SMSCommand is a parsed SMS reply.
type SMSCommand struct {
	Action SMSAction
	Code   string // claim code, digits; "" unless given
}

// ErrSMSUsage means a reply is not a command Herald knows.
var ErrSMSUsage = errors.New("unrecognised SMS reply")

// SMSUsage is the reply to HELP and to anything Herald cannot read.
const SMSUsage = `Usage: "claim" (latest page), "<code> claim" or "claim <code>", "claim all", "resolve <code>", STOP (no more pages), START.`

// maxSMSReply bounds what is parsed: ten SMS segments.
const maxSMSReply = 1600

// Twilio's opt-out, opt-in and help keywords (Advanced Opt-Out defaults):
// Twilio acts on them at the carrier level, Herald honours them too.
var (
	smsStopWords  = []string{"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
	smsStartWords = []string{"start", "unstop", "yes"}
	smsHelpWords  = []string{"help", "info"}
)

// ParseSMSReply reads a reply to a page. Case, surrounding punctuation
// and spacing do not matter; a claim code is 3 to 12 digits.
func ParseSMSReply(text string) (SMSCommand, error) {
	if len(text) > maxSMSReply {
		return SMSCommand{}, fmt.Errorf("%w: longer than %d bytes", ErrSMSUsage, maxSMSReply)
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`.,!?;:"'()`, r)
	})
	switch len(words) {
	case 0:
		return SMSCommand{}, fmt.Errorf("%w: empty", ErrSMSUsage)
	case 1:
		w := words[0]
		switch {
		case w == "claim":
			return SMSCommand{Action: SMSClaim}, nil
		case contains(smsStopWords, w):
			return SMSCommand{Action: SMSStop}, nil
		case contains(smsStartWords, w):
			return SMSCommand{Action: SMSStart}, nil
		case contains(smsHelpWords, w):
			return SMSCommand{Action: SMSHelp}, nil
		}
	case 2:
		a, b := words[0], words[1]
		if a == "claim" && b == "all" {
			return SMSCommand{Action: SMSClaimAll}, nil
		}
		verb, code := a, b
		if isClaimCode(a) {
			verb, code = b, a
		}
		if isClaimCode(code) {
			switch verb {
			case "claim":
				return SMSCommand{Action: SMSClaim, Code: code}, nil
			case "resolve":
				return SMSCommand{Action: SMSResolve, Code: code}, nil
			}
		}
	}
	return SMSCommand{}, fmt.Errorf("%w: %q", ErrSMSUsage, truncate(strings.Join(words, " "), 40))
}

func isClaimCode(s string) bool {
	if len(s) < 3 || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}
