package domaincheck

import (
	"context"
	"fmt"
	"strings"
)

// checkSPF validates the domain's SPF record, counts the DNS lookups it
// costs receivers and evaluates it for each of our sending addresses.
func checkSPF(ctx context.Context, domain string, cfg Config) Check {
	var f findings
	txt, err := lookupTXT(ctx, cfg.Resolver, domain)
	if err != nil {
		f.add(Fail, fmt.Sprintf("TXT lookup for %s failed: %v", domain, err), "make sure the domain's name servers answer TXT queries")
		return f.result("spf", "")
	}
	recs := spfRecords(txt)
	switch len(recs) {
	case 0:
		terms := []string{"mx"}
		if len(cfg.SendingIPs) > 0 {
			terms = terms[:0]
			for _, ip := range cfg.SendingIPs {
				terms = append(terms, ipTerm(ip))
			}
		}
		f.add(Fail, "no SPF record", fmt.Sprintf("publish this TXT record at %s: %q", domain, "v=spf1 "+strings.Join(terms, " ")+" -all"))
		return f.result("spf", "")
	case 1:
		f.note("record: %s", recs[0])
	default:
		f.add(Fail, fmt.Sprintf("%d SPF records; receivers treat more than one as a permanent error (RFC 7208 4.5)", len(recs)),
			fmt.Sprintf("merge the TXT records starting with v=spf1 at %s into one", domain))
		return f.result("spf", "")
	}
	w := &spfWalker{ctx: ctx, r: cfg.Resolver, env: macroEnv{sender: "postmaster@" + domain, helo: cfg.HeloName}}
	root := w.load(domain, nil)
	if root == nil {
		f.add(Fail, w.problems[0], "correct the SPF record at "+domain)
		return f.result("spf", "")
	}
	if w.lookups > spfLookupLimit {
		f.add(Fail, fmt.Sprintf("SPF needs %d DNS lookups; the limit is %d (RFC 7208 4.6.4)", w.lookups, spfLookupLimit),
			fmt.Sprintf("cut the SPF record at %s to %d lookups or fewer: replace include: terms with the ip4:/ip6: ranges they publish", domain, spfLookupLimit))
	}
	for _, p := range w.problems {
		f.add(Fail, p, "correct the SPF records so every include and redirect target has exactly one valid record")
	}
	if w.voids > spfVoidLimit {
		f.add(Warn, fmt.Sprintf("SPF causes %d void DNS lookups; receivers give up after %d (RFC 7208 4.6.4)", w.voids, spfVoidLimit),
			"remove SPF terms that name domains without records")
	}
	for _, msg := range w.warnings {
		f.add(Warn, msg, "replace ptr with ip4:/ip6: or a terms")
	}
	var missing []string
	for _, ip := range cfg.SendingIPs {
		res := w.eval(root, ip)
		f.note("sending address %s: %s", ip, res)
		if res != "pass" {
			missing = append(missing, ipTerm(ip))
			f.add(Fail, fmt.Sprintf("sending address %s is not authorised (SPF result %s)", ip, res), "")
		}
	}
	if len(missing) > 0 {
		// One fix for all addresses, replacing the placeholder above.
		fix := fmt.Sprintf("add %q to the SPF record at %s, before the all term", strings.Join(missing, " "), domain)
		if f.fix == "" {
			f.fix = fix
		}
	}
	var all *spfTerm
	for i := range root.rec.terms {
		if root.rec.terms[i].name == "all" {
			all = &root.rec.terms[i]
			break
		}
	}
	switch {
	case all == nil && root.rec.redirect == "":
		f.add(Warn, "the record has no all term, so other hosts get a neutral result", fmt.Sprintf(`end the SPF record at %s with "-all"`, domain))
	case all != nil && all.qual == '+':
		f.add(Fail, fmt.Sprintf("%q authorises every host on the internet", all.source), fmt.Sprintf(`replace %q with "-all" in the SPF record at %s`, all.source, domain))
	case all != nil && all.qual == '?':
		f.add(Warn, `"?all" gives other hosts a neutral result`, fmt.Sprintf(`replace "?all" with "-all" (or "~all") in the SPF record at %s`, domain))
	}
	f.note("%d DNS lookups (limit %d), %d void", w.lookups, spfLookupLimit, w.voids)
	return f.result("spf", fmt.Sprintf("one valid record, %d DNS lookups, %d sending address(es) authorised", w.lookups, len(cfg.SendingIPs)))
}

