package models

import "strings"

// maskDot is what hides a character of a masked destination.
const maskDot = "•"

// MaskDestination hides most of a contact method's destination: what
// everyone but the person and admins sees on the web pages, and what the
// audit log keeps. A phone keeps its country code and last four digits
// ("+44 •••• ••12 34"), an e-mail address its first letter and domain
// ("a•••@example.com"), anything else its first and last two characters.
func MaskDestination(mode, dest string) string {
	switch mode {
	case "sms", "call":
		if m, ok := maskPhone(dest); ok {
			return m
		}
	case "email":
		if local, domain, ok := strings.Cut(dest, "@"); ok && local != "" && domain != "" && !strings.Contains(domain, "@") {
			return string([]rune(local)[:1]) + strings.Repeat(maskDot, 3) + "@" + domain
		}
	}
	r := []rune(dest)
	if len(r) <= 6 {
		return strings.Repeat(maskDot, 4)
	}
	return string(r[:2]) + strings.Repeat(maskDot, 3) + string(r[len(r)-2:])
}

// maskPhone masks an E.164 number. The country code's length is guessed
// (one digit for +1 and +7, else two): at worst one more digit shows.
func maskPhone(dest string) (string, bool) {
	digits, ok := strings.CutPrefix(dest, "+")
	if !ok || len(digits) < 7 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	cc := 2
	if digits[0] == '1' || digits[0] == '7' {
		cc = 1
	}
	hidden := len(digits) - cc - 4
	var b strings.Builder
	b.WriteString("+" + digits[:cc] + " ")
	for i := 0; i < hidden; i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteString(maskDot)
	}
	last := digits[len(digits)-4:]
	b.WriteString(last[:2] + " " + last[2:])
	return b.String(), true
}
