package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"
)

// soakRequests are plain customer requests the offline engine answers from
// the demo account's knowledge, none asking for a person. No one contains
// another: the timeline check matches stored texts by containment.
var soakRequests = []string{
	"Quais são as formas de pagamento? Aceita pix?",
	"Qual o prazo de entrega para a capital de São Paulo?",
	"Preciso da 2ª via do boleto, como faço para emitir?",
	"Quanto tempo de garantia têm os produtos de vocês?",
	"Se eu pagar no cartão, o reembolso aparece em quanto tempo?",
	"Vocês parcelam no cartão em quantas vezes sem juros?",
	"O produto chegou com defeito, como funciona a troca?",
	"Para o interior de Minas, quantos dias leva a entrega?",
	"O boleto venceu, consigo gerar outro?",
	"Tem desconto pagando no pix?",
}

var soakFirstNames = []string{"Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gabriela", "Heitor", "Isabela", "João", "Larissa", "Marcos", "Natália", "Otávio", "Paula", "Rafael", "Sofia", "Tiago"}
var soakLastNames = []string{"Almeida", "Barbosa", "Cardoso", "Duarte", "Esteves", "Ferreira", "Gomes", "Moraes", "Nogueira", "Ribeiro", "Teixeira", "Vieira"}

// soakMaxCustomers bounds -customers: identities carry a 4-digit index.
const soakMaxCustomers = 9999

// planCustomers makes n customers spread over kinds, each a distinct person
// (identities carry a random run number, so runs on one server do not
// meet), each with messages requests: one turn each, or one burst.
func planCustomers(n, messages int, kinds []string, burst bool) []*soakCustomer {
	r, _ := rand.Int(rand.Reader, big.NewInt(1000))
	run := int(r.Int64())
	out := make([]*soakCustomer, 0, n)
	for i := range n {
		kind := kinds[i%len(kinds)]
		name := soakFirstNames[i%len(soakFirstNames)] + " " + soakLastNames[(i/len(soakFirstNames))%len(soakLastNames)]
		c := &soakCustomer{Step: ScenarioStep{Channel: kind, Name: name, Subject: "Dúvida sobre minha compra", From: map[string]any{}}}
		switch kind {
		case "whatsapp", "evolution":
			phone := fmt.Sprintf("551198%03d%04d", run, i)
			c.Step.From["phone"] = phone
			c.Recipient = kind + ":" + phone
		case "instagram":
			id := fmt.Sprintf("99%03d%08d", run, i)
			c.Step.From["instagram_id"] = id
			c.Recipient = "instagram:" + id
		case "telegram":
			id := int64(7_000_000_000) + int64(run)*100_000 + int64(i)
			c.Step.From["telegram_id"] = float64(id)
			c.Recipient = fmt.Sprintf("telegram:%d", id)
		case "webchat":
			id := fmt.Sprintf("soak%03dv%05d", run, i)
			c.Step.From["webchat_id"] = id
			c.Recipient = "webchat:" + id
		case "email":
			addr := fmt.Sprintf("cliente%05d.r%03d@soak.atende.dev", i, run)
			c.Step.From["email"] = addr
			c.Recipient = "email:" + addr
		case "chatwoot":
			id := 900_000_000 + run*100_000 + i
			c.Step.From["chatwoot_id"] = fmt.Sprint(id)
			c.Step.From["conversation_id"] = fmt.Sprint(id + 50_000)
			c.Recipient = fmt.Sprintf("chatwoot:%d", id+50_000)
		}
		c.Identity = senderIdentity(c.Step)
		for j := range messages {
			m := &soakMessage{Text: soakRequests[(i*3+j*7)%len(soakRequests)], Turn: j}
			if burst {
				m.Turn = 0
			}
			c.Messages = append(c.Messages, m)
		}
		out = append(out, c)
	}
	return out
}

// Webhook retries, as platforms retry an endpoint that did not answer 2xx.
const (
	soakAttempts   = 12
	soakFirstRetry = 250 * time.Millisecond
	soakMaxBackoff = 8 * time.Second
)

// retrying makes up to soakAttempts attempts, backing off exponentially
// after a network error, a timeout, a 429 or a 5xx; other answers are final.
// Every failed attempt is counted under what and its kind.
func (s *soak) retrying(ctx context.Context, what string, attempt func(context.Context) error) (int, error) {
	wait := soakFirstRetry
	var err error
	for n := 1; n <= soakAttempts; n++ {
		if err = attempt(ctx); err == nil {
			return n, nil
		}
		if ctx.Err() != nil {
			return n, fmt.Errorf("%s: %w", what, ctx.Err())
		}
		kind, retry := classify(err)
		s.countError(what + "_" + kind)
		if !retry {
			return n, fmt.Errorf("%s (not retried): %w", what, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, soakMaxBackoff)
	}
	return soakAttempts, fmt.Errorf("%s: gave up after %d attempts: %w", what, soakAttempts, err)
}

// classify names an attempt's failure and says whether a platform retries it.
func classify(err error) (string, bool) {
	var st *httpStatusError
	switch {
	case errors.As(err, &st):
		return fmt.Sprintf("http_%d", st.status), st.status == http.StatusTooManyRequests || st.status >= 500
	case isTimeout(err):
		return "timeout", true
	default:
		return "network", true
	}
}

// runCustomer plays one customer: each turn's messages, then the wait for
// its reply at the sink before the next turn. It stops at ctx's end, or when
// a message could not be delivered at all.
func (s *soak) runCustomer(ctx context.Context, c *soakCustomer) {
	ch := s.channels[c.Step.Channel]
	token := ""
	if c.Step.Channel == "webchat" {
		_, err := s.retrying(ctx, "webchat_session", func(ctx context.Context) error {
			var err error
			var visitor string
			visitor, token, err = s.api.webchatSession(ctx, ch, c.Step)
			if err == nil && visitor != fromString(c.Step.From, "webchat_id") {
				// A first answer was lost (the server killed mid-request) and
				// the id is taken: like a browser, go on as the new visitor.
				c.Step.From["webchat_id"] = visitor
				c.Identity = "webchat:" + visitor
			}
			return err
		})
		if err != nil {
			return
		}
		s.streams.Add(1)
		go func() {
			defer s.streams.Done()
			s.followWebchat(s.streamCtx, ch, c, token)
		}()
	}
	var turnStart time.Time
	for j, m := range c.Messages {
		if j > 0 && m.Turn != c.Messages[j-1].Turn && !s.sink.waitAfter(ctx, c.Recipient, turnStart) {
			return
		}
		if j == 0 || m.Turn != c.Messages[j-1].Turn {
			turnStart = time.Now()
		}
		st := c.Step
		st.Text = m.Text
		seq := int(s.seq.Add(1))
		wh, err := webhookFor(ch, st, fmt.Sprintf("soak%s-%d", randomHex(4), seq), seq, time.Now(), token)
		if err != nil {
			s.countError("build_" + c.Step.Channel)
			return
		}
		m.Started = time.Now()
		m.Attempts, err = s.retrying(ctx, "webhook", func(ctx context.Context) error { return s.api.deliver(ctx, wh) })
		if err != nil {
			return
		}
		m.AckedAt = time.Now()
		if j == 0 {
			s.customerAcked()
		}
	}
	s.sink.waitAfter(ctx, c.Recipient, turnStart)
}
