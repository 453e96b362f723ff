package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/tenant"
)

func smtpCredCmd(e *env, args []string) error {
	return sub(e, "smtp-credential", args, map[string]func(*env, []string) error{
		"create": smtpCredCreate, "list": smtpCredList, "revoke": smtpCredRevoke,
	}, `
Verbs:
  create --tenant T [--scopes send] [--sandbox] [--expires 90d] [--name N]
                    make a username and password for SMTP AUTH on the submission
                    listeners (smtp.submission, smtp.submissions); the password is
                    printed once and never stored
  list --tenant T   list credentials (never their passwords)
  revoke ID         revoke a credential: its next AUTH fails in every process`)
}

func smtpCredCreate(e *env, args []string) error {
	fs := flags(e, "smtp-credential create", "smtp-credential create --tenant T [flags]",
		"Creates an SMTP credential. Applications use it with AUTH PLAIN or LOGIN over TLS (STARTTLS on 587, or implicit TLS on 465).")
	cfg, ten := tenantFlags(fs, e)
	scopes := fs.String("scopes", "send", "comma-separated scopes: "+strings.Join(tenant.AllScopes, ", ")+" (send or admin may submit)")
	sandbox := fs.Bool("sandbox", false, "sandbox credential: runs the whole pipeline but never delivers")
	expires := fs.String("expires", "", "lifetime (90d, 720h) or RFC 3339 time; default never")
	name := fs.String("name", "", "a label, such as the application that uses it")
	if err := parse(fs, args); err != nil {
		return err
	}
	exp, err := parseExpiry(*expires, time.Now())
	if err != nil {
		return err
	}
	a, t, err := openTenant(e, *cfg, *ten)
	if err != nil {
		return err
	}
	defer a.close()
	pass, c, err := a.tenants.CreateSMTPCredential(context.Background(), t.ID, tenant.SMTPCredentialOptions{Name: *name, Scopes: strings.Split(*scopes, ","), Sandbox: *sandbox, Expires: exp})
	if err != nil {
		return err
	}
	if err := a.record("smtp_credential.create", t.ID, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "SMTP credential %s created for %s. The password below is shown once:\n", c.ID, t.Name)
	fmt.Fprintf(e.stdout, "username: %s\npassword: %s\n", c.Username, pass)
	return nil
}

func smtpCredList(e *env, args []string) error {
	fs := flags(e, "smtp-credential list", "smtp-credential list --tenant T", "Lists a tenant's SMTP credentials.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	cs, err := a.tenants.SMTPCredentials(context.Background(), t.ID)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tNAME\tUSERNAME\tSCOPES\tSANDBOX\tEXPIRES\tSTATE")
	for _, c := range cs {
		exp, state := "never", "live"
		if !c.ExpiresAt.IsZero() {
			exp = c.ExpiresAt.Format(time.RFC3339)
			if time.Now().After(c.ExpiresAt) {
				state = "expired"
			}
		}
		if !c.RevokedAt.IsZero() {
			state = "revoked"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%s\t%s\n", c.ID, c.Name, c.Username, strings.Join(c.Scopes, ","), c.Sandbox, exp, state)
	}
	return w.Flush()
}

func smtpCredRevoke(e *env, args []string) error {
	fs := flags(e, "smtp-credential revoke", "smtp-credential revoke ID", "Revokes an SMTP credential at once, in every server process.")
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	a, err := openAdmin(e, *cfg)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.tenants.RevokeSMTPCredential(context.Background(), "", fs.Arg(0)); err != nil {
		return fmt.Errorf("revoke %s: %w", fs.Arg(0), err)
	}
	if err := a.record("smtp_credential.revoke", "", fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "SMTP credential %s revoked\n", fs.Arg(0))
	return nil
}
