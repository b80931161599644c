package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sinkReply is one message that reached a customer: at the platform's API
// (the sink), or down a webchat visitor's stream.
type sinkReply struct {
	At   time.Time
	Text string
}

// soakSink stands in for every platform's send API (HTTP, one path per kind)
// and for the e-mail provider's SMTP server, on 127.0.0.1. It records every
// reply by recipient ("kind:address", as soakCustomer.Recipient) and wakes
// whoever waits for one.
type soakSink struct {
	URL      string
	SMTPHost string
	SMTPPort string

	http *http.Server
	smtp net.Listener
	// ids numbers what the sink accepts. The soak numbers its customers'
	// messages from the same counter, as Chatwoot and Telegram number both
	// directions of a conversation from one sequence: an inbound message
	// never has the id of a reply.
	ids *atomic.Int64
	wg  sync.WaitGroup

	mu      sync.Mutex
	replies map[string][]sinkReply
	wake    map[string]chan struct{}
	// unknown counts requests the sink could not attribute to a recipient.
	unknown int
}

// startSoakSink listens on two loopback ports (HTTP and SMTP); ids numbers
// the platform ids it answers with.
func startSoakSink(ids *atomic.Int64) (*soakSink, error) {
	s := &soakSink{ids: ids, replies: map[string][]sinkReply{}, wake: map[string]chan struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the platform sink: %w", err)
	}
	s.URL = "http://" + ln.Addr().String()
	s.http = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(s.serveHTTP)}
	go func() { _ = s.http.Serve(ln) }()
	s.smtp, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = s.http.Close()
		return nil, fmt.Errorf("start the SMTP sink: %w", err)
	}
	s.SMTPHost, s.SMTPPort, _ = net.SplitHostPort(s.smtp.Addr().String())
	s.wg.Add(1)
	go s.acceptSMTP()
	return s, nil
}

// Close stops both listeners and waits for the SMTP sessions.
func (s *soakSink) Close() {
	_ = s.http.Close()
	_ = s.smtp.Close()
	s.wg.Wait()
}

// record stores a reply to recipient and wakes its waiters.
func (s *soakSink) record(recipient, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if recipient == "" {
		s.unknown++
		return
	}
	s.replies[recipient] = append(s.replies[recipient], sinkReply{At: time.Now(), Text: text})
	if ch, ok := s.wake[recipient]; ok {
		close(ch)
		delete(s.wake, recipient)
	}
}

// waitAfter blocks until recipient has a reply at or after t, or ctx ends.
func (s *soakSink) waitAfter(ctx context.Context, recipient string, t time.Time) bool {
	for {
		s.mu.Lock()
		rs := s.replies[recipient]
		if len(rs) > 0 && !rs[len(rs)-1].At.Before(t) {
			s.mu.Unlock()
			return true
		}
		ch, ok := s.wake[recipient]
		if !ok {
			ch = make(chan struct{})
			s.wake[recipient] = ch
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}

// snapshot copies what was recorded.
func (s *soakSink) snapshot() (map[string][]sinkReply, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]sinkReply, len(s.replies))
	for k, v := range s.replies {
		out[k] = append([]sinkReply(nil), v...)
	}
	return out, s.unknown
}

// serveHTTP reads a send of WhatsApp Cloud, Evolution, Instagram, Telegram
// or Chatwoot (the channel's base_url is the sink's URL + "/<kind>") and
// answers as the platform would.
func (s *soakSink) serveHTTP(w http.ResponseWriter, r *http.Request) {
	kind, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var body struct {
		To        string                 `json:"to"`
		Number    string                 `json:"number"`
		ChatID    json.Number            `json:"chat_id"`
		Recipient struct{ ID string }    `json:"recipient"`
		Text      json.RawMessage        `json:"text"`
		Caption   string                 `json:"caption"`
		Content   string                 `json:"content"`
		Message   struct{ Text string }  `json:"message"`
		Template  *struct{ Name string } `json:"template"`
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(raw, &body) != nil {
		http.Error(w, `{"error":{"message":"unreadable body"}}`, http.StatusBadRequest)
		return
	}
	var text string
	if json.Unmarshal(body.Text, &text) != nil {
		var wa struct{ Body string }
		_ = json.Unmarshal(body.Text, &wa)
		text = wa.Body
	}
	recipient := ""
	switch kind {
	case "whatsapp":
		recipient = body.To
		if body.Template != nil {
			text = "template:" + body.Template.Name
		}
	case "evolution":
		recipient = body.Number
	case "instagram":
		recipient, text = body.Recipient.ID, body.Message.Text
	case "telegram":
		recipient = body.ChatID.String()
		if text == "" {
			text = body.Caption
		}
	case "chatwoot":
		// /api/v1/accounts/<account>/conversations/<conversation>/messages
		parts := strings.Split(rest, "/")
		if len(parts) == 7 && parts[4] == "conversations" && parts[6] == "messages" {
			recipient = parts[5]
		}
		text = body.Content
	}
	if recipient != "" {
		recipient = kind + ":" + recipient
	}
	s.record(recipient, text)
	writePlatformAnswer(w, s.ids.Add(1))
}

// smtpSessionLimit bounds one SMTP session, in lines and in time.
const (
	smtpSessionLines = 100000
	smtpSessionTime  = time.Minute
)

func (s *soakSink) acceptSMTP() {
	defer s.wg.Done()
	for {
		conn, err := s.smtp.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.smtpSession(conn)
		}()
	}
}

// smtpSession speaks just enough SMTP for net/smtp.SendMail (no TLS, no
// auth): each accepted message is recorded for its recipients.
func (s *soakSink) smtpSession(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(smtpSessionTime))
	rd := bufio.NewReader(io.LimitReader(conn, 64<<20))
	say := func(line string) bool {
		_, err := io.WriteString(conn, line+"\r\n")
		return err == nil
	}
	if !say("220 soak sink ESMTP") {
		return
	}
	var rcpts []string
	for range smtpSessionLines {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-soak sink")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			rcpts = nil
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			addr := strings.Trim(strings.TrimSpace(strings.TrimSpace(line)[len("RCPT TO:"):]), "<>")
			rcpts = append(rcpts, strings.ToLower(addr))
			say("250 ok")
		case cmd == "DATA":
			say("354 end with <CRLF>.<CRLF>")
			var msg strings.Builder
			for range smtpSessionLines {
				l, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimRight(l, "\r\n") == "." {
					break
				}
				msg.WriteString(strings.TrimPrefix(l, "."))
			}
			text := mailText(msg.String())
			for _, to := range rcpts {
				s.record("email:"+to, text)
			}
			say("250 queued as soak" + fmt.Sprint(s.ids.Add(1)))
		case cmd == "QUIT":
			say("221 bye")
			return
		case cmd == "RSET", cmd == "NOOP":
			rcpts = nil
			say("250 ok")
		default:
			say("502 not implemented")
		}
	}
}

// mailText is the text/plain part of a message, decoded; "" when unreadable.
func mailText(raw string) string {
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return ""
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
		return strings.TrimSpace(string(b))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for range 16 {
		p, err := mr.NextPart()
		if err != nil {
			return ""
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			// multipart decodes quoted-printable parts itself.
			b, _ := io.ReadAll(p)
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}