// checkDKIM confirms that each of our selectors publishes our key.
func checkDKIM(ctx context.Context, domain string, cfg Config) Check {
	var f findings
	if len(cfg.DKIM) == 0 {
		f.add(Warn, "no DKIM selectors configured for this domain", "configure a DKIM key for "+domain+" and publish its TXT record")
	}
	for _, want := range cfg.DKIM {
		name := want.Selector + "._domainkey." + domain
		txt, err := lookupTXT(ctx, cfg.Resolver, name)
		switch {
		case err != nil:
			f.add(Fail, fmt.Sprintf("TXT lookup for %s failed: %v", name, err), "make sure the domain's name servers answer TXT queries")
			continue
		case len(txt) == 0:
			f.add(Fail, fmt.Sprintf("no DKIM key at %s", name), fmt.Sprintf("publish this TXT record at %s: %q", name, want.DNSValue))
			continue
		case len(txt) > 1:
			f.add(Fail, fmt.Sprintf("%d TXT records at %s; verifiers may pick any of them", len(txt), name),
				fmt.Sprintf("keep only this TXT record at %s: %q", name, want.DNSValue))
			continue
		}
		got, _ := tagValue(txt[0], "p")
		wantKey, _ := tagValue(want.DNSValue, "p")
		switch {
		case got == "":
			f.add(Fail, fmt.Sprintf("the key at %s is empty or revoked", name), fmt.Sprintf("replace the TXT record at %s with: %q", name, want.DNSValue))
		case got != wantKey:
			f.add(Fail, fmt.Sprintf("the key at %s is not ours", name), fmt.Sprintf("replace the TXT record at %s with: %q", name, want.DNSValue))
		default:
			f.note("selector %s publishes our key", want.Selector)
		}
	}
	return f.result("dkim", fmt.Sprintf("%d selector(s) publish our key", len(cfg.DKIM)))
}

// tagValue returns the value of tag in a "tag=value; ..." list with all
// white space removed (RFC 6376 3.2 allows folding inside values).
func tagValue(list, tag string) (string, bool) {
	for part := range strings.SplitSeq(list, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok && strings.TrimSpace(k) == tag {
			return strings.Join(strings.Fields(v), ""), true
		}
	}
	return "", false
}

// checkTLSRPT looks for a TLS reporting address (RFC 8460 3).
func checkTLSRPT(ctx context.Context, domain string, cfg Config) Check {
	var f findings
	name := "_smtp._tls." + domain
	txt, err := lookupTXT(ctx, cfg.Resolver, name)
	if err != nil {
		f.add(Fail, fmt.Sprintf("TXT lookup for %s failed: %v", name, err), "make sure the domain's name servers answer TXT queries")
		return f.result("tls-rpt", "")
	}
	fix := fmt.Sprintf("publish this TXT record at %s: %q", name, "v=TLSRPTv1; rua=mailto:tls-reports@"+domain)
	recs := withVersion(txt, "v=TLSRPTv1")
	switch {
	case len(recs) == 0:
		f.add(Warn, "no TLS-RPT record; you will not hear about failed TLS deliveries to you", fix)
	case len(recs) > 1:
		f.add(Fail, fmt.Sprintf("%d TLS-RPT records; senders ignore them all (RFC 8460 3)", len(recs)), "keep one: "+fix)
	default:
		if err := parseTLSRPT(recs[0]); err != nil {
			f.add(Fail, "malformed TLS-RPT record: "+err.Error(), "replace it: "+fix)
		}
		f.note("record: %s", recs[0])
	}
	return f.result("tls-rpt", "reports go to the rua addresses")
}

// parseTLSRPT checks "v=TLSRPTv1; rua=uri[,uri]" (RFC 8460 3).
func parseTLSRPT(s string) error {
	var rua string
	for i, part := range strings.Split(strings.TrimRight(strings.TrimSpace(s), ";"), ";") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "":
			return fmt.Errorf("%q is not a field", part)
		case i == 0 && (k != "v" || v != "TLSRPTv1"):
			return fmt.Errorf(`the record must start with "v=TLSRPTv1"`)
		case k == "rua":
			rua = v
		}
	}
	if rua == "" {
		return fmt.Errorf("no rua field")
	}
	for u := range strings.SplitSeq(rua, ",") {
		u = strings.TrimSpace(u)
		local, host, ok := strings.Cut(strings.TrimPrefix(u, "mailto:"), "@")
		switch {
		case strings.HasPrefix(u, "mailto:") && ok && local != "" && strings.Contains(host, "."):
		case strings.HasPrefix(u, "https://") && len(u) > len("https://"):
		default:
			return fmt.Errorf("rua %q is neither a mailto: address nor an https: URL", u)
		}
	}
	return nil
}
