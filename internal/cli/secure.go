package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/strictjson"
	"github.com/sealpost/sealpost/internal/tlssec"
)

func checkTLSCmd(e *env, args []string) error {
	fs := flags(e, "check-tls", "check-tls DOMAIN [--json]", `
Probes what a recipient domain's mail servers can receive, as SecureLine does before
choosing a method: for each MX, whether it offers STARTTLS, the best TLS version, whether
the certificate verifies for the MX name, and DANE (with secure.dnssec_resolver set);
and the domain's MTA-STS mode. "verified TLS: yes" means the "tls" method can be used.
Uses delivery.dns_server and delivery.port from the configuration.`)
	cfgPath := configFlag(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	c, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	parts := server.TLSSecurity(c, server.Resolver(c.Delivery.DNSServer), nil, tlssec.NewMemoryCache(nil), nil, logger(c, e.stderr))
	capa, err := parts.Prober.Probe(context.Background(), fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(capa)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "MX\tSTARTTLS\tTLS\tCERTIFICATE\tDANE\n")
	for _, h := range capa.MX {
		cert := "verified"
		if !h.CertVerified {
			cert = "not verified"
			if h.CertError != "" {
				cert += ": " + h.CertError
			}
		}
		if !h.STARTTLS {
			cert = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Host, yesNo(h.STARTTLS), dash(h.Version), cert, dash(h.DANE))
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "MTA-STS: %s\nverified TLS: %s\n", dash(capa.MTASTS), yesNo(capa.VerifiedTLS))
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func recipientKeyCmd(e *env, args []string) error {
	return sub(e, "recipient-key", args, map[string]func(*env, []string) error{
		"add": recipientKeyAdd, "list": recipientKeyList, "remove": recipientKeyRemove,
	}, `
Verbs:
  add --tenant T --type pgp|smime --email ADDR FILE
                    register a recipient's OpenPGP public key (armored) or S/MIME
                    certificate (PEM); expired, revoked or weak keys are refused
  list --tenant T [--email ADDR]
                    list keys with whether each is usable now and why not
  remove --tenant T ID
                    remove a key`)
}

func (a *admin) secure() *secureline.Service {
	return secureline.New(a.db, a.tenants, secureline.Config{}, logger(a.cfg, os.Stderr))
}

func recipientKeyAdd(e *env, args []string) error {
	fs := flags(e, "recipient-key add", "recipient-key add --tenant T --type pgp|smime --email ADDR FILE", "Registers a recipient's public key so mail to them can be encrypted.")
	cfg, ten := tenantFlags(fs, e)
	kind := fs.String("type", "", `"pgp" or "smime"`)
	email := fs.String("email", "", "the recipient's address")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *email == "" || *kind == "" {
		fs.Usage()
		return errUsage
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	a, t, err := openTenant(e, *cfg, *ten)
	if err != nil {
		return err
	}
	defer a.close()
	info, err := a.secure().AddKey(context.Background(), t.ID, *kind, *email, data, "api")
	if err != nil {
		return err
	}
	if err := a.record("recipient-key.add", t.ID, info.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", info.ID, info.Kind, info.Fingerprint)
	return nil
}

func recipientKeyList(e *env, args []string) error {
	fs := flags(e, "recipient-key list", "recipient-key list --tenant T [--email ADDR]", "Lists a tenant's recipient keys.")
	cfg, ten := tenantFlags(fs, e)
	email := fs.String("email", "", "only this recipient's keys")
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	// Every key, a page at a time.
	var keys []*secureline.KeyInfo
	for after := ""; ; {
		page, err := a.secure().Keys(context.Background(), t.ID, *email, after, 500)
		if err != nil {
			return err
		}
		keys = append(keys, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tEMAIL\tFINGERPRINT\tUSABLE")
	for _, k := range keys {
		usable := "yes"
		if !k.Usable {
			usable = "no: " + k.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Kind, k.Email, k.Fingerprint, usable)
	}
	return tw.Flush()
}

func recipientKeyRemove(e *env, args []string) error {
	fs := flags(e, "recipient-key remove", "recipient-key remove --tenant T ID", "Removes a recipient key.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.secure().DeleteKey(context.Background(), t.ID, fs.Arg(0)); err != nil {
		return err
	}
	return a.record("recipient-key.remove", t.ID, fs.Arg(0))
}

func policyCmd(e *env, args []string) error {
	return sub(e, "policy", args, map[string]func(*env, []string) error{
		"show": policyShow, "set": policySet,
	}, `
Verbs:
  show --tenant T       print the tenant's security policy as JSON (the default if none)
  set --tenant T FILE   validate and store a policy from a JSON file (- for stdin)

A policy is an ordered list of rules; the first whose conditions all hold decides each
recipient's method preference (or blocks, or quarantines). Without rules, content with
PHI findings leaves only by verified TLS, PGP, S/MIME or the portal.

"tracking": {"opens": true, "clicks": true} is the default for messages that do not
say "track"; "with_phi": "allowed" lets tracking follow a message in which DLP found
PHI (default "never"). POST /v1/policy/preview shows, per recipient, what is tracked.
See the README.`)
}

func policyShow(e *env, args []string) error {
	fs := flags(e, "policy show", "policy show --tenant T", "Prints a tenant's security policy.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	doc, v, err := a.secure().Policy(context.Background(), t.ID)
	if err != nil {
		return err
	}
	if doc.Rules == nil {
		doc.Rules = []policy.Rule{}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"version": v, "policy": doc})
}

func policySet(e *env, args []string) error {
	fs := flags(e, "policy set", "policy set --tenant T FILE", "Validates and stores a tenant's security policy (JSON).")
	cfg, ten := tenantFlags(fs, e)
	data, err := parseFileArg(fs, args)
	if err != nil {
		return err
	}
	// The same strict decoding as PUT /v1/policy: a misspelt key must not become an
	// empty condition that matches every message.
	var doc policy.Document
	if err := strictjson.Decode(data, &doc); err != nil {
		return fmt.Errorf("policy file %s: %w", fs.Arg(0), err)
	}
	a, t, err := openTenant(e, *cfg, *ten)
	if err != nil {
		return err
	}
	defer a.close()
	v, err := a.secure().SetPolicy(context.Background(), t.ID, &doc, nil)
	var inv policy.Invalid
	if errors.As(err, &inv) {
		return fmt.Errorf("invalid policy: %s", inv.Error())
	}
	if err != nil {
		return err
	}
	if err := a.record("policy.set", t.ID, fmt.Sprint(v)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "policy version %d stored for %s\n", v, t.Name)
	return nil
}
