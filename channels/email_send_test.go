package channels

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atende/atende/internal/fixtures"
	"github.com/atende/atende/internal/outbound"
	"github.com/atende/atende/memory"
)

// smtpServer is a local SMTP server speaking enough of RFC 5321 for the
// mailer: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, NOOP, RSET, QUIT. It keeps the
// messages it accepted (answered 250 after their final dot).
type smtpServer struct {
	ln       net.Listener
	mu       sync.Mutex
	messages []smtpMessage
	reject   int // answer MAIL FROM with this code when set
	// stall, when set, is where the server stops answering: "data" (the
	// DATA command is never answered) or "dot" (the whole message is read
	// but its final dot never answered, so it is never accepted).
	stall   string
	stalled chan string   // the stage, each time a session stalls there
	hungUp  chan struct{} // each time the client closes a stalled session
}

type smtpMessage struct {
	From string
	To   []string
	Data string
	Auth string
}

func newSMTPServer(t *testing.T, opts ...func(*smtpServer)) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, stalled: make(chan string, 4), hungUp: make(chan struct{}, 4)}
	for _, o := range opts {
		o(s)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// stallUntilHangUp reports the stall and then reads until the client closes
// the connection, answering nothing.
func (s *smtpServer) stallUntilHangUp(r *bufio.Reader, stage string) {
	s.stalled <- stage
	for {
		if _, err := r.ReadString('\n'); err != nil {
			s.hungUp <- struct{}{}
			return
		}
	}
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = io.WriteString(c, line+"\r\n") }
	say("220 localhost ESMTP test")
	var m smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-localhost")
			say("250 AUTH PLAIN")
		case strings.HasPrefix(cmd, "AUTH PLAIN"):
			m.Auth = strings.TrimSpace(line[len("AUTH PLAIN"):])
			say("235 2.7.0 Authentication successful")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			if s.reject != 0 {
				say(strconv.Itoa(s.reject) + " 5.7.1 sender rejected")
				continue
			}
			from, _, _ := strings.Cut(strings.TrimSpace(line[len("MAIL FROM:"):]), " ")
			m.From = strings.Trim(from, "<>")
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			to, _, _ := strings.Cut(strings.TrimSpace(line[len("RCPT TO:"):]), " ")
			m.To = append(m.To, strings.Trim(to, "<>"))
			say("250 OK")
		case cmd == "DATA":
			if s.stall == "data" {
				s.stallUntilHangUp(r, "data")
				return
			}
			say("354 End data with <CR><LF>.<CR><LF>")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			if s.stall == "dot" {
				s.stallUntilHangUp(r, "dot")
				return
			}
			m.Data = data.String()
			s.mu.Lock()
			s.messages = append(s.messages, m)
			s.mu.Unlock()
			m = smtpMessage{}
			say("250 OK queued")
		case cmd == "QUIT":
			say("221 Bye")
			return
		default:
			say("250 OK")
		}
	}
}

func (s *smtpServer) received() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage{}, s.messages...)
}

