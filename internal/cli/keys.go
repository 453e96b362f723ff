package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/dkimsign"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

func keyCmd(e *env, args []string) error {
	return sub(e, "key", args, map[string]func(*env, []string) error{
		"create": keyCreate, "list": keyList, "revoke": keyRevoke,
	}, `
Verbs:
  create --tenant T [--scopes send,read] [--sandbox] [--expires 90d] [--name N]
         [--allow-network CIDR]... [--rate-per-second N --rate-burst N]
                    make an API key; its secret is printed once and never stored
  list --tenant T   list keys (never their secrets)
  revoke ID         revoke a key at once

Scopes: `+strings.Join(tenant.AllScopes, ", ")+` (admin holds all).`)
}

func keyCreate(e *env, args []string) error {
	fs := flags(e, "key create", "key create --tenant T [flags]", "Creates an API key. Requests send it as `Authorization: Bearer <key>`.")
	cfg, ten := tenantFlags(fs, e)
	scopes := fs.String("scopes", "send,read", "comma-separated scopes: "+strings.Join(tenant.AllScopes, ", "))
	sandbox := fs.Bool("sandbox", false, "sandbox key: runs the whole pipeline but never delivers")
	expires := fs.String("expires", "", "lifetime (90d, 720h) or RFC 3339 time; default never")
	name := fs.String("name", "", "a label for the key")
	access := accessFlags(fs)
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
	secret, k, err := a.tenants.CreateKey(context.Background(), t.ID, tenant.KeyOptions{Name: *name, Scopes: strings.Split(*scopes, ","), Sandbox: *sandbox, Expires: exp, Access: access()})
	if err != nil {
		return err
	}
	if err := a.record("key.create", t.ID, k.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "key %s created for %s (scopes %s). The secret below is shown once:\n", k.ID, t.Name, strings.Join(k.Scopes, ","))
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func keyList(e *env, args []string) error {
	fs := flags(e, "key list", "key list --tenant T", "Lists a tenant's API keys.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ks, err := a.db.APIKeys(context.Background(), t.ID)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tNAME\tSCOPES\tSANDBOX\tEXPIRES\tSTATE\tNETWORKS\tLIMIT")
	for _, k := range ks {
		exp, state := "never", "live"
		if !k.ExpiresAt.IsZero() {
			exp = k.ExpiresAt.Format(time.RFC3339)
			if time.Now().After(k.ExpiresAt) {
				state = "expired"
			}
		}
		if !k.RevokedAt.IsZero() {
			state = "revoked"
		}
		nets, limit := accessColumns(k.Access)
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.Sandbox, exp, state, nets, limit)
	}
	return w.Flush()
}

func keyRevoke(e *env, args []string) error {
	fs := flags(e, "key revoke", "key revoke ID", "Revokes an API key. Running servers stop honouring it within seconds.")
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
	if err := a.tenants.RevokeKey(context.Background(), "", fs.Arg(0)); err != nil {
		return fmt.Errorf("revoke %s: %w", fs.Arg(0), err)
	}
	if err := a.record("key.revoke", "", fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "key %s revoked\n", fs.Arg(0))
	return nil
}

func dkimCmd(e *env, args []string) error {
	return sub(e, "dkim", args, map[string]func(*env, []string) error{"keygen": dkimKeygen, "show": dkimShow}, `
Verbs:
  keygen --tenant T --domain D [--selector S] [--algorithm rsa|ed25519]
         make a signing key (stored sealed), make it active, print the DNS record
  show --tenant T --domain D
         print the DNS record of the domain's active key again`)
}

// printDKIMRecord prints the TXT record as a zone file wants it: values longer than
// 255 bytes (every RSA-2048 key) split into several quoted strings.
func printDKIMRecord(e *env, k *store.DKIMKey) {
	fmt.Fprintf(e.stdout, "Publish this TXT record (selector %s, %s):\n\n  %s\n", k.Selector, k.Algorithm, strings.ReplaceAll(dkimsign.ZoneRecord(k.DNSName, k.DNSValue), "\n", "\n  "))
}

