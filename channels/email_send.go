package channels

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atende/atende/internal/outbound"
	gomail "github.com/wneessen/go-mail"
)

// SMTPMailer sends e-mail replies through the channel's SMTP server
// (settings smtp_host, smtp_port; secrets smtp_username, smtp_password), from
// the channel's address, as text plus HTML, threaded on the customer's e-mail.
//
// A send is bound to its context: when the context is cancelled (the River
// job's timeout, a shutdown) the SMTP connection is closed at once, so no
// send carries on in the background while the job is retried and the same
// reply goes out twice.
type SMTPMailer struct {
	// ConnectTimeout bounds connecting and the SMTP greeting, and then each
	// stretch of the dialogue without progress (zero: 30 s), so a silent
	// server is given up on even when the caller's context has no deadline.
	ConnectTimeout time.Duration
	// SendTimeout bounds one whole send, from dialing to QUIT (zero: 2 min).
	SendTimeout time.Duration
	policy      outbound.Policy
	now         func() time.Time
}

// DefaultSMTPPort is the submission port an e-mail channel without
// settings.smtp_port is sent through.
const DefaultSMTPPort = "587"

// CheckReachable says whether the outbound policy lets Atende reach the
// servers a channel's settings name (base_url, smtp_host), so a refused one
// is known when the channel is registered — by API or business file — not
// at every send. The dial is checked again whatever this says.
func CheckReachable(ctx context.Context, policy outbound.Policy, settings map[string]string) error {
	if u := settings["base_url"]; u != "" {
		if err := policy.CheckURL(ctx, u); err != nil {
			return fmt.Errorf("settings.base_url: %w", err)
		}
	}
	if host := settings["smtp_host"]; host != "" {
		port := settings["smtp_port"]
		if port == "" {
			port = DefaultSMTPPort
		}
		if err := policy.CheckHost(ctx, host, port); err != nil {
			return fmt.Errorf("settings.smtp_host: %w", err)
		}
	}
	return nil
}

// Defaults of the SMTPMailer's timeouts.
const (
	defaultSMTPConnectTimeout = 30 * time.Second
	defaultSMTPSendTimeout    = 2 * time.Minute
)

// NewSMTPMailer returns the mailer with the default timeouts. The SMTP host
// is the tenant's (settings.smtp_host), so it is dialed under the outbound
// policy like every other URL a tenant controls.
func NewSMTPMailer(policy outbound.Policy) *SMTPMailer {
	return &SMTPMailer{ConnectTimeout: defaultSMTPConnectTimeout, SendTimeout: defaultSMTPSendTimeout, policy: policy, now: time.Now}
}

// SendMail sends one message and returns its Message-ID. A 5xx answer of the
// server is a permanent SendError carrying the code; anything else that
// fails (a timeout, a cancelled context, a dropped connection, a 4xx) is
// retryable.
func (s *SMTPMailer) SendMail(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	host, port := ch.Settings["smtp_host"], ch.Settings["smtp_port"]
	if host == "" {
		return "", &SendError{Reason: "the e-mail channel has no settings.smtp_host"}
	}
	if port == "" {
		port = DefaultSMTPPort
	}
	portNum, err := strconv.Atoi(port)
	if err != nil || portNum < 1 || portNum > 65535 {
		return "", &SendError{Reason: fmt.Sprintf("settings.smtp_port %q is not a port number", port)}
	}
	from, err := mail.ParseAddress(ch.Settings["address"])
	if err != nil {
		return "", &SendError{Reason: "settings.address is not an e-mail address"}
	}
	if name := ch.Settings["from_name"]; name != "" {
		from.Name = name
	}
	msgID, msg, err := s.compose(from, m)
	if err != nil {
		return "", &SendError{Reason: err.Error()}
	}

	sendCtx, cancel := context.WithTimeout(ctx, s.timeout(s.SendTimeout, defaultSMTPSendTimeout))
	defer cancel()
	// go-mail watches the context only while dialing; after that a blocked
	// read or write would wait out the connection deadline. Closing the
	// connection when the context ends stops the dialogue where it is.
	var conns sessionConns
	stop := context.AfterFunc(sendCtx, conns.closeAll)
	defer func() {
		stop()
		conns.closeAll() // whatever an error path of go-mail left open
	}()
	opts := []gomail.Option{
		gomail.WithPort(portNum),
		gomail.WithTimeout(s.timeout(s.ConnectTimeout, defaultSMTPConnectTimeout)),
		// STARTTLS when the server offers it, as net/smtp.SendMail did;
		// PLAIN credentials are still refused over cleartext except to localhost.
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
		gomail.WithDialContextFunc(func(dctx context.Context, network, addr string) (net.Conn, error) {
			c, err := s.policy.DialContext(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			conns.add(c)
			return c, nil
		}),
	}
	if user := ch.Secret("smtp_username"); user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(user), gomail.WithPassword(ch.Secret("smtp_password")))
	}
	client, err := gomail.NewClient(host, opts...)
	if err != nil {
		return "", &SendError{Reason: fmt.Sprintf("configuring the SMTP client for %s: %v", net.JoinHostPort(host, port), err)}
	}
	if err := client.DialAndSendWithContext(sendCtx, msg); err != nil {
		return "", smtpSendError(sendCtx, net.JoinHostPort(host, port), err)
	}
	return msgID, nil
}

