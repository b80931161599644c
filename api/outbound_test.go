package api

import (
	"testing"

	"github.com/atende/atende/internal/outbound"
)

// A tenant cannot register a URL the server must never reach (issue 10,
// SSRF): by default loopback, unspecified, private and metadata addresses
// are refused with 422, naming the setting; the operator's explicit
// allowance lets the same URLs through.
func TestTenantURLsAtInternalAddressesAre422(t *testing.T) {
	internal := []string{"http://127.0.0.1:5432", "http://[::1]:8080", "http://0.0.0.0:80", "http://169.254.169.254/latest/meta-data",
		"http://localhost:9000", "http://10.0.0.5:8080", "http://192.168.1.1"}
	channel := func(url string) map[string]any {
		return map[string]any{"kind": "evolution", "name": "evo " + url, "settings": map[string]string{"instance": "loja", "base_url": url},
			"secrets": map[string]string{"apikey": "k"}}
	}
	email := func(host string) map[string]any {
		return map[string]any{"kind": "email", "name": "mail " + host,
			"settings": map[string]string{"address": "atendimento@loja.com.br", "smtp_host": host, "smtp_port": "25"}}
	}
	strict := newTestServerWith(t, outbound.Policy{})
	for _, u := range internal {
		var e apiError
		if code := strict.call(t, strict.keyA, "POST", "/api/v1/channels", channel(u), &e); code != 422 || e.Error.Code != "outbound_refused" {
			t.Errorf("channel base_url %s: %d %+v", u, code, e)
		}
		if code := strict.call(t, strict.keyA, "POST", "/api/v1/webhooks", map[string]any{"url": u + "/hook", "events": []string{"message.created"}}, &e); code != 422 || e.Error.Code != "outbound_refused" {
			t.Errorf("subscription %s: %d %+v", u, code, e)
		}
	}
	for _, host := range []string{"127.0.0.1", "169.254.169.254", "localhost"} {
		var e apiError
		if code := strict.call(t, strict.keyA, "POST", "/api/v1/channels", email(host), &e); code != 422 {
			t.Errorf("smtp_host %s: %d %+v", host, code, e)
		}
	}
	var e apiError
	if code := strict.call(t, strict.keyA, "POST", "/api/v1/webhooks", map[string]any{"url": "gopher://example.com/"}, &e); code != 422 {
		t.Errorf("a gopher:// subscription: %d %+v", code, e)
	}
	if code := strict.call(t, strict.keyA, "POST", "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.com/atende", "events": []string{"message.created"}}, nil); code != 201 {
		t.Errorf("a public subscription: %d", code)
	}

	rig := newTestServerWith(t, outbound.MustParse("127.0.0.0/8"))
	if code := rig.call(t, rig.keyA, "POST", "/api/v1/channels", channel("http://127.0.0.1:5432"), nil); code != 201 {
		t.Errorf("allowed loopback base_url: %d", code)
	}
	if code := rig.call(t, rig.keyA, "POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:5678/hook", "events": []string{"message.created"}}, nil); code != 201 {
		t.Errorf("allowed loopback subscription: %d", code)
	}
	if code := rig.call(t, rig.keyA, "POST", "/api/v1/webhooks", map[string]any{"url": "http://169.254.169.254/"}, nil); code != 422 {
		t.Errorf("allowing loopback let the metadata address through: %d", code)
	}
}
