// Package smtpfake is a tiny SMTP server for tests: it listens on
// 127.0.0.1, speaks enough SMTP for a client to deliver (EHLO/HELO, MAIL,
// RCPT, DATA, RSET, NOOP, QUIT; no TLS, no AUTH), and records messages.
package smtpfake

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one fake SMTP server.
type Server struct {
	Port int
	// Reject maps "MAIL", "RCPT" or "DATA" (the end of data) to the reply
	// that command gets instead of 250. Set before the first connection.
	Reject map[string]string
	// Extensions are advertised after EHLO (default: 8BITMIME).
	Extensions []string

	mu       sync.Mutex
	messages []Message
	wg       sync.WaitGroup
}

// Message is one message the server accepted.
type Message struct {
	From string   // MAIL FROM argument, e.g. "<a@b.example>"
	To   []string // RCPT TO arguments
	Data string   // the message, dot-unstuffed, CRLF line ends
}

// New starts a server, stopped when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Port: ln.Addr().(*net.TCPAddr).Port, Extensions: []string{"8BITMIME"}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	reply := func(line string) { _, _ = fmt.Fprintf(c, "%s\r\n", line) }
	replyOr := func(cmd, ok string) bool {
		if rej, bad := s.Reject[cmd]; bad {
			reply(rej)
			return false
		}
		reply(ok)
		return true
	}
	reply("220 smtpfake ESMTP")
	var cur Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			exts := s.Extensions
			if len(exts) == 0 {
				reply("250 smtpfake")
				continue
			}
			reply("250-smtpfake")
			for i, ext := range exts {
				sep := "-"
				if i == len(exts)-1 {
					sep = " "
				}
				reply("250" + sep + ext)
			}
		case "HELO", "NOOP":
			reply("250 ok")
		case "RSET":
			cur = Message{}
			reply("250 ok")
		case "MAIL":
			if replyOr("MAIL", "250 ok") {
				cur.From = argAfterColon(arg)
			}
		case "RCPT":
			if replyOr("RCPT", "250 ok") {
				cur.To = append(cur.To, argAfterColon(arg))
			}
		case "DATA":
			reply("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = b.String()
			if replyOr("DATA", "250 queued") {
				s.mu.Lock()
				s.messages = append(s.messages, cur)
				s.mu.Unlock()
			}
			cur = Message{}
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// argAfterColon turns "FROM:<a@b> SIZE=1" into "<a@b> SIZE=1".
func argAfterColon(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	return strings.TrimSpace(v)
}
