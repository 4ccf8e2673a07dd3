package notifications

import (
	"net/http"
	"strings"
)

// TwilioAPIMethod names a Twilio REST call by its resource: "messages" or
// "calls" (…/Accounts/<sid>/Messages.json), else "other". The account SID
// and message SIDs in the path never become a label.
func TwilioAPIMethod(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for i, p := range parts {
		if p != "Accounts" || i+2 >= len(parts) {
			continue
		}
		switch strings.TrimSuffix(parts[i+2], ".json") {
		case "Messages":
			return "messages"
		case "Calls":
			return "calls"
		}
		break
	}
	return "other"
}
