package domaincheck

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// dmarcRecord is a parsed DMARC policy record (RFC 7489 6.3).
type dmarcRecord struct {
	p, sp       string // none, quarantine or reject; sp "" when absent
	adkim, aspf string // "r" or "s"
	pct         int
	rua, ruf    []string
}

// parseDMARC parses a DMARC record. Unknown tags are ignored as RFC 7489
// 6.3 requires; anything else malformed is an error.
func parseDMARC(s string) (*dmarcRecord, error) {
	rec := &dmarcRecord{adkim: "r", aspf: "r", pct: 100}
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ";") {
		part = strings.Trim(part, " \t\r\n")
		if part == "" && i > 0 {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.Trim(k, " \t")), strings.Trim(v, " \t")
		if !ok || k == "" || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return nil, fmt.Errorf("%q is not a tag=value pair", part)
		}
		if i == 0 {
			if k != "v" || v != "DMARC1" {
				return nil, errors.New(`the record must start with "v=DMARC1"`)
			}
			continue
		}
		if seen[k] {
			return nil, fmt.Errorf("tag %q appears more than once", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "v":
			err = errors.New(`"v" must be the first tag only`)
		case "p", "sp":
			v = strings.ToLower(v)
			if v != "none" && v != "quarantine" && v != "reject" {
				err = fmt.Errorf("%s=%s: want none, quarantine or reject", k, v)
			}
			if k == "p" {
				rec.p = v
			} else {
				rec.sp = v
			}
		case "adkim", "aspf":
			v = strings.ToLower(v)
			if v != "r" && v != "s" {
				err = fmt.Errorf("%s=%s: want r or s", k, v)
			}
			if k == "adkim" {
				rec.adkim = v
			} else {
				rec.aspf = v
			}
		case "pct":
			rec.pct, err = strconv.Atoi(v)
			if err != nil || rec.pct < 0 || rec.pct > 100 || strings.HasPrefix(v, "+") {
				err = fmt.Errorf("pct=%s: want a whole number from 0 to 100", v)
			}
		case "rua", "ruf":
			var uris []string
			if uris, err = parseDMARCURIs(v); err == nil && k == "rua" {
				rec.rua = uris
			} else if err == nil {
				rec.ruf = uris
			}
		case "fo":
			for o := range strings.SplitSeq(v, ":") {
				if o = strings.TrimSpace(o); o != "0" && o != "1" && o != "d" && o != "s" {
					err = fmt.Errorf("fo=%s: want options 0, 1, d, s separated by \":\"", v)
				}
			}
		case "ri":
			if _, e := strconv.ParseUint(v, 10, 32); e != nil {
				err = fmt.Errorf("ri=%s: want a number of seconds", v)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if rec.p == "" {
		return nil, errors.New(`no "p" tag; it must follow "v=DMARC1"`)
	}
	return rec, nil
}

// parseDMARCURIs splits a comma-separated list of report URIs, each with
// an optional "!size" limit (RFC 7489 6.2).
func parseDMARCURIs(v string) ([]string, error) {
	var out []string
	for u := range strings.SplitSeq(v, ",") {
		u = strings.TrimSpace(u)
		if i := strings.LastIndexByte(u, '!'); i >= 0 {
			size := strings.TrimRight(strings.ToLower(u[i+1:]), "kmgt")
			if _, err := strconv.ParseUint(size, 10, 64); err != nil || len(u[i+1:])-len(size) > 1 {
				return nil, fmt.Errorf("report URI %q has a bad size limit", u)
			}
			u = u[:i]
		}
		scheme, rest, ok := strings.Cut(u, ":")
		if !ok || scheme == "" || rest == "" || strings.ContainsAny(u, " \t") {
			return nil, fmt.Errorf("report URI %q is not a URI", u)
		}
		if strings.EqualFold(scheme, "mailto") && !strings.Contains(rest, "@") {
			return nil, fmt.Errorf("report URI %q has no address", u)
		}
		out = append(out, u)
	}
	return out, nil
}

// checkDMARC reads _dmarc.<domain> and judges how strict the policy is.
func checkDMARC(ctx context.Context, domain string, cfg Config) Check {
	var f findings
	name := "_dmarc." + domain
	suggest := func(rua []string) string {
		if len(rua) == 0 {
			rua = []string{"mailto:dmarc@" + domain}
		}
		return fmt.Sprintf("publish this TXT record at %s: %q", name, "v=DMARC1; p=quarantine; rua="+strings.Join(rua, ","))
	}
	txt, err := lookupTXT(ctx, cfg.Resolver, name)
	if err != nil {
		f.add(Fail, fmt.Sprintf("TXT lookup for %s failed: %v", name, err), "make sure the domain's name servers answer TXT queries")
		return f.result("dmarc", "")
	}
	var recs []string
	for _, t := range txt {
		if strings.Contains(strings.ToLower(strings.Join(strings.Fields(t), "")), "v=dmarc1") {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		f.add(Fail, "no DMARC record", suggest(nil))
		return f.result("dmarc", "")
	case 1:
		f.note("record: %s", recs[0])
	default:
		f.add(Fail, fmt.Sprintf("%d DMARC records; receivers ignore them all (RFC 7489 6.6.3)", len(recs)), "keep one: "+suggest(nil))
		return f.result("dmarc", "")
	}
	rec, err := parseDMARC(recs[0])
	if err != nil {
		f.add(Fail, "malformed DMARC record: "+err.Error(), suggest(nil))
		return f.result("dmarc", "")
	}
	if rec.p == "none" {
		f.add(Warn, "DMARC policy is p=none: receivers take no action on mail that fails", suggest(rec.rua))
	}
	if rec.pct < 100 {
		f.add(Warn, fmt.Sprintf("pct=%d: the policy applies to only %d%% of failing mail", rec.pct, rec.pct),
			fmt.Sprintf("remove pct= from the DMARC record at %s", name))
	}
	if rec.sp != "" {
		f.note("subdomain policy sp=%s", rec.sp)
	}
	f.note("alignment: adkim=%s, aspf=%s (r relaxed, s strict)", rec.adkim, rec.aspf)
	for _, u := range rec.rua {
		f.note("aggregate reports (rua) to %s", u)
	}
	for _, u := range rec.ruf {
		f.note("failure reports (ruf) to %s", u)
	}
	if len(rec.rua) == 0 {
		f.note("no rua: you receive no aggregate reports")
	}
	for _, u := range append(append([]string(nil), rec.rua...), rec.ruf...) {
		checkReportAuth(ctx, cfg, domain, u, &f)
	}
	return f.result("dmarc", fmt.Sprintf("policy p=%s", rec.p))
}

// checkReportAuth warns when reports go to another domain that has not
// agreed to receive them (RFC 7489 7.1).
func checkReportAuth(ctx context.Context, cfg Config, domain, uri string, f *findings) {
	addr, ok := strings.CutPrefix(strings.ToLower(uri), "mailto:")
	_, host, _ := strings.Cut(addr, "@")
	if !ok || host == domain || strings.HasSuffix(host, "."+domain) || strings.HasSuffix(domain, "."+host) {
		return
	}
	name := domain + "._report._dmarc." + host
	txt, err := lookupTXT(ctx, cfg.Resolver, name)
	if err == nil && len(withVersion(txt, "v=DMARC1")) == 0 {
		f.add(Warn, fmt.Sprintf("%s has not agreed to receive reports for %s, so they are not sent", host, domain),
			fmt.Sprintf("ask the owner of %s to publish this TXT record at %s: %q", host, name, "v=DMARC1"))
	}
}
