package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrBadURL is a tenant URL that is not http(s)://host/...; the API answers 422.
var ErrBadURL = errors.New("not an http(s) URL")

// DialContext connects to addr ("host:port") if the policy allows the
// address the name resolved to. The check runs in the dialer's Control hook,
// on each address really connected to, so what a name resolves to at
// registration or a moment ago does not matter. A host the operator allowed
// by name is dialed as it is.
func (p Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", addr, err)
	}
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !p.AllowsHost(host, port) {
		d.Control = p.control
	}
	c, err := d.DialContext(ctx, network, addr)
	if errors.Is(err, ErrBlocked) {
		// net's error names the address the name resolved to.
		return nil, fmt.Errorf("%w: %s does not resolve to a public address", ErrBlocked, host)
	}
	return c, err
}

// control refuses a connection to an address the policy does not allow. The
// error names no address: what an internal name resolves to is not the
// tenant's to learn, and every refusal reads the same (no port scanner).
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !p.AllowsAddr(ap.Addr()) {
		return fmt.Errorf("%w: not a public address", ErrBlocked)
	}
	return nil
}

// maxRedirects is how many redirects a tenant URL may take; each is dialed
// under the policy like the first request.
const maxRedirects = 5

// Client is an HTTP client that reaches tenant URLs under the policy: its
// own transport (no proxy from the environment, whose address would be the
// one checked), redirects only to http(s) and at most maxRedirects.
func (p Policy) Client(timeout time.Duration) *http.Client {
	transport := &http.Transport{
		DialContext:           p.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: transport, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrBlocked, maxRedirects)
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: a redirect to %s", ErrBlocked, req.URL.Scheme)
		}
		return nil
	}}
}

// CheckURL is the check at registration, so a tenant hears at once (422)
// that a URL will never be reached: http(s) only, and a host that is not,
// and does not resolve to, a refused address. A name that does not resolve
// now passes; the dial decides when it does.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("%w: %q", ErrBadURL, raw)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return p.CheckHost(ctx, u.Hostname(), port)
}

// CheckHost is CheckURL for a bare host and port (an SMTP server).
func (p Policy) CheckHost(ctx context.Context, host, port string) error {
	if p.AllowsHost(host, port) {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !p.AllowsAddr(a) {
			return fmt.Errorf("%w: %s is not a public address", ErrBlocked, host)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if !p.AllowsAddr(a) {
			return fmt.Errorf("%w: %s resolves to an address that is not public", ErrBlocked, host)
		}
	}
	return nil
}