func dkimShow(e *env, args []string) error {
	fs := flags(e, "dkim show", "dkim show --tenant T --domain D", "Prints the TXT record that publishes the domain's active DKIM key.")
	cfg, ten := tenantFlags(fs, e)
	domain := fs.String("domain", "", "sender domain")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	if *domain == "" {
		return errors.New("--domain is required")
	}
	name := strings.ToLower(strings.TrimSuffix(*domain, "."))
	k, err := a.db.ActiveDKIMKey(context.Background(), t.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s has no DKIM key for %s; make one with `sealpost dkim keygen --tenant %s --domain %s`", t.Name, name, t.Name, name)
	}
	if err != nil {
		return err
	}
	printDKIMRecord(e, k)
	return nil
}

func dkimKeygen(e *env, args []string) error {
	fs := flags(e, "dkim keygen", "dkim keygen --tenant T --domain D [flags]", "Generates a DKIM key for a tenant's domain and prints the TXT record to publish. Outgoing mail from the domain is signed with it from now on.")
	cfg, ten := tenantFlags(fs, e)
	domain := fs.String("domain", "", "sender domain")
	selector := fs.String("selector", "sp"+time.Now().UTC().Format("20060102"), "DKIM selector")
	algo := fs.String("algorithm", "rsa", "rsa (2048-bit, universally verified) or ed25519 (RFC 8463)")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	k, err := a.tenants.GenerateDKIM(context.Background(), t.ID, *domain, *selector, *algo)
	if err != nil {
		return err
	}
	if err := a.record("dkim.keygen", t.ID, k.Domain+"/"+k.Selector); err != nil {
		return err
	}
	printDKIMRecord(e, k)
	return nil
}

func masterkeyCmd(e *env, args []string) error {
	return sub(e, "masterkey", args, map[string]func(*env, []string) error{"init": masterInit, "rotate": masterRotate}, `
Verbs:
  init     create the master key file (master_key_file, default <data_dir>/master.key)
  rotate   add a new master key, re-wrap every tenant key with it, retire the old one;
           messages are not rewritten. Safe to re-run if interrupted.`)
}

func masterInit(e *env, args []string) error {
	fs := flags(e, "masterkey init", "masterkey init", "Creates the master key file with mode 0600. Keep a copy offline: without it nothing stored can be read.")
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := loadConfig(e, *cfg)
	if err != nil {
		return err
	}
	if _, err := server.LoadKeyring(c); err == nil {
		return fmt.Errorf("a master key already exists (%s); use `sealpost masterkey rotate`", c.MasterKeyFile)
	}
	ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
	if err := seal.WriteKeyFile(c.MasterKeyFile, ring); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "master key written to %s (key id %s)\n", c.MasterKeyFile, ring.PrimaryID())
	return nil
}

func masterRotate(e *env, args []string) error {
	fs := flags(e, "masterkey rotate", "masterkey rotate", "Rotates the master key in the key file. Stop servers first or restart them after: they read the key file at start.")
	cfg := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := loadConfig(e, *cfg)
	if err != nil {
		return err
	}
	if c.MasterKey != "" {
		return fmt.Errorf("the master key comes from master_key/SEALPOST_MASTER_KEY; rotate it there: put old and new keys in a key file and use that")
	}
	ring, err := server.LoadKeyring(c)
	if err != nil {
		return err
	}
	// 1. Both keys in the file before any tenant key changes.
	next := ring.WithNewPrimary()
	if err := seal.WriteKeyFile(c.MasterKeyFile, next); err != nil {
		return err
	}
	db, err := server.OpenDB(context.Background(), c, logger(c, e.stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	// 2. Re-wrap every tenant key in one transaction.
	n, err := tenant.Rewrap(context.Background(), db, next)
	if err != nil {
		return fmt.Errorf("re-wrap (the key file keeps both keys; re-run to finish): %w", err)
	}
	if err := audit.New(db, nil).Record(context.Background(), audit.Entry{Principal: "cli", Action: "masterkey.rotate", Object: next.PrimaryID(), Result: "ok"}); err != nil {
		return err
	}
	// 3. Only now drop the old keys.
	if err := seal.WriteKeyFile(c.MasterKeyFile, next.OnlyPrimary()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "master key rotated to %s; %d tenant keys re-wrapped\n", next.PrimaryID(), n)
	return nil
}
