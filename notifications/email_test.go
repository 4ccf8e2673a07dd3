package notifications_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/smtpfake"
	"github.com/heraldhq/herald/notifications"
)

const rcpt = "alice.oncall@example.com"

func newEmail(t *testing.T, s *smtpfake.Server, tlsPolicy notifications.EmailTLS, links *notifications.ClaimLinks) *notifications.Email {
	t.Helper()
	e, err := notifications.NewEmail(notifications.EmailConfig{
		Host: "127.0.0.1", Port: s.Port, From: "Herald <pager@herald.example>", TLS: tlsPolicy,
		BaseURL: "https://herald.example/", ClaimLinks: links, Now: func() time.Time { return linkT0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func page() notifications.Message {
	return notifications.Message{Mode: notifications.ModeEmail, Destination: rcpt, Subject: "Incident #12: checkout\r\nBcc: evil@example.com",
		Body: "SEV2 checkout is down.\nPlease look.", IncidentID: 99, ClaimCode: "314159"}
}

func TestEmailSendsPageWithClaimLink(t *testing.T) {
	s := smtpfake.New(t)
	links := newLinks(t, linkSecret)
	e := newEmail(t, s, notifications.EmailNoTLS, links)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := e.Send(ctx, page())
	if err != nil {
		t.Fatal(err)
	}
	got := s.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	m := got[0]
	if !strings.Contains(m.From, "<pager@herald.example>") || len(m.To) != 1 || !strings.Contains(m.To[0], "<"+rcpt+">") {
		t.Errorf("envelope from %q to %q", m.From, m.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parsing the mail: %v\n%s", err, m.Data)
	}
	h := msg.Header
	if h.Get("Message-Id") != "<"+id+">" || !strings.HasSuffix(id, "@herald.example") {
		t.Errorf("Message-ID %q, vendor id %q", h.Get("Message-Id"), id)
	}
	if got, want := h.Get("Subject"), "Incident #12: checkout Bcc: evil@example.com"; got != want {
		t.Errorf("Subject %q, want %q (one line: no header injection)", got, want)
	}
	if h.Get("Bcc") != "" {
		t.Error("a Bcc header was injected")
	}
	if from, _ := mail.ParseAddress(h.Get("From")); from == nil || from.Address != "pager@herald.example" || from.Name != "Herald" {
		t.Errorf("From %q", h.Get("From"))
	}
	if to := h.Get("To"); !strings.Contains(to, rcpt) {
		t.Errorf("To %q", to)
	}
	if h.Get("Auto-Submitted") != "auto-generated" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("Auto-Submitted %q, Content-Type %q", h.Get("Auto-Submitted"), h.Get("Content-Type"))
	}
	if d, err := h.Date(); err != nil || !d.Equal(linkT0) {
		t.Errorf("Date %v (%v)", d, err)
	}
	body := decodeBody(t, msg)
	for _, want := range []string{"SEV2 checkout is down.\nPlease look.\n", "Claim code: 314159", "https://herald.example/claim/"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	i := strings.Index(body, "https://herald.example/claim/")
	token := strings.Fields(body[i+len("https://herald.example/claim/"):])[0]
	link, err := links.Verify(token, linkT0.Add(time.Minute))
	if err != nil || link.IncidentID != 99 || link.ClaimCode != "314159" || !link.Expires.Equal(linkT0.Add(24*time.Hour)) {
		t.Errorf("claim link token: %+v, %v", link, err)
	}
}

func decodeBody(t *testing.T, msg *mail.Message) string { return readAll(t, msg) }

func TestEmailOutOfBandHasNoClaimLink(t *testing.T) {
	s := smtpfake.New(t)
	e := newEmail(t, s, notifications.EmailNoTLS, newLinks(t, linkSecret))
	for _, m := range []notifications.Message{
		{Mode: notifications.ModeEmail, Destination: rcpt, Subject: "Incident #12 claimed", Body: "No action needed.", IncidentID: 99, OutOfBand: true},
		{Mode: notifications.ModeEmail, Destination: rcpt, Subject: "Hello", Body: "A notice.", ClaimCode: "123456"},
	} {
		if _, err := e.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range s.Messages() {
		msg, err := mail.ReadMessage(strings.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, msg); strings.Contains(body, "/claim/") || strings.Contains(body, "Claim code") {
			t.Errorf("out-of-band mail carries a claim: %q", body)
		}
	}
}

func TestEmailFailures(t *testing.T) {
	tests := []struct {
		name     string
		reject   map[string]string
		ehlo     []string
		policy   notifications.EmailTLS
		wantCode int
		wantTemp bool
		wantText string
	}{
		{name: "recipient rejected", reject: map[string]string{"RCPT": "550 5.1.1 <" + rcpt + ">: user unknown"}, ehlo: []string{"ENHANCEDSTATUSCODES"},
			policy: notifications.EmailNoTLS, wantCode: 550, wantText: "550 5.1.1"},
		{name: "greylisted", reject: map[string]string{"RCPT": "451 4.7.1 <" + rcpt + ">: try later"},
			policy: notifications.EmailNoTLS, wantCode: 451, wantTemp: true, wantText: "451"},
		{name: "sender refused", reject: map[string]string{"MAIL": "553 sender <pager@herald.example> not allowed"},
			policy: notifications.EmailNoTLS, wantCode: 553, wantText: "MAIL FROM: 553"},
		{name: "message refused", reject: map[string]string{"DATA": "554 5.7.1 spam from " + rcpt},
			policy: notifications.EmailNoTLS, wantCode: 554, wantText: "554"},
		{name: "no STARTTLS though required", policy: notifications.EmailSTARTTLS, wantText: "STARTTLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := smtpfake.New(t)
			s.Reject = tc.reject
			s.Extensions = append(s.Extensions, tc.ehlo...)
			e := newEmail(t, s, tc.policy, newLinks(t, linkSecret))
			_, err := e.Send(context.Background(), page())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if strings.Contains(err.Error(), rcpt) || strings.Contains(err.Error(), "pager@herald.example") {
				t.Errorf("error names an address: %v", err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q lacks %q", err, tc.wantText)
			}
			var se *notifications.EmailSMTPError
			if tc.wantCode != 0 {
				if !errors.As(err, &se) || se.Code != tc.wantCode || se.Temporary != tc.wantTemp {
					t.Errorf("error %v: want *EmailSMTPError code %d temporary %v, got %+v", err, tc.wantCode, tc.wantTemp, se)
				}
			}
			if n := len(s.Messages()); n != 0 {
				t.Errorf("server kept %d messages", n)
			}
		})
	}
}

func TestEmailNetworkError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close() // nothing listens there now
	e, err := notifications.NewEmail(notifications.EmailConfig{Host: "127.0.0.1", Port: port, From: "pager@herald.example", TLS: notifications.EmailNoTLS})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Send(context.Background(), page())
	if err == nil || strings.Contains(err.Error(), rcpt) {
		t.Fatalf("Send: %v", err)
	}
}

func TestEmailRejectsBadInput(t *testing.T) {
	s := smtpfake.New(t)
	e := newEmail(t, s, notifications.EmailNoTLS, nil)
	m := page()
	m.Destination = "not an address"
	if _, err := e.Send(context.Background(), m); !errors.Is(err, notifications.ErrNoDestination) || strings.Contains(err.Error(), "not an address") {
		t.Errorf("bad destination: %v", err)
	}
	m = page()
	m.Mode = notifications.ModeSMS
	if _, err := e.Send(context.Background(), m); err == nil {
		t.Error("SMS mode accepted")
	}
	for _, c := range []notifications.EmailConfig{
		{From: "a@b.example"},
		{Host: "h", From: "nope"},
		{Host: "h", From: "a@b.example", TLS: "ssl"},
		{Host: "h", From: "a@b.example", Username: "u"},
		{Host: "h", From: "a@b.example", Port: 70000},
		{Host: "h", From: "a@b.example", ClaimLinks: newLinks(t, linkSecret), BaseURL: "herald.example"},
	} {
		if _, err := notifications.NewEmail(c); err == nil {
			t.Errorf("NewEmail(%+v) succeeded", c)
		}
	}
	if len(s.Messages()) != 0 {
		t.Error("a bad message was sent")
	}
}

// readAll reads a mail's body, undoing its transfer encoding.
func readAll(t *testing.T, msg *mail.Message) string {
	t.Helper()
	var r io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}
