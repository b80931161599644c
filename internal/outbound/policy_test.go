package outbound

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestStrictPolicyAddresses(t *testing.T) {
	var strict Policy
	for addr, want := range map[string]bool{
		"8.8.8.8":            true,
		"2001:4860::8888":    true,
		"200.160.2.3":        true, // a Brazilian public address
		"127.0.0.1":          false,
		"127.8.9.10":         false,
		"::1":                false,
		"0.0.0.0":            false,
		"::":                 false,
		"10.1.2.3":           false,
		"172.16.0.1":         false,
		"192.168.0.10":       false,
		"169.254.169.254":    false, // cloud metadata
		"fd00:ec2::254":      false, // AWS metadata over IPv6
		"fe80::1":            false,
		"100.64.0.1":         false, // carrier NAT
		"::ffff:127.0.0.1":   false, // IPv4-mapped loopback
		"::ffff:169.254.1.1": false,
		"224.0.0.1":          false,
		"255.255.255.255":    false,
		"192.0.0.192":        false,
		"::127.0.0.1":        false, // IPv4-compatible
		"::a9fe:a9fe":        false,
		"::ffff:0:127.0.0.1": false, // SIIT
		"2002:7f00:1::1":     false, // 6to4 of loopback
		"2002:a9fe:a9fe::1":  false, // 6to4 of the metadata address
		"2001:0:4136::1":     false, // Teredo
		"100::1":             false,
		"fec0::1":            false,
	} {
		if got := strict.AllowsAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("strict policy AllowsAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestParseAllow(t *testing.T) {
	p, err := Parse(" 10.0.0.0/8, n8n.internal:5678,192.168.1.7,proxy.lan ")
	if err != nil {
		t.Fatal(err)
	}
	if !p.AllowsAddr(netip.MustParseAddr("10.20.30.40")) || !p.AllowsAddr(netip.MustParseAddr("192.168.1.7")) {
		t.Error("allowed CIDR or address refused")
	}
	if p.AllowsAddr(netip.MustParseAddr("192.168.1.8")) || p.AllowsAddr(netip.MustParseAddr("127.0.0.1")) {
		t.Error("an address outside the allowed ones passes")
	}
	if !p.AllowsHost("N8N.internal", "5678") || p.AllowsHost("n8n.internal", "80") {
		t.Error("host:port allowance is not exact on the port")
	}
	if !p.AllowsHost("proxy.lan", "8443") {
		t.Error("a host allowed without a port refused on some port")
	}
	for _, bad := range []string{"10.0.0.0/33x", "host:99999", "a b"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	var strict Policy
	for raw, want := range map[string]error{
		"https://graph.facebook.com/v21.0": nil,
		"http://127.0.0.1:5432/":           ErrBlocked,
		"http://[::1]/":                    ErrBlocked,
		"http://0.0.0.0:8080/":             ErrBlocked,
		"http://169.254.169.254/latest":    ErrBlocked,
		"http://localhost:8080/":           ErrBlocked, // resolves to loopback
		"ftp://example.com/":               ErrBadURL,
		"file:///etc/passwd":               ErrBadURL,
		"gopher://127.0.0.1:6379/":         ErrBadURL,
		"not a url":                        ErrBadURL,
	} {
		err := strict.CheckURL(ctx, raw)
		if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("CheckURL(%q) = %v, want %v", raw, err, want)
		}
	}
	rig := MustParse("127.0.0.0/8")
	if err := rig.CheckURL(ctx, "http://127.0.0.1:5432/"); err != nil {
		t.Errorf("allowed loopback refused: %v", err)
	}
	if err := rig.CheckURL(ctx, "http://169.254.169.254/"); !errors.Is(err, ErrBlocked) {
		t.Errorf("allowing loopback let the metadata address through: %v", err)
	}
}

// The client refuses at dial time, whatever the name, and after a redirect.
func TestClientDialsUnderThePolicy(t *testing.T) {
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("INTERNAL-ADMIN-PAGE db_password=hunter2"))
	}))
	defer internal.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/admin", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	_, internalPort, _ := net.SplitHostPort(strings.TrimPrefix(internal.URL, "http://"))

	get := func(p Policy, url string) (string, error) {
		resp, err := p.Client(5*time.Second).Post(url, "application/json", strings.NewReader("{}"))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b := make([]byte, 64)
		n, _ := resp.Body.Read(b)
		return string(b[:n]), nil
	}
	var strict Policy
	for _, u := range []string{internal.URL, "http://localhost:" + internalPort + "/"} {
		body, err := get(strict, u)
		if !errors.Is(err, ErrBlocked) {
			t.Errorf("strict client reached %s: body %q, err %v", u, body, err)
		}
		if err != nil && strings.Contains(err.Error(), "127.0.0.1") && strings.Contains(u, "localhost") {
			t.Errorf("the refusal names the address %s resolved to: %v", u, err)
		}
	}
	if body, err := get(MustParse("127.0.0.0/8"), internal.URL); err != nil || !strings.Contains(body, "INTERNAL") {
		t.Errorf("explicitly allowed loopback: body %q, err %v", body, err)
	}
	// The redirector is allowed by host:port; where it sends the client is not.
	redirHost := strings.TrimPrefix(redirector.URL, "http://")
	if body, err := get(MustParse(redirHost), redirector.URL); !errors.Is(err, ErrBlocked) {
		t.Errorf("a redirect to a refused address was followed: body %q, err %v", body, err)
	}
}
