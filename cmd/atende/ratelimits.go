package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/atende/atende/api"
)

// rateLimitsFromEnv are the API's rate limits (api.DefaultRateLimits) with
// the two settings an operator needs: ATENDE_RATE_TRUSTED_PROXIES, the
// proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the
// client, without which every client behind a load balancer shares its
// address and its limits; and ATENDE_RATE_DISABLED, for load runs from one
// address far beyond what a person does.
func rateLimitsFromEnv(lookup func(string) (string, bool)) (api.RateLimits, error) {
	l := api.DefaultRateLimits()
	if v, ok := lookup("ATENDE_RATE_DISABLED"); ok && v != "" {
		off, err := strconv.ParseBool(v)
		if err != nil {
			return l, fmt.Errorf("ATENDE_RATE_DISABLED: want true or false, got %q", v)
		}
		l.Disabled = off
	}
	if v, ok := lookup("ATENDE_RATE_TRUSTED_PROXIES"); ok {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return l, fmt.Errorf("ATENDE_RATE_TRUSTED_PROXIES: %q is neither an IP nor a CIDR", s)
				}
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			l.TrustedProxies = append(l.TrustedProxies, p.Masked())
		}
	}
	return l, nil
}
