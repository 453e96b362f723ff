package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sealpost/sealpost/internal/mailcheck/domaincheck"
	"github.com/sealpost/sealpost/internal/mailcheck/received"
	"github.com/sealpost/sealpost/internal/server"
)

func headersCmd(e *env, args []string) error {
	fs := flags(e, "headers", "headers [FILE|-] [--json]", `
Reads a raw message (or only its headers) from FILE or standard input and tells, hop by
hop, whether it travelled encrypted: the Received lines in order, each with its sending
and receiving host, time, protocol and recorded TLS, and a verdict in one sentence.`)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	if fs.NArg() > 0 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	rep, err := received.Analyze(in)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if err := rep.WriteTable(e.stdout); err != nil {
		return err
	}
	return nil
}

func checkDomainCmd(e *env, args []string) error {
	fs := flags(e, "check-domain", "check-domain DOMAIN [--tenant T] [--json]", `
Checks a sender domain: MX; SPF (syntax, at most 10 DNS lookups, whether it authorises
delivery.sending_ips); DKIM (the published keys match the tenant's); DMARC; MTA-STS
(record and policy file); TLS-RPT; STARTTLS and the certificate of each MX. Each check
passes, warns or fails with a one-line fix. Uses delivery.dns_server and delivery.port
from the configuration. Exits 1 if any check fails.`)
	cfgPath := configFlag(fs, e)
	ten := fs.String("tenant", "", "compare DKIM records with this tenant's keys")
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
	var dkim []domaincheck.DKIMExpect
	if *ten != "" {
		a, err := openAdmin(e, *cfgPath)
		if err != nil {
			return err
		}
		t, err := a.tenant(*ten)
		if err == nil {
			keys, kerr := a.db.DKIMKeys(context.Background(), t.ID)
			err = kerr
			for _, k := range keys {
				if k.Domain == fs.Arg(0) && k.Active {
					dkim = append(dkim, domaincheck.DKIMExpect{Selector: k.Selector, DNSValue: k.DNSValue})
				}
			}
		}
		a.close()
		if err != nil {
			return err
		}
	}
	dc := server.DomainCheckConfig(c, server.Resolver(c.Delivery.DNSServer), nil, dkim)
	checks := domaincheck.Run(context.Background(), fs.Arg(0), dc)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(checks); err != nil {
			return err
		}
	} else if err := domaincheck.WriteTable(e.stdout, fs.Arg(0), checks); err != nil {
		return err
	}
	for _, ch := range checks {
		if ch.Status == domaincheck.Fail {
			return fmt.Errorf("%s: some checks failed", fs.Arg(0))
		}
	}
	return nil
}