func (s *SMTPMailer) timeout(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// smtpSendError classifies a failed send: permanent for the server's 5xx
// answers, retryable for the rest.
func smtpSendError(ctx context.Context, addr string, err error) error {
	if ctx.Err() != nil {
		return &SendError{Retryable: true, Reason: fmt.Sprintf("sending e-mail through %s: %v", addr, ctx.Err())}
	}
	// go-mail may not wrap the dial error: its text is checked too.
	if errors.Is(err, outbound.ErrBlocked) || strings.Contains(err.Error(), outbound.ErrBlocked.Error()) {
		return &SendError{Reason: fmt.Sprintf("sending e-mail through %s: %v", addr, outbound.ErrBlocked)} // retrying will not change it
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && !se.IsTemp() {
		return &SendError{Status: se.ErrorCode(), Reason: fmt.Sprintf("sending e-mail through %s: %v", addr, err)}
	}
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return &SendError{Status: tp.Code, Reason: fmt.Sprintf("sending e-mail through %s: %s", addr, tp.Msg)}
	}
	return &SendError{Retryable: true, Reason: fmt.Sprintf("sending e-mail through %s: %v", addr, err)}
}

// sessionConns are the connections one send dialed, so that the end of its
// context can close them from another goroutine.
type sessionConns struct {
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

// add keeps c, or closes it at once when the send has already ended.
func (s *sessionConns) add(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return
	}
	s.conns = append(s.conns, c)
}

// closeAll closes every connection of the send; calling it again is harmless.
func (s *sessionConns) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}

// compose builds the message: From, To, Subject, Date, a Message-ID at the
// channel's domain (returned, it is the platform id of the reply), the
// thread's In-Reply-To and References, and a multipart/alternative body with
// a quoted-printable text part and an HTML part.
func (s *SMTPMailer) compose(from *mail.Address, m PlatformMessage) (string, *gomail.Msg, error) {
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	rnd := make([]byte, 12)
	if _, err := rand.Read(rnd); err != nil {
		return "", nil, fmt.Errorf("making a Message-ID: %w", err)
	}
	id := hex.EncodeToString(rnd) + "@" + domain
	subject := m.Subject
	if subject == "" {
		subject = "Atendimento"
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithEncoding(gomail.EncodingQP), gomail.WithCharset(gomail.CharsetUTF8))
	msg.FromMailAddress(from)
	if err := msg.To(m.To); err != nil {
		return "", nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(subject)
	msg.SetDateWithValue(s.now())
	msg.SetMessageIDWithValue(id)
	if t := m.Thread; t != nil && t.InReplyTo != "" {
		msg.SetGenHeader(gomail.HeaderInReplyTo, t.InReplyTo)
		msg.SetGenHeader(gomail.HeaderReferences, strings.Join(t.References, " "))
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, htmlOrText(m))
	return "<" + id + ">", msg, nil
}

func htmlOrText(m PlatformMessage) string {
	if m.HTML != "" {
		return "<!doctype html><html><body>" + m.HTML + "</body></html>"
	}
	return "<pre>" + m.Text + "</pre>"
}
