package notifications

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	gomail "github.com/wneessen/go-mail"
)

// EmailTLS is how the e-mail vendor protects its SMTP connection.
type EmailTLS string

// TLS policies.
const (
	// EmailSTARTTLS upgrades with STARTTLS and refuses a server that does
	// not offer it (the default; submission on port 587).
	EmailSTARTTLS EmailTLS = "starttls"
	// EmailOpportunistic upgrades with STARTTLS when offered and sends in
	// the clear otherwise.
	EmailOpportunistic EmailTLS = "opportunistic"
	// EmailImplicitTLS speaks TLS from the first byte (port 465).
	EmailImplicitTLS EmailTLS = "tls"
	// EmailNoTLS never encrypts: a local relay or a test server only.
	EmailNoTLS EmailTLS = "none"
)

// Defaults of the e-mail vendor.
const (
	DefaultSMTPPort     = 587
	DefaultEmailTimeout = 30 * time.Second
)

// EmailConfig configures an Email vendor.
type EmailConfig struct {
	Host     string
	Port     int // default 587
	Username string
	Password string
	// From is the sender: "Herald <herald@example.com>" or a bare address.
	From string
	TLS  EmailTLS // default EmailSTARTTLS
	// TLSConfig overrides the TLS client settings (tests: a private CA).
	TLSConfig *tls.Config
	// BaseURL is Herald's public URL; claim links are BaseURL/claim/<token>.
	BaseURL string
	// ClaimLinks signs the claim links; nil sends pages without one.
	ClaimLinks *ClaimLinks
	// Timeout bounds one send when the context has no deadline (30 s).
	Timeout time.Duration
	// Now is the clock claim links expire by (tests); default time.Now.
	Now func() time.Time
}

// Email delivers messages over SMTP: a plain-text mail whose body is the
// page, plus a one-time claim link for a page (not for out-of-band notes).
// Every Send opens its own connection, so it is safe for concurrent use.
//
// Errors never hold an address: the server's reply text can echo the
// recipient, so an SMTP error keeps only its stage and codes
// (*EmailSMTPError); other errors have the addresses and the username
// cut out.
type Email struct {
	host, username, password string
	port                     int
	from                     *mail.Address
	tlsPolicy                EmailTLS
	tlsConfig                *tls.Config
	baseURL                  string
	links                    *ClaimLinks
	timeout                  time.Duration
	now                      func() time.Time
}

// NewEmail validates c and builds the vendor.
func NewEmail(c EmailConfig) (*Email, error) {
	if strings.TrimSpace(c.Host) == "" {
		return nil, errors.New("email: an SMTP host is required")
	}
	if c.Port == 0 {
		c.Port = DefaultSMTPPort
	}
	if c.Port < 1 || c.Port > 65535 {
		return nil, fmt.Errorf("email: SMTP port %d out of range", c.Port)
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, errors.New("email: the from address is not an e-mail address")
	}
	if c.TLS == "" {
		c.TLS = EmailSTARTTLS
	}
	switch c.TLS {
	case EmailSTARTTLS, EmailOpportunistic, EmailImplicitTLS, EmailNoTLS:
	default:
		return nil, fmt.Errorf("email: unknown TLS policy %q (starttls, opportunistic, tls or none)", c.TLS)
	}
	if (c.Username == "") != (c.Password == "") {
		return nil, errors.New("email: set both the SMTP username and password, or neither")
	}
	if c.ClaimLinks != nil {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("email: claim links need an absolute http(s) base URL")
		}
	}
	e := &Email{
		host: c.Host, port: c.Port, username: c.Username, password: c.Password, from: from,
		tlsPolicy: c.TLS, tlsConfig: c.TLSConfig, baseURL: strings.TrimSuffix(c.BaseURL, "/"),
		links: c.ClaimLinks, timeout: c.Timeout, now: c.Now,
	}
	if e.timeout <= 0 {
		e.timeout = DefaultEmailTimeout
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e, nil
}

// Name implements Vendor.
func (e *Email) Name() string { return "email" }

// Modes implements Vendor.
func (e *Email) Modes() []Mode { return []Mode{ModeEmail} }

// String keeps the password out of %v.
func (e *Email) String() string { return "email vendor via " + e.host }

// EmailSMTPError is an SMTP server's refusal: the stage (MAIL FROM, RCPT
// TO, DATA...), the reply code and the enhanced status code. The reply
// text is left out: it can name the recipient.
type EmailSMTPError struct {
	Stage     string
	Code      int    // 0 when the server gave none
	Enhanced  string // e.g. "5.1.1"; "" when not offered
	Temporary bool   // a 4xx: worth retrying later
}

func (e *EmailSMTPError) Error() string {
	var b strings.Builder
	b.WriteString("SMTP ")
	if e.Temporary {
		b.WriteString("temporary failure")
	} else {
		b.WriteString("permanent failure")
	}
	if e.Stage != "" {
		b.WriteString(" at " + e.Stage)
	}
	if e.Code != 0 {
		b.WriteString(": " + strconv.Itoa(e.Code))
		if e.Enhanced != "" {
			b.WriteString(" " + e.Enhanced)
		}
	}
	return b.String()
}

