package cli

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/sealpost/sealpost/internal/tenant"
)

func smtpRelayCmd(e *env, args []string) error {
	return sub(e, "smtp-relay", args, map[string]func(*env, []string) error{
		"add": smtpRelayAdd, "list": smtpRelayList, "remove": smtpRelayRemove,
	}, `
The relay listener (smtp.relay) takes mail from a tenant's own servers — Google
Workspace's outbound gateway, Microsoft 365's outbound connector, a Postfix relayhost —
without AUTH. Their addresses and certificates are shared by every customer, so each
message must carry a proof only this tenant can give, registered here per domain:

Verbs:
  add --tenant T --domain D --dkim-selector S
                    accept mail from D signed (DKIM, d=D) with selector S, e.g. google
                    (Workspace) or selector1 / selector2 (Microsoft 365)
  add --tenant T --domain D --cert FILE
                    accept mail from D over a TLS session with this client certificate
  list --tenant T   list the proofs
  remove --tenant T ID
                    remove a proof`)
}

func smtpRelayAdd(e *env, args []string) error {
	fs := flags(e, "smtp-relay add", "smtp-relay add --tenant T --domain D (--dkim-selector S | --cert FILE)", "Registers a relay proof for one of the tenant's verified domains.")
	cfg, ten := tenantFlags(fs, e)
	domain := fs.String("domain", "", "a verified sender domain of the tenant")
	selector := fs.String("dkim-selector", "", "DKIM selector the tenant's mail servers sign with")
	certFile := fs.String("cert", "", "PEM client certificate the tenant's mail servers present")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *domain == "" || (*selector == "") == (*certFile == "") {
		fs.Usage()
		return errUsage
	}
	kind, value := tenant.RelayDKIM, *selector
	if *certFile != "" {
		pin, err := certPin(*certFile)
		if err != nil {
			return err
		}
		kind, value = tenant.RelayCert, pin
	}
	a, t, err := openTenant(e, *cfg, *ten)
	if err != nil {
		return err
	}
	defer a.close()
	p, err := a.tenants.AddRelayProof(context.Background(), t.ID, *domain, kind, value)
	if err != nil {
		return err
	}
	if err := a.record("smtp_relay.add", t.ID, p.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "relay proof %s: %s may relay with %s %s\n", p.ID, p.Domain, p.Kind, p.Value)
	return nil
}

// certPin is the hex SHA-256 of the first certificate in a PEM file.
func certPin(path string) (string, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- a path the operator names on the command line
	if err != nil {
		return "", err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return "", errors.New("--cert: no PEM certificate in the file")
	}
	if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
		return "", fmt.Errorf("--cert: %w", err)
	}
	sum := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(sum[:]), nil
}

func smtpRelayList(e *env, args []string) error {
	fs := flags(e, "smtp-relay list", "smtp-relay list --tenant T", "Lists a tenant's relay proofs.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	ps, err := a.tenants.RelayProofs(context.Background(), t.ID)
	if err != nil {
		return err
	}
	w := table(e)
	fmt.Fprintln(w, "ID\tDOMAIN\tKIND\tVALUE")
	for _, p := range ps {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.ID, p.Domain, p.Kind, p.Value)
	}
	return w.Flush()
}

func smtpRelayRemove(e *env, args []string) error {
	fs := flags(e, "smtp-relay remove", "smtp-relay remove --tenant T ID", "Removes a relay proof.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.tenants.DeleteRelayProof(context.Background(), t.ID, fs.Arg(0)); err != nil {
		return fmt.Errorf("remove %s: %w", fs.Arg(0), err)
	}
	if err := a.record("smtp_relay.remove", t.ID, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "relay proof %s removed\n", fs.Arg(0))
	return nil
}
