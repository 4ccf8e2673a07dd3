package main

import (
	"io"
	"strings"
	"testing"
)

func TestFinding(t *testing.T) {
	for _, tc := range []struct {
		line string
		want string // prefix of the finding; "" for clean
	}{
		{`{"msg":"page sent","to":"+15557654321"}`, "phone number"},
		{`{"msg":"x","to":"5557654321"}`, "phone number"},
		{`{"msg":"x","to":"(555) 765-4321"}`, "phone number"},
		{`{"msg":"x","to":"****4321"}`, ""},
		{`{"msg":"x","email":"sam@example.com"}`, "e-mail address"},
		{`{"msg":"auth","token":"xoxb-test"}`, "Slack token"},
		{`{"msg":"config","error":"a bot token starting with xoxb-"}`, ""},
		{`{"msg":"key","key":"hrld_abcdefghijkl"}`, "integration key"},
		{`{"msg":"sig","secret":"e2e-signing-secret"}`, "test secret"},
		{`{"msg":"id 15557654321000"}`, ""},
		{`{"msg":"incident declared","number":42}`, ""},
	} {
		if got := finding(tc.line); !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("finding(%s) = %q, want %q…", tc.line, got, tc.want)
		}
	}
	n, found := scan(strings.NewReader("{}\n{\"to\":\"+15550100001\"}\n"), "f", io.Discard)
	if n != 2 || found != 1 {
		t.Errorf("scan: %d lines, %d findings; want 2, 1", n, found)
	}
}
