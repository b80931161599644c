package channels

import (
	"bufio"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atende/atende/internal/fixtures"
	"github.com/atende/atende/memory"
)

// smtpServer is a local SMTP server speaking enough of RFC 5321 for net/smtp:
// EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT. It keeps what it received.
type smtpServer struct {
	ln       net.Listener
	mu       sync.Mutex
	messages []smtpMessage
	reject   int // answer MAIL FROM with this code when set
}

type smtpMessage struct {
	From string
	To   []string
	Data string
	Auth string
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
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
				say("550 5.7.1 sender rejected")
				continue
			}
			m.From = strings.Trim(strings.TrimSpace(line[len("MAIL FROM:"):]), "<>")
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.To = append(m.To, strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<>"))
			say("250 OK")
		case cmd == "DATA":
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
	e.outbox.transport = NewPlatforms(nil, NewSMTPMailer(), nil)
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
