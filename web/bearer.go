package web

import "strings"

// bearerToken reads an "Authorization: Bearer <token>" value. The scheme
// is case-insensitive (RFC 9110, section 11.1) and spaces around the
// token are ignored; anything else (another scheme, no token) is not a
// bearer token.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
