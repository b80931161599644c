package channels

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// SMTPMailer sends e-mail replies through the channel's SMTP server
// (settings smtp_host, smtp_port; secrets smtp_username, smtp_password), from
// the channel's address, as text plus HTML, threaded on the customer's e-mail.
type SMTPMailer struct {
	now func() time.Time
}

// NewSMTPMailer returns the mailer.
func NewSMTPMailer() *SMTPMailer { return &SMTPMailer{now: time.Now} }

// SendMail sends one message and returns its Message-ID.
func (s *SMTPMailer) SendMail(ctx context.Context, ch Channel, m PlatformMessage) (string, error) {
	host, port := ch.Settings["smtp_host"], ch.Settings["smtp_port"]
	if host == "" {
		return "", &SendError{Reason: "the e-mail channel has no settings.smtp_host"}
	}
	if port == "" {
		port = "587"
	}
	from, err := mail.ParseAddress(ch.Settings["address"])
	if err != nil {
		return "", &SendError{Reason: "settings.address is not an e-mail address"}
	}
	if name := ch.Settings["from_name"]; name != "" {
		from.Name = name
	}
	msgID, raw, err := s.compose(from, m)
	if err != nil {
		return "", &SendError{Reason: err.Error()}
	}
	var auth smtp.Auth
	if user := ch.Secret("smtp_username"); user != "" {
		auth = smtp.PlainAuth("", user, ch.Secret("smtp_password"), host)
	}
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(net.JoinHostPort(host, port), auth, from.Address, []string{m.To}, raw) }()
	select {
	case <-ctx.Done():
		return "", &SendError{Retryable: true, Reason: ctx.Err().Error()}
	case err := <-done:
		if err != nil {
			var tp *textproto.Error
			if errors.As(err, &tp) && tp.Code >= 500 {
				return "", &SendError{Status: tp.Code, Reason: tp.Msg}
			}
			return "", &SendError{Retryable: true, Reason: err.Error()}
		}
	}
	return msgID, nil
}

// compose builds the RFC 5322 message: headers, then multipart/alternative
// with a quoted-printable text part and an HTML part.
func (s *SMTPMailer) compose(from *mail.Address, m PlatformMessage) (string, []byte, error) {
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	rnd := make([]byte, 12)
	if _, err := rand.Read(rnd); err != nil {
		return "", nil, err
	}
	msgID := "<" + hex.EncodeToString(rnd) + "@" + domain + ">"
	subject := m.Subject
	if subject == "" {
		subject = "Atendimento"
	}
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", from.String())
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", s.now().Format(time.RFC1123Z))
	h("Message-ID", msgID)
	if t := m.Thread; t != nil && t.InReplyTo != "" {
		h("In-Reply-To", t.InReplyTo)
		h("References", strings.Join(t.References, " "))
	}
	h("MIME-Version", "1.0")
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	h("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	b.WriteString("\r\n")
	for _, part := range []struct{ ct, content string }{{"text/plain; charset=utf-8", m.Text}, {"text/html; charset=utf-8", htmlOrText(m)}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ct}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return "", nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.content)); err != nil {
			return "", nil, err
		}
		if err := qp.Close(); err != nil {
			return "", nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return "", nil, fmt.Errorf("close multipart: %w", err)
	}
	b.WriteString(body.String())
	return msgID, []byte(b.String()), nil
}

func htmlOrText(m PlatformMessage) string {
	if m.HTML != "" {
		return "<!doctype html><html><body>" + m.HTML + "</body></html>"
	}
	return "<pre>" + m.Text + "</pre>"
}
