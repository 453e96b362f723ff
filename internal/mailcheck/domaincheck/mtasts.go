package domaincheck

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/tlssec"
)

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
	if _, err := tlssec.ParseRecord(recs[0]); err != nil {
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
	pol, err := tlssec.ParsePolicy(body)
	if err != nil {
		f.add(Fail, "malformed MTA-STS policy: "+err.Error(), serve)
		return f.result("mta-sts", "")
	}
	f.note("policy: mode %s, max_age %d, mx %s", pol.Mode, int64(pol.MaxAge/time.Second), strings.Join(pol.MX, ", "))
	switch pol.Mode {
	case "testing":
		f.add(Warn, "MTA-STS mode is testing: senders report failures but still deliver without TLS",
			fmt.Sprintf(`change "mode: testing" to "mode: enforce" in %s and change the id in the TXT record at %s`, url, name))
	case "none":
		f.add(Warn, "MTA-STS mode is none: the policy is withdrawn", fmt.Sprintf(`change "mode: none" to "mode: enforce" in %s and change the id in the TXT record at %s`, url, name))
	}
	if pol.Mode != tlssec.ModeNone {
		for _, h := range hosts {
			if !pol.Matches(h.name) {
				f.add(Fail, fmt.Sprintf("MX %s is not matched by the policy's mx patterns, so enforcing senders will not deliver to it", h.name),
					fmt.Sprintf(`add the line "mx: %s" to %s and change the id in the TXT record at %s`, h.name, url, name))
			}
		}
	}
	return f.result("mta-sts", fmt.Sprintf("policy mode %s covers all MX hosts", pol.Mode))
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
