package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// userSSO sets, shows or removes a tenant's OpenID Connect provider.
func userSSO(e *env, args []string) error {
	return sub(e, "user sso", args, map[string]func(*env, []string) error{
		"set": userSSOSet, "show": userSSOShow, "remove": userSSORemove,
	}, `
Single sign-on through the tenant's OpenID Connect provider (Google Workspace,
Microsoft Entra ID). Only people already invited to the tenant can sign on; our
own second factor is still asked for unless --trust-amr is given and the
provider's ID token says it checked one (amr mfa, otp or hwk).

Verbs:
  set --tenant T --issuer URL --client-id ID --client-secret-file FILE --domain D [--trust-amr]
                    the client secret may instead come from $SEALPOST_OIDC_CLIENT_SECRET;
                    it is stored sealed under the tenant key
  show --tenant T   the provider and the redirect URL to register with it
  remove --tenant T turn single sign-on off`)
}

func ssoBase(a *admin) string {
	if a.cfg.Dashboard.URL != "" {
		return strings.TrimRight(a.cfg.Dashboard.URL, "/")
	}
	return server.PortalURL(a.cfg)
}

func userSSOSet(e *env, args []string) error {
	fs := flags(e, "user sso set", "user sso set --tenant T --issuer URL --client-id ID --client-secret-file FILE --domain D [--trust-amr]",
		"Sets the tenant's OpenID Connect provider.")
	cfg, ten := tenantFlags(fs, e)
	issuer := fs.String("issuer", "", "issuer URL: https://accounts.google.com, or https://login.microsoftonline.com/<tenant id>/v2.0")
	clientID := fs.String("client-id", "", "the client (application) id the provider issued")
	secretFile := fs.String("client-secret-file", "", "file holding the client secret (else $SEALPOST_OIDC_CLIENT_SECRET)")
	domain := fs.String("domain", "", "email domain whose people sign in this way")
	trust := fs.Bool("trust-amr", false, "let the provider's MFA (amr mfa, otp or hwk) stand in for ours")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	secret := os.Getenv("SEALPOST_OIDC_CLIENT_SECRET")
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return err
		}
		secret = strings.TrimSpace(string(b))
	}
	ps := people.New(a.db, a.tenants, people.Config{BaseURL: ssoBase(a)}, nil)
	err = ps.SetOIDC(context.Background(), people.Actor{Principal: "cli"}, t.ID, people.OIDCSettings{Issuer: *issuer, ClientID: *clientID, ClientSecret: secret, EmailDomain: *domain, TrustAMR: *trust})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Single sign-on is on for @%s in %s. Register this redirect URL with the provider:\n%s\n", strings.ToLower(*domain), t.Name, ps.RedirectURL())
	return nil
}

func userSSOShow(e *env, args []string) error {
	fs := flags(e, "user sso show", "user sso show --tenant T", "Shows the tenant's OpenID Connect provider.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	p, err := a.db.OIDCProviderFor(context.Background(), t.ID)
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintf(e.stdout, "Single sign-on is off for %s.\n", t.Name)
		return nil
	}
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintf(w, "issuer\t%s\nclient id\t%s\nemail domain\t%s\ntrust provider MFA\t%v\nredirect URL\t%s\n", p.Issuer, p.ClientID, p.EmailDomain, p.TrustAMR, ssoBase(a)+"/app/sso/callback")
	return w.Flush()
}

func userSSORemove(e *env, args []string) error {
	fs := flags(e, "user sso remove", "user sso remove --tenant T", "Turns the tenant's single sign-on off.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ps := people.New(a.db, a.tenants, people.Config{}, nil)
	if err := ps.RemoveOIDC(context.Background(), people.Actor{Principal: "cli"}, t.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("single sign-on is already off for %s", t.Name)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "Single sign-on is off for %s.\n", t.Name)
	return nil
}
