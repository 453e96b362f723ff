package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

func userCmd(e *env, args []string) error {
	var roles []string
	for _, r := range people.Roles {
		roles = append(roles, fmt.Sprintf("  %-11s %s (scopes: %s)", r.Name, r.About, strings.Join(r.Scopes, ", ")))
	}
	return sub(e, "user", args, map[string]func(*env, []string) error{
		"invite": userInvite, "list": userList, "disable": userDisable, "reset-mfa": userResetMFA,
		"sso": userSSO,
	}, `
People sign in to the dashboard at /app with a password and a second factor: a
code from an authenticator app (TOTP) or a passkey they added on their Passkeys
page. Both are always required.

Verbs:
  invite --tenant T --email ADDR --role R [--name N] [--from ADDR]
                    make a person and an invitation: emailed through the tenant's own
                    pipeline from --from (a verified domain), else the link is printed
  invite --operator --email ADDR [--name N]
                    make an instance operator (above tenants; the link is printed)
  list --tenant T   list people, their roles and second factors (--tenant _instance:
                    the operators)
  disable --tenant T ID
                    stop a person signing in and end their sessions at once
  reset-mfa --tenant T ID
                    clear a person's authenticator, passkeys and recovery codes and end
                    their sessions; they set up a new one at their next sign-in
  sso set|show|remove --tenant T …
                    single sign-on through the tenant's OpenID Connect provider

Roles:
`+strings.Join(roles, "\n"))
}

func userInvite(e *env, args []string) error {
	fs := flags(e, "user invite", "user invite --tenant T --email ADDR --role R [flags]",
		"Invites a person. The invitation link works once, for 7 days.")
	cfg, ten := tenantFlags(fs, e)
	email := fs.String("email", "", "the person's email address")
	role := fs.String("role", "", "one of "+strings.Join(people.RoleNames(), ", "))
	name := fs.String("name", "", "the person's name")
	from := fs.String("from", "", "send the invitation from this address (its domain must be verified); without it the link is printed")
	operator := fs.Bool("operator", false, "invite an instance operator (above tenants: no --tenant, --role or --from; the link is printed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *operator {
		if *ten != "" || *role != "" || *from != "" {
			return fmt.Errorf("--operator takes no --tenant, --role or --from: an operator belongs to no tenant")
		}
		if *email == "" {
			fs.Usage()
			return errUsage
		}
		return inviteOperator(e, *cfg, *email, *name)
	}
	if *email == "" || *role == "" {
		fs.Usage()
		return errUsage
	}
	c, err := loadConfig(e, *cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// The whole server is built (not run) so the invitation goes through the same
	// pipeline as every message; a running `sealpost serve` delivers it.
	srv, err := server.New(ctx, c, server.Options{Logger: logger(c, e.stderr)})
	if err != nil {
		return err
	}
	defer srv.DB.Close()
	t, err := srv.DB.Tenant(ctx, *ten)
	if errors.Is(err, store.ErrNotFound) || *ten == "" {
		return fmt.Errorf("no tenant %q (see `sealpost tenant list`)", *ten)
	}
	if err != nil {
		return err
	}
	link, u, err := srv.People.Invite(ctx, people.Actor{Principal: "cli"}, t.ID, *email, *name, *role, *from)
	if err != nil {
		return err
	}
	if link == "" {
		fmt.Fprintf(e.stdout, "%s invited as %s; the invitation was emailed from %s.\n", u.ID, u.Role, *from)
		return nil
	}
	fmt.Fprintf(e.stderr, "%s invited as %s. Give them this link (it works once, for 7 days):\n", u.ID, u.Role)
	fmt.Fprintln(e.stdout, link)
	return nil
}

// inviteOperator makes an instance operator and prints the invitation link.
func inviteOperator(e *env, cfgPath, email, name string) error {
	c, err := loadConfig(e, cfgPath)
	if err != nil {
		return err
	}
	ctx := context.Background()
	srv, err := server.New(ctx, c, server.Options{Logger: logger(c, e.stderr)})
	if err != nil {
		return err
	}
	defer srv.DB.Close()
	link, err := srv.People.InviteOperator(ctx, people.Actor{Principal: "cli"}, email, name)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, "Operator invited. Give them this link (it works once, for 7 days):")
	fmt.Fprintln(e.stdout, link)
	return nil
}

func userList(e *env, args []string) error {
	fs := flags(e, "user list", "user list --tenant T", "Lists a tenant's people.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	us, err := a.db.Users(context.Background(), t.ID)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tEMAIL\tROLE\tSECOND FACTOR\tLAST SIGN-IN\tSTATE")
	for _, u := range us {
		mfa, last, state := "not set up", "never", "active"
		if u.MFAEnabled {
			mfa = "totp"
			if ks, err := a.db.Passkeys(context.Background(), u.ID); err == nil && len(ks) > 0 {
				mfa += fmt.Sprintf(" + %d passkey(s)", len(ks))
			}
		}
		if !u.LastSignIn.IsZero() {
			last = u.LastSignIn.Format(time.RFC3339)
		}
		if u.PasswordHash == nil {
			state = "invited"
		}
		if time.Now().Before(u.LockedUntil) {
			state = "locked"
		}
		if !u.DisabledAt.IsZero() {
			state = "disabled"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, mfa, last, state)
	}
	return w.Flush()
}

func userChange(e *env, args []string, verb string, c store.UserChange, done string) error {
	fs := flags(e, "user "+verb, "user "+verb+" --tenant T ID", "")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ps := people.New(a.db, a.tenants, people.Config{}, nil)
	if err := ps.Change(context.Background(), people.Actor{Principal: "cli"}, t.ID, fs.Arg(0), c); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no person %s in %s (see `sealpost user list`)", fs.Arg(0), t.Name)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", fs.Arg(0), done)
	return nil
}

func userDisable(e *env, args []string) error {
	return userChange(e, args, "disable", store.UserChange{Disable: true}, "disabled; their sessions have ended")
}

func userResetMFA(e *env, args []string) error {
	return userChange(e, args, "reset-mfa", store.UserChange{ResetMFA: true}, "second factor cleared; they set up a new one at their next sign-in")
}
