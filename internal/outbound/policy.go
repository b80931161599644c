// Package outbound decides where Atende may connect for a URL a tenant
// controls: a channel's base_url or SMTP host, a webhook subscription, an
// HTTP tool. Without it a tenant points one of those at 127.0.0.1, the
// database port or the cloud's metadata address and reads the answer back
// (issue 10). The decision is made at dial time, on the address actually
// being connected to, so a hostname that resolves differently later (DNS
// rebinding) or a redirect cannot get around a check made earlier.
package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ErrBlocked is the error of a URL or address the policy refuses; the API
// answers it with 422 and the timeline says "blocked by the outbound policy".
var ErrBlocked = errors.New("blocked by the outbound policy")

// Policy is the set of addresses Atende refuses to reach on a tenant's
// behalf, less what the operator allowed. The zero Policy is the strict one:
// only public unicast addresses, over http or https.
type Policy struct {
	prefixes []netip.Prefix
	hosts    map[string]bool // "host" or "host:port", lower-case
}

// Parse reads ATENDE_OUTBOUND_ALLOW: comma-separated CIDRs, addresses and
// host[:port] names an operator reaches on their own network (an n8n,
// a platform proxy), e.g. "10.0.0.0/8,n8n.internal:5678"; "127.0.0.0/8" for a
// test rig whose fake platforms listen on loopback. Empty is the strict policy.
func Parse(allow string) (Policy, error) {
	var p Policy
	for _, item := range strings.Split(allow, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(item); err == nil {
			p.prefixes = append(p.prefixes, pre.Masked())
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(item, "[]")); err == nil {
			p.prefixes = append(p.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		host, port := item, ""
		if h, pt, err := net.SplitHostPort(item); err == nil {
			host, port = h, pt
			if n, err := strconv.Atoi(pt); err != nil || n < 1 || n > 65535 {
				return Policy{}, fmt.Errorf("ATENDE_OUTBOUND_ALLOW: %q: the port must be 1 to 65535", item)
			}
		}
		if host == "" || strings.ContainsAny(host, "/ ") {
			return Policy{}, fmt.Errorf("ATENDE_OUTBOUND_ALLOW: %q is not a CIDR, an address or host[:port]", item)
		}
		if p.hosts == nil {
			p.hosts = map[string]bool{}
		}
		key := strings.ToLower(host)
		if port != "" {
			key = net.JoinHostPort(key, port)
		}
		p.hosts[key] = true
	}
	return p, nil
}

// MustParse is Parse for tests and constants: it panics on a bad list.
func MustParse(allow string) Policy {
	p, err := Parse(allow)
	if err != nil {
		panic(err)
	}
	return p
}

// AllowsHost says whether the operator allowed this host (or host:port) by
// name: such a host is dialed whatever it resolves to.
func (p Policy) AllowsHost(host, port string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return p.hosts[host] || p.hosts[net.JoinHostPort(host, port)]
}

// AllowsAddr says whether Atende may connect to a; allowed CIDRs come first,
// then only public unicast addresses pass.
func (p Policy) AllowsAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p.prefixes {
		if pre.Contains(a) {
			return true
		}
	}
	return public(a)
}

// nonPublic are the ranges netip's predicates do not name but a server must
// not reach for a tenant: shared address space (carrier NAT, 100.64/10),
// "this network" (0/8), IETF protocol assignments (192.0.0/24, where some
// clouds put metadata), benchmarking (198.18/15), the documentation nets,
// 240/4 and broadcast, NAT64 and the IPv6 documentation prefix.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
	// IPv6 forms that carry an IPv4 address or lead somewhere local
	// (found in review): IPv4-compatible and SIIT, 6to4, Teredo, discard,
	// the deprecated site-local range, ORCHID.
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("::ffff:0:0:0/96"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("fec0::/10"),
	netip.MustParsePrefix("2001:10::/28"),
	netip.MustParsePrefix("2001:20::/28"),
}

// public is a global unicast address outside the private, loopback,
// link-local (169.254.169.254, the metadata address, among them),
// unique-local and special ranges.
func public(a netip.Addr) bool {
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	for _, pre := range nonPublic {
		if pre.Contains(a) {
			return false
		}
	}
	return true
}

// TestRig allows loopback as well (127.0.0.0/8 and ::1): for tests and load
// rigs whose fake platforms, tools and subscribers listen on this machine.
// A server runs it only when told, with ATENDE_OUTBOUND_ALLOW=127.0.0.0/8.
func TestRig() Policy { return MustParse("127.0.0.0/8,::1/128") }
