package handlers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
)

// permanentSlackErrors are Web API errors that no retry can fix.
var permanentSlackErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "invalid_auth": true,
	"not_authed": true, "account_inactive": true, "token_revoked": true, "missing_scope": true,
	"invalid_blocks": true, "msg_too_long": true, "no_text": true, "user_not_found": true,
	"message_not_found": true, "cant_update_message": true, "restricted_action": true,
}

// slackError wraps a Web API error, marking the permanent ones so the job is
// not retried for nothing; rate limits and transport errors stay retryable.
// A nil err stays nil.
func slackError(what string, err error) error {
	if err == nil {
		return nil
	}
	if permanentSlackErrors[slackErrorCode(err)] {
		return fmt.Errorf("%w: %s: %w", bot.ErrPermanent, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// slackErrorCode is the Web API error code of err ("" for nil or a
// transport error).
func slackErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return "ratelimited"
	}
	// slack-go returns some API errors as plain errors carrying the code.
	if msg := err.Error(); !strings.ContainsAny(msg, " :") {
		return msg
	}
	return ""
}