// Send implements Vendor: it mails m and returns its Message-ID (without
// the angle brackets).
func (e *Email) Send(ctx context.Context, m Message) (string, error) {
	if m.Mode != ModeEmail {
		return "", fmt.Errorf("email: does not serve mode %q", m.Mode)
	}
	to, err := mail.ParseAddress(strings.TrimSpace(m.Destination))
	if err != nil || to.Address == "" {
		return "", fmt.Errorf("email: %w: not an e-mail address", ErrNoDestination)
	}
	msg, id, err := e.message(m, to)
	if err != nil {
		return "", e.scrub(err, to.Address)
	}
	timeout := e.timeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
		if timeout <= 0 {
			return "", fmt.Errorf("email: %w", context.DeadlineExceeded)
		}
	}
	// go-mail leaves the connection open when set-up fails after the
	// greeting (no STARTTLS, AUTH refused): keep hold of it and close it.
	var conns connCloser
	defer conns.closeAll()
	client, err := gomail.NewClient(e.host, append(e.clientOptions(timeout), gomail.WithDialContextFunc(conns.dialer(e.dialContext)))...)
	if err != nil {
		return "", fmt.Errorf("email: %w", e.scrub(err, to.Address))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return "", fmt.Errorf("email: %s:%d: %w", e.host, e.port, cerr)
		}
		return "", fmt.Errorf("email: %s:%d: %w", e.host, e.port, e.scrub(err, to.Address))
	}
	return id, nil
}

func (e *Email) tlsClientConfig() *tls.Config {
	if e.tlsConfig != nil {
		return e.tlsConfig.Clone()
	}
	return &tls.Config{ServerName: e.host, MinVersion: tls.VersionTLS12}
}

// dialContext connects, speaking TLS from the start for implicit TLS (a
// custom dialer replaces go-mail's own, which would do that).
func (e *Email) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	if e.tlsPolicy == EmailImplicitTLS {
		return (&tls.Dialer{NetDialer: d, Config: e.tlsClientConfig()}).DialContext(ctx, network, addr)
	}
	return d.DialContext(ctx, network, addr)
}

func (e *Email) clientOptions(timeout time.Duration) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(e.port), gomail.WithTimeout(timeout), gomail.WithTLSConfig(e.tlsClientConfig()),
	}
	switch e.tlsPolicy {
	case EmailImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case EmailOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case EmailNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if e.username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(e.username), gomail.WithPassword(e.password))
	}
	return opts
}

// message builds the mail and its Message-ID.
func (e *Email) message(m Message, to *mail.Address) (*gomail.Msg, string, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(e.from.Name, e.from.Address); err != nil {
		return nil, "", errors.New("from address rejected")
	}
	if err := msg.To(to.Address); err != nil {
		return nil, "", fmt.Errorf("%w: recipient rejected", ErrNoDestination)
	}
	subject := oneLine(m.Subject)
	if subject == "" {
		subject = "Herald page"
	}
	msg.Subject(subject)
	msg.SetDateWithValue(e.now())
	domain := "herald.invalid"
	if at := strings.LastIndexByte(e.from.Address, '@'); at >= 0 && at+1 < len(e.from.Address) {
		domain = e.from.Address[at+1:]
	}
	id := uuid.NewString() + "@" + domain
	msg.SetMessageIDWithValue(id)
	// An automated message: no vacation replies to it (RFC 3834).
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	body, err := e.body(m)
	if err != nil {
		return nil, "", err
	}
	msg.SetBodyString(gomail.TypeTextPlain, body)
	return msg, id, nil
}

// body is the page text and, for a page, its claim code and link.
func (e *Email) body(m Message) (string, error) {
	var b strings.Builder
	text := strings.TrimRight(m.Body, "\n")
	if strings.TrimSpace(text) == "" {
		text = m.Subject
	}
	b.WriteString(text)
	b.WriteString("\n")
	if m.IncidentID == 0 || m.OutOfBand || m.ClaimCode == "" {
		return b.String(), nil
	}
	b.WriteString("\nClaim code: " + m.ClaimCode + "\n")
	if e.links == nil {
		return b.String(), nil
	}
	token, expires, err := e.links.Issue(m.IncidentID, m.ClaimCode, e.now())
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\nClaim this incident (stops paging; the link works once, until %s):\n%s\n",
		expires.Format("2 Jan 2006 15:04 MST"), e.ClaimURL(token))
	return b.String(), nil
}

// ClaimURL is the link for a claim token.
func (e *Email) ClaimURL(token string) string { return e.baseURL + "/claim/" + token }

// scrub turns a go-mail error into one that names no address: SMTP
// refusals keep only stage and codes, anything else loses the recipient,
// the sender and the username.
func (e *Email) scrub(err error, rcpt string) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		out := &EmailSMTPError{Stage: sendStage(se.Reason), Code: code, Enhanced: se.EnhancedStatusCode(), Temporary: se.IsTemp()}
		if code >= 400 && code < 500 {
			out.Temporary = true
		}
		return out
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		// A refusal before any message: greeting, EHLO, STARTTLS, AUTH.
		return &EmailSMTPError{Stage: "connection set-up", Code: tp.Code, Temporary: tp.Code >= 400 && tp.Code < 500}
	}
	msg := err.Error()
	for _, s := range []string{rcpt, e.from.Address, e.username} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return errors.New(msg)
}

func sendStage(r gomail.SendErrReason) string {
	switch r {
	case gomail.ErrSMTPMailFrom:
		return "MAIL FROM"
	case gomail.ErrSMTPRcptTo:
		return "RCPT TO"
	case gomail.ErrSMTPData, gomail.ErrWriteContent:
		return "DATA"
	case gomail.ErrSMTPDataClose:
		return "end of DATA"
	case gomail.ErrSMTPReset:
		return "RSET"
	default:
		return r.String()
	}
}

// connCloser remembers the connections a send dialled.
type connCloser struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *connCloser) dialer(dial gomail.DialContextFunc) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if conn != nil {
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
		}
		return conn, err
	}
}

func (c *connCloser) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close() // after QUIT already closed: harmless
	}
}

// oneLine flattens s into a header value.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
