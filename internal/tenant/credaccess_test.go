package tenant

import (
	"slices"
	"testing"

	"github.com/sealpost/sealpost/internal/store"
)

func TestCheckAccess(t *testing.T) {
	out, errs := CheckAccess(store.CredentialAccess{Networks: []string{"10.1.2.3/8", "192.0.2.7", "::ffff:198.51.100.0/120", "2001:db8::1/32", "10.0.0.0/8"}})
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if want := []string{"10.0.0.0/8", "192.0.2.7/32", "198.51.100.0/24", "2001:db8::/32"}; !slices.Equal(out.Networks, want) {
		t.Fatalf("canonical networks %v, want %v", out.Networks, want)
	}
	_, errs = CheckAccess(store.CredentialAccess{Networks: []string{"10.0.0.0/8", "nope", "10.0.0.0/33", "::ffff:1.2.3.4/8"}, RatePerSecond: -1})
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if want := []string{"allowed_networks[1]", "allowed_networks[2]", "allowed_networks[3]", "rate_limit.per_second", "rate_limit.burst"}; !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
}

func TestAccessAllowsAddr(t *testing.T) {
	open := AccessOf(store.CredentialAccess{})
	if !open.AllowsAddr("203.0.113.9") || open.Restricted() {
		t.Fatal("a credential without networks is usable anywhere")
	}
	a := AccessOf(store.CredentialAccess{Networks: []string{"10.0.0.0/8", "2001:db8::/32"}})
	for addr, want := range map[string]bool{
		"10.9.8.7": true, "::ffff:10.9.8.7": true, "2001:db8:1::5": true,
		"11.0.0.1": false, "2001:db9::1": false, "": false, "garbage": false,
	} {
		if got := a.AllowsAddr(addr); got != want {
			t.Errorf("%q: %v, want %v", addr, got, want)
		}
	}
	// A damaged stored list refuses rather than opens.
	if AccessOf(store.CredentialAccess{Networks: []string{"damaged"}}).AllowsAddr("10.0.0.1") {
		t.Fatal("a list of nothing valid admitted a request")
	}
}
