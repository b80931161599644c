package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// scenarioClient talks to a running Atende as the platforms and an attendant would.
type scenarioClient struct {
	base, key string
	http      *http.Client
	channels  map[string]evalChannel
	attendant string
	sink      *http.Server
	sinkURL   string
	seq       int
}

type evalChannel struct {
	ID, Secret, PlatformID string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// api calls the REST API with the key; out receives the JSON answer.
func (c *scenarioClient) api(ctx context.Context, method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// post sends a raw webhook.
func (c *scenarioClient) post(ctx context.Context, path string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: HTTP %d: %s", path, resp.StatusCode, raw)
	}
	return nil
}

// setup starts a local sink standing in for every platform's send API and
// creates one channel per kind pointed at it, and the attendant who resolves.
func (c *scenarioClient) setup(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the platform sink: %w", err)
	}
	c.sinkURL = "http://" + ln.Addr().String()
	c.sink = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		// One answer every platform's sender accepts: WhatsApp, Instagram, Telegram.
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.sink%s"}],"recipient_id":"1","message_id":"m_sink%s","ok":true,"result":{"message_id":1}}`,
			randomHex(4), randomHex(4))
	})}
	go func() { _ = c.sink.Serve(ln) }()
	c.channels = map[string]evalChannel{}
	run := randomHex(3)
	specs := []struct {
		kind       string
		settings   map[string]string
		secretName string
		platformID string
	}{
		{"whatsapp", map[string]string{"phone_number_id": "eval" + run, "base_url": c.sinkURL}, "app_secret", ""},
		{"instagram", map[string]string{"instagram_id": "17841400" + run, "base_url": c.sinkURL}, "app_secret", "17841400" + run},
		{"telegram", map[string]string{"base_url": c.sinkURL}, "secret_token", ""},
		{"webchat", nil, "", ""},
		{"email", map[string]string{"provider": "postmark", "address": "atendimento@eval.atende.dev"}, "inbound_token", ""},
	}
	for _, sp := range specs {
		secret := "eval-" + randomHex(12)
		secrets := map[string]string{}
		switch sp.kind {
		case "whatsapp", "instagram":
			secrets = map[string]string{"app_secret": secret, "verify_token": "v", "access_token": "t"}
		case "telegram":
			secrets = map[string]string{"bot_token": "1:eval", "secret_token": secret}
		case "email":
			secrets = map[string]string{"inbound_token": secret}
		}
		var ch struct{ ID string }
		if _, err := c.api(ctx, "POST", "/api/v1/channels", map[string]any{"kind": sp.kind, "name": "eval " + sp.kind + " " + run,
			"settings": sp.settings, "secrets": secrets}, &ch); err != nil {
			return err
		}
		c.channels[sp.kind] = evalChannel{ID: ch.ID, Secret: secret, PlatformID: sp.platformID}
	}
	c.attendant = "avaliacao-" + run + "@atende.dev"
	_, err = c.api(ctx, "PUT", "/api/v1/attendants", map[string]any{"email": c.attendant, "name": "Avaliação", "password": randomHex(12)}, nil)
	return err
}

func (c *scenarioClient) close() {
	if c.sink != nil {
		_ = c.sink.Close()
	}
}

func metaSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// send delivers a customer step as its platform would, stamped at.
func (c *scenarioClient) send(ctx context.Context, sc Scenario, n int, st ScenarioStep, at time.Time) error {
	ch, ok := c.channels[st.Channel]
	if !ok {
		return fmt.Errorf("step %d: unknown channel %q", n, st.Channel)
	}
	c.seq++
	id := fmt.Sprintf("%s-%d-%s", sc.ID, n, randomHex(3))
	path := "/webhooks/" + st.Channel + "/" + ch.ID
	switch st.Channel {
	case "whatsapp":
		phone := fromString(st.From, "phone")
		body, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "1", "changes": []any{map[string]any{
			"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
				"metadata": map[string]any{"display_phone_number": "551140028922", "phone_number_id": "eval"},
				"contacts": []any{map[string]any{"profile": map[string]any{"name": st.Name}, "wa_id": phone}},
				"messages": []any{map[string]any{"from": phone, "id": "wamid." + id, "timestamp": fmt.Sprint(at.Unix()), "type": "text",
					"text": map[string]any{"body": st.Text}}}}}}}}})
		return c.post(ctx, path, body, map[string]string{"X-Hub-Signature-256": metaSignature(ch.Secret, body)})
	case "instagram":
		sender := fromString(st.From, "instagram_id")
		body, _ := json.Marshal(map[string]any{"object": "instagram", "entry": []any{map[string]any{"time": at.UnixMilli(), "id": ch.PlatformID,
			"messaging": []any{map[string]any{"sender": map[string]any{"id": sender}, "recipient": map[string]any{"id": ch.PlatformID},
				"timestamp": at.UnixMilli(), "message": map[string]any{"mid": "m." + id, "text": st.Text}}}}}})
		return c.post(ctx, path, body, map[string]string{"X-Hub-Signature-256": metaSignature(ch.Secret, body)})
	case "telegram":
		uid := st.From["telegram_id"]
		from := map[string]any{"id": uid, "is_bot": false, "first_name": st.Name}
		if u := fromString(st.From, "username"); u != "" {
			from["username"] = u
		}
		body, _ := json.Marshal(map[string]any{"update_id": c.seq, "message": map[string]any{"message_id": c.seq, "from": from,
			"chat": map[string]any{"id": uid, "type": "private"}, "date": at.Unix(), "text": st.Text}})
		return c.post(ctx, path, body, map[string]string{"X-Telegram-Bot-Api-Secret-Token": ch.Secret})
	case "email":
		addr := fromString(st.From, "email")
		body, _ := json.Marshal(map[string]any{"FromName": st.Name, "From": addr, "FromFull": map[string]any{"Email": addr, "Name": st.Name},
			"To": "atendimento@eval.atende.dev", "Subject": st.Subject, "MessageID": id, "Date": at.Format(time.RFC1123Z),
			"TextBody": st.Text, "Headers": []any{map[string]any{"Name": "Message-ID", "Value": "<" + id + "@eval.atende.dev>"}}})
		return c.post(ctx, path+"?token="+ch.Secret, body, nil)
	case "webchat":
		visitor := fromString(st.From, "webchat_id")
		var sess struct{ Token string }
		pre := map[string]any{"visitor_id": visitor, "name": st.Name}
		if e := fromString(st.From, "email"); e != "" {
			pre["email"] = e
		}
		raw, _ := json.Marshal(pre)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/webchat/"+ch.ID+"/sessions", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("webchat session: %w", err)
		}
		err = json.NewDecoder(resp.Body).Decode(&sess)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("webchat session: HTTP %d %v", resp.StatusCode, err)
		}
		body, _ := json.Marshal(map[string]any{"visitor_id": visitor, "client_id": id, "text": st.Text})
		return c.post(ctx, "/webchat/"+ch.ID+"/messages", body, map[string]string{"X-Webchat-Token": sess.Token})
	}
	return fmt.Errorf("step %d: channel %q is not supported", n, st.Channel)
}