func TestEmailReplyIsThreadedOverSMTP(t *testing.T) {
	e := newOutboxEnv(t)
	smtpd := newSMTPServer(t)
	host, port, _ := net.SplitHostPort(smtpd.ln.Addr().String())
	e.outbox.transport = NewPlatforms(outbound.TestRig(), NewSMTPMailer(outbound.TestRig()), nil)
	ch, err := e.channels.Create(context.Background(), e.acct, NewChannel{Kind: KindEmail, Name: "postmark",
		Settings: map[string]string{"provider": "postmark", "address": "atendimento@lojaexemplo.com.br", "from_name": "Loja Exemplo",
			"smtp_host": host, "smtp_port": port},
		Secrets: map[string]string{"smtp_username": "loja", "smtp_password": "segredo"}})
	if err != nil {
		t.Fatal(err)
	}
	// The customer's e-mail arrives through the real parser and ingestion.
	batch, err := ParsePostmarkInbound(fixtures.Read(t, "email/postmark_inbound.json"))
	if err != nil {
		t.Fatal(err)
	}
	batch.Messages[0].At = time.Now().Add(-time.Hour)
	if _, err := NewIngestor(e.pool, e.mem, nil).Ingest(context.Background(), ch, batch); err != nil {
		t.Fatal(err)
	}
	contact, err := e.mem.FindByIdentity(context.Background(), e.acct, memory.Identity{Kind: memory.KindEmail, Value: "maria.silva@exemplo.com.br"})
	if err != nil {
		t.Fatal(err)
	}
	ev := e.queue(t, Outgoing{ContactID: contact.ID, ChannelID: ch.ID, Author: memory.AuthorHuman,
		Text: "Olá, Maria!\n\nA troca do pedido **4521** pelo número 38 está aprovada.\n\n- Poste o tênis em qualquer agência\n- O novo sai em 2 dias úteis"})
	statuses := e.waitStatus(t, ev, "sent", 1)
	got := smtpd.received()
	if len(got) != 1 || got[0].From != "atendimento@lojaexemplo.com.br" || got[0].To[0] != "maria.silva@exemplo.com.br" || got[0].Auth == "" {
		t.Fatalf("smtp envelope: %+v", got)
	}
	msg, err := mail.ReadMessage(strings.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Re: Pedido 4521 - troca de tamanho" || msg.Header.Get("In-Reply-To") != "<CAF3x9kQ2mN8c0a1bS2d@mail.exemplo.com.br>" ||
		!strings.Contains(msg.Header.Get("References"), "<CAF3x9kQ2mN8c0a1bS2d@mail.exemplo.com.br>") {
		t.Fatalf("not threaded: subject %q, in-reply-to %q, references %q", subject, msg.Header.Get("In-Reply-To"), msg.Header.Get("References"))
	}
	if !strings.HasSuffix(statuses[0].ExternalID, "/"+msg.Header.Get("Message-Id")) {
		t.Fatalf("the Message-ID must be the platform id: %s vs %s", statuses[0].ExternalID, msg.Header.Get("Message-Id"))
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts[strings.Split(p.Header.Get("Content-Type"), ";")[0]] = string(b)
	}
	if !strings.Contains(parts["text/plain"], "pedido 4521") || !strings.Contains(parts["text/html"], "<li>Poste o tênis") ||
		!strings.Contains(parts["text/html"], "<b>4521</b>") {
		t.Fatalf("parts: %q", parts)
	}
}

// emailChannel is an e-mail channel sending through smtpd.
func emailChannel(smtpd *smtpServer) Channel {
	host, port, _ := net.SplitHostPort(smtpd.ln.Addr().String())
	return Channel{Kind: KindEmail, Name: "smtp",
		Settings: map[string]string{"address": "atendimento@lojaexemplo.com.br", "from_name": "Loja Exemplo", "smtp_host": host, "smtp_port": port},
		Secrets:  map[string]string{"smtp_username": "loja", "smtp_password": "segredo"}}
}

// The message the customer receives: envelope, credentials, headers and both
// parts, as a real SMTP server gets them.
func TestSMTPMailerDeliversTheMessage(t *testing.T) {
	smtpd := newSMTPServer(t)
	mailer := NewSMTPMailer(outbound.TestRig())
	at := time.Date(2026, 3, 2, 14, 5, 0, 0, time.FixedZone("BRT", -3*3600))
	mailer.now = func() time.Time { return at }
	id, err := mailer.SendMail(context.Background(), emailChannel(smtpd), PlatformMessage{
		To: "maria.silva@exemplo.com.br", Subject: "Re: Pedido 4521 — troca", Text: "Olá, Maria!\nA troca está aprovada.",
		HTML:   "<p>Olá, Maria!</p><p>A troca está <b>aprovada</b>.</p>",
		Thread: &EmailThread{InReplyTo: "<orig-1@mail.exemplo.com.br>", References: []string{"<first-0@mail.exemplo.com.br>", "<orig-1@mail.exemplo.com.br>"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := smtpd.received()
	if len(got) != 1 {
		t.Fatalf("%d messages received, want 1", len(got))
	}
	if got[0].From != "atendimento@lojaexemplo.com.br" || len(got[0].To) != 1 || got[0].To[0] != "maria.silva@exemplo.com.br" {
		t.Fatalf("envelope: from %q to %q", got[0].From, got[0].To)
	}
	if cred, err := base64.StdEncoding.DecodeString(got[0].Auth); err != nil || string(cred) != "\x00loja\x00segredo" {
		t.Fatalf("AUTH PLAIN credentials: %q %v", cred, err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil || from.Name != "Loja Exemplo" || from.Address != "atendimento@lojaexemplo.com.br" {
		t.Fatalf("From %q: %v", msg.Header.Get("From"), err)
	}
	if to, err := mail.ParseAddress(msg.Header.Get("To")); err != nil || to.Address != "maria.silva@exemplo.com.br" {
		t.Fatalf("To %q: %v", msg.Header.Get("To"), err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	date, _ := msg.Header.Date()
	if subject != "Re: Pedido 4521 — troca" || !date.Equal(at) || msg.Header.Get("Message-Id") != id || !strings.HasSuffix(id, "@lojaexemplo.com.br>") {
		t.Fatalf("subject %q, date %v, Message-ID %q (returned %q)", subject, date, msg.Header.Get("Message-Id"), id)
	}
	if msg.Header.Get("In-Reply-To") != "<orig-1@mail.exemplo.com.br>" ||
		strings.Join(strings.Fields(msg.Header.Get("References")), " ") != "<first-0@mail.exemplo.com.br> <orig-1@mail.exemplo.com.br>" {
		t.Fatalf("not threaded: in-reply-to %q, references %q", msg.Header.Get("In-Reply-To"), msg.Header.Get("References"))
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p) // quoted-printable is decoded by the reader
		parts[strings.Split(p.Header.Get("Content-Type"), ";")[0]] = string(b)
	}
	if parts["text/plain"] != "Olá, Maria!\r\nA troca está aprovada." || !strings.Contains(parts["text/html"], "<p>A troca está <b>aprovada</b>.</p>") {
		t.Fatalf("parts: %q", parts)
	}
}

// A 5xx answer is permanent: retrying would only be refused again.
func TestSMTPMailerRefusalIsPermanent(t *testing.T) {
	smtpd := newSMTPServer(t, func(s *smtpServer) { s.reject = 550 })
	_, err := NewSMTPMailer(outbound.TestRig()).SendMail(context.Background(), emailChannel(smtpd), PlatformMessage{To: "maria.silva@exemplo.com.br", Text: "oi"})
	var se *SendError
	if !errors.As(err, &se) || se.Retryable || se.Status != 550 {
		t.Fatalf("got %#v, want a permanent SendError with status 550", err)
	}
	if len(smtpd.received()) != 0 {
		t.Fatal("a refused message was delivered")
	}
}

// Cancelling the context stops a send that a server holds up, at once: Send
// returns, the connection is closed (nothing keeps sending behind the
// retried job), and the server never accepted the message.
func TestSMTPMailerCancelStopsTheSend(t *testing.T) {
	for _, stage := range []string{"data", "dot"} {
		t.Run(stage, func(t *testing.T) {
			smtpd := newSMTPServer(t, func(s *smtpServer) { s.stall = stage })
			mailer := NewSMTPMailer(outbound.TestRig())
			// Far beyond the test's own deadline below: only the cancel can end the send.
			mailer.ConnectTimeout, mailer.SendTimeout = time.Hour, time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := mailer.SendMail(ctx, emailChannel(smtpd), PlatformMessage{To: "maria.silva@exemplo.com.br", Text: "oi"})
				done <- err
			}()
			failsafe := time.NewTimer(10 * time.Second)
			defer failsafe.Stop()
			select {
			case got := <-smtpd.stalled:
				if got != stage {
					t.Fatalf("stalled at %q, want %q", got, stage)
				}
			case err := <-done:
				t.Fatalf("the send ended before the server stalled: %v", err)
			case <-failsafe.C:
				t.Fatal("the server never saw the send reach " + stage)
			}
			cancel()
			select {
			case err := <-done:
				var se *SendError
				if !errors.As(err, &se) || !se.Retryable || !strings.Contains(se.Reason, context.Canceled.Error()) {
					t.Fatalf("got %#v, want a retryable SendError saying the context was cancelled", err)
				}
			case <-failsafe.C:
				t.Fatal("SendMail did not return after its context was cancelled")
			}
			select {
			case <-smtpd.hungUp:
			case <-failsafe.C:
				t.Fatal("the connection was left open after the cancel")
			}
			if n := len(smtpd.received()); n != 0 {
				t.Fatalf("%d messages accepted, want none", n)
			}
		})
	}
}

// An SMTP host at an internal address is never dialed under the default
// policy, and the refusal is final (retrying will not change it).
func TestAnSMTPHostAtAnInternalAddressIsRefusedForGood(t *testing.T) {
	smtpd := newSMTPServer(t)
	_, err := NewSMTPMailer(outbound.Policy{}).SendMail(context.Background(), emailChannel(smtpd), PlatformMessage{To: "maria.silva@exemplo.com.br", Text: "oi"})
	if err == nil || !strings.Contains(err.Error(), "blocked by the outbound policy") {
		t.Fatalf("an SMTP server on loopback was used: %v", err)
	}
	if retry, _ := IsRetryable(err); retry {
		t.Fatalf("a refusal by the policy is retried: %v", err)
	}
}
