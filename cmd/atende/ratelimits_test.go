package main

import (
	"net/netip"
	"slices"
	"testing"
)

func TestRateLimitsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	l, err := rateLimitsFromEnv(env(nil))
	if err != nil || l.Disabled || len(l.TrustedProxies) != 0 || l.WebchatSessionsPerAddress.Burst != 60 {
		t.Fatalf("defaults: %+v %v", l, err)
	}
	l, err = rateLimitsFromEnv(env(map[string]string{"ATENDE_RATE_DISABLED": "true",
		"ATENDE_RATE_TRUSTED_PROXIES": " 10.0.0.7/8, 192.168.1.10 ,::ffff:172.16.0.1, 2001:db8::/32,"}))
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.10/32"),
		netip.MustParsePrefix("172.16.0.1/32"), netip.MustParsePrefix("2001:db8::/32")}
	if err != nil || !l.Disabled || !slices.Equal(l.TrustedProxies, want) {
		t.Fatalf("set: %+v %v", l, err)
	}
	for _, bad := range []map[string]string{{"ATENDE_RATE_DISABLED": "sim"}, {"ATENDE_RATE_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}} {
		if _, err := rateLimitsFromEnv(env(bad)); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}
