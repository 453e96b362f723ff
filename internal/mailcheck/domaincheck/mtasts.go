package domaincheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// stsPolicy is a parsed MTA-STS policy file (RFC 8461 3.2).
type stsPolicy struct {
	mode   string
	mx     []string
	maxAge int
}

// stsMaxPolicy bounds the policy body we read; RFC 8461 3.3 lets senders
// cap it at 64 KiB.
const stsMaxPolicy = 64 << 10

// checkMTASTS checks the _mta-sts TXT record and the policy it announces.
func checkMTASTS(ctx context.Context, domain string, hosts []mxHost, cfg Config) Check {
	var f findings
	name := "_mta-sts." + domain
	url := "https://mta-sts." + domain + "/.well-known/mta-sts.txt"
	mxLine := "mx." + domain
	if len(hosts) > 0 {
		mxLine = strings.Join(mxNames(hosts), `", "mx: `)
	}
	serve := fmt.Sprintf(`serve a policy at %s with the lines "version: STSv1", "mode: enforce", "mx: %s", "max_age: 604800"`, url, mxLine)
	txt, err := lookupTXT(ctx, cfg.Resolver, name)
	if err != nil {
		f.add(Fail, fmt.Sprintf("TXT lookup for %s failed: %v", name, err), "make sure the domain's name servers answer TXT queries")
		return f.result("mta-sts", "")
	}
	recs := withVersion(txt, "v=STSv1")
	switch len(recs) {
	case 0:
		id := time.Now().UTC().Format("20060102")
		f.add(Warn, "no MTA-STS record (optional, but lets senders insist on TLS to your MX hosts)",
			fmt.Sprintf("publish this TXT record at %s: %q and %s", name, "v=STSv1; id="+id, serve))
		return f.result("mta-sts", "")
	case 1:
		f.note("record: %s", recs[0])
	default:
		f.add(Fail, fmt.Sprintf("%d MTA-STS records; senders ignore them all (RFC 8461 3.1)", len(recs)), "keep one TXT record starting with v=STSv1 at "+name)
		return f.result("mta-sts", "")
	}
	if err := parseSTSRecord(recs[0]); err != nil {
		f.add(Fail, "malformed MTA-STS record: "+err.Error(), fmt.Sprintf("publish this TXT record at %s instead: %q", name, "v=STSv1; id="+time.Now().UTC().Format("20060102")))
		return f.result("mta-sts", "")
	}
	body, ctype, err := fetchPolicy(ctx, cfg.HTTPClient, url)
	if err != nil {
		f.add(Fail, "MTA-STS id without a policy file: "+err.Error(), fmt.Sprintf("%s, or delete the TXT record at %s", serve, name))
		return f.result("mta-sts", "")
	}
	if mt, _, _ := mime.ParseMediaType(ctype); mt != "text/plain" {
		f.add(Warn, fmt.Sprintf("the policy is served as %q; senders may reject anything but text/plain", ctype), "serve "+url+" with Content-Type: text/plain")
	}
	pol, err := parseSTSPolicy(body)
	if err != nil {
		f.add(Fail, "malformed MTA-STS policy: "+err.Error(), serve)
		return f.result("mta-sts", "")
	}
	f.note("policy: mode %s, max_age %d, mx %s", pol.mode, pol.maxAge, strings.Join(pol.mx, ", "))
	switch pol.mode {
	case "testing":
		f.add(Warn, "MTA-STS mode is testing: senders report failures but still deliver without TLS",
			fmt.Sprintf(`change "mode: testing" to "mode: enforce" in %s and change the id in the TXT record at %s`, url, name))
	case "none":
		f.add(Warn, "MTA-STS mode is none: the policy is withdrawn", fmt.Sprintf(`change "mode: none" to "mode: enforce" in %s and change the id in the TXT record at %s`, url, name))
	}
	if pol.mode != "none" {
		for _, h := range hosts {
			if !stsMatch(pol.mx, h.name) {
				f.add(Fail, fmt.Sprintf("MX %s is not matched by the policy's mx patterns, so enforcing senders will not deliver to it", h.name),
					fmt.Sprintf(`add the line "mx: %s" to %s and change the id in the TXT record at %s`, h.name, url, name))
			}
		}
	}
	return f.result("mta-sts", fmt.Sprintf("policy mode %s covers all MX hosts", pol.mode))
}

// parseSTSRecord checks "v=STSv1; id=..." (RFC 8461 3.1).
func parseSTSRecord(s string) error {
	id := ""
	for i, part := range strings.Split(strings.TrimRight(strings.TrimSpace(s), "; "), ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok || k == "":
			return fmt.Errorf("%q is not a field", part)
		case i == 0 && (k != "v" || v != "STSv1"):
			return errors.New(`the record must start with "v=STSv1"`)
		case k == "id":
			id = v
		}
	}
	if id == "" || len(id) > 32 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return fmt.Errorf("id %q must be 1 to 32 letters and digits", id)
	}
	return nil
}

// fetchPolicy GETs the policy; anything but 200 is an error (RFC 8461 3.3).
func fetchPolicy(ctx context.Context, client *http.Client, url string) (body, contentType string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("%s answered %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, stsMaxPolicy+1))
	if err != nil {
		return "", "", fmt.Errorf("reading %s: %w", url, err)
	}
	if len(data) > stsMaxPolicy {
		return "", "", fmt.Errorf("%s is larger than %d bytes", url, stsMaxPolicy)
	}
	return string(data), resp.Header.Get("Content-Type"), nil
}

// parseSTSPolicy parses "key: value" lines (RFC 8461 3.2). Unknown keys
// are ignored; for the others the first occurrence counts.
func parseSTSPolicy(body string) (*stsPolicy, error) {
	p := &stsPolicy{maxAge: -1}
	version := ""
	for line := range strings.SplitSeq(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %q is not \"key: value\"", line)
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "version":
			if version == "" {
				version = v
			}
		case "mode":
			if p.mode == "" {
				p.mode = v
			}
		case "mx":
			p.mx = append(p.mx, strings.ToLower(strings.TrimSuffix(v, ".")))
		case "max_age":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 31557600 || len(v) > 10 {
				return nil, fmt.Errorf("max_age %q must be 0 to 31557600 seconds", v)
			}
			if p.maxAge < 0 {
				p.maxAge = n
			}
		}
	}
	switch {
	case version != "STSv1":
		return nil, errors.New(`no "version: STSv1" line`)
	case p.mode != "enforce" && p.mode != "testing" && p.mode != "none":
		return nil, fmt.Errorf("mode %q must be enforce, testing or none", p.mode)
	case p.maxAge < 0:
		return nil, errors.New("no max_age line")
	case len(p.mx) == 0 && p.mode != "none":
		return nil, errors.New("no mx lines")
	}
	return p, nil
}

// stsMatch reports whether host matches a policy mx pattern; "*." matches
// exactly one leftmost label (RFC 8461 4.1).
func stsMatch(patterns []string, host string) bool {
	for _, p := range patterns {
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			label, found := strings.CutSuffix(host, suffix)
			if found && strings.HasPrefix(suffix, ".") && label != "" && !strings.Contains(label, ".") {
				return true
			}
		} else if p == host {
			return true
		}
	}
	return false
}
