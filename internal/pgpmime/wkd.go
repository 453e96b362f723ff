package pgpmime

import (
	"context"
	"crypto/sha1" // #nosec G505 -- the Web Key Directory names keys by a SHA-1 hash
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for WKD lookups.
const (
	DefaultWKDTimeout = 10 * time.Second
	DefaultWKDMaxSize = 64 << 10
)

// WKD looks keys up in Web Key Directories (draft-koch-openpgp-webkey-service). The zero
// value works; a WKD is safe for concurrent use.
type WKD struct {
	// Client makes the requests; nil means a plain http.Client. Tests set its Transport
	// to reach a loopback server. Redirects are followed only to https URLs.
	Client *http.Client
	// Timeout bounds one lookup, both methods included, when ctx has no earlier
	// deadline; zero means DefaultWKDTimeout.
	Timeout time.Duration
	// MaxSize bounds the response body; zero means DefaultWKDMaxSize.
	MaxSize int64
	// Now is the clock used to judge user IDs; nil means time.Now.
	Now func() time.Time
}

// Lookup fetches the key for addr, trying the advanced method and, only when its host
// does not exist, the direct one (draft-koch-openpgp-webkey-service 3.1). It returns
// the key and its binary form. The key has a valid user ID with the address; among
// several such keys a usable one (Check is nil) is preferred, but usability is not
// required: call Check. A missing key is reported as an error wrapping ErrNotFound; a
// key without the address as one wrapping ErrNoUserID; anything else is a failure.
// Errors name the domain only: the local part and its hash identify the person.
func (w *WKD) Lookup(ctx context.Context, addr string) (*Key, []byte, error) {
	local, domain, ok := splitAddress(addr)
	if !ok {
		return nil, nil, errors.New("pgpmime: wkd: malformed address")
	}
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultWKDTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	hash := wkdHash(local)
	query := "?l=" + url.QueryEscape(local)
	// draft-koch-openpgp-webkey-service 3.1: advanced method first.
	advanced := "https://openpgpkey." + domain + "/.well-known/openpgpkey/" + domain + "/hu/" + hash + query
	body, err := w.fetch(ctx, advanced)
	if errors.Is(err, errNoHost) {
		// Only when the openpgpkey sub-domain does not exist: the direct method.
		direct := "https://" + domain + "/.well-known/openpgpkey/hu/" + hash + query
		body, err = w.fetch(ctx, direct)
		if errors.Is(err, errNoHost) {
			return nil, nil, fmt.Errorf("%w: no web key directory host for %s", ErrNotFound, domain)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pgpmime: wkd %s: %w", domain, err)
	}
	key, err := w.pick(body, addr)
	if err != nil {
		return nil, nil, fmt.Errorf("pgpmime: wkd %s: %w", domain, err)
	}
	return key, key.Bytes(), nil
}

// pick chooses among the keys in body one with a user ID for addr, preferring one that
// is usable now.
func (w *WKD) pick(body []byte, addr string) (*Key, error) {
	keys, err := parseKeys(body)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	cfg := config(now)
	var match *Key
	for _, k := range keys {
		if !k.hasUserID(addr, now, cfg) {
			continue
		}
		if k.Check(addr, now) == nil {
			return k, nil
		}
		if match == nil {
			match = k
		}
	}
	if match == nil {
		return nil, fmt.Errorf("%w: served key has none", ErrNoUserID)
	}
	return match, nil
}

// errNoHost marks a lookup whose host name does not exist.
var errNoHost = errors.New("host does not exist")

// fetch GETs u and returns its body, at most MaxSize bytes.
func (w *WKD) fetch(ctx context.Context, u string) ([]byte, error) {
	client := http.Client{}
	if w.Client != nil {
		client = *w.Client
	}
	// A key directory must stay on https, whatever it redirects to.
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return errors.New("redirect away from https")
		}
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, errors.New("cannot build request")
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := client.Do(req)
	if err != nil {
		// Strip the URL that *url.Error carries: it holds the local part.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, errNoHost
		}
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, ErrNotFound
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("http status %d", resp.StatusCode)
	}
	limit := w.MaxSize
	if limit <= 0 {
		limit = DefaultWKDMaxSize
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("key of %d bytes exceeds the limit of %d", resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("key exceeds the limit of %d bytes", limit)
	}
	if len(body) == 0 {
		return nil, errors.New("empty key")
	}
	return body, nil
}

// splitAddress returns the local part as given and the domain in lower case.
func splitAddress(addr string) (local, domain string, ok bool) {
	addr = bareAddress(addr)
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	local, domain = addr[:i], strings.ToLower(addr[i+1:])
	if strings.ContainsAny(domain, "/?#@:[] ") {
		return "", "", false
	}
	return local, domain, true
}

// wkdHash is the directory name of a local part: the z-base-32 form of the SHA-1 of the
// local part with ASCII letters lower-cased (draft-koch-openpgp-webkey-service 3.1).
func wkdHash(local string) string {
	b := []byte(local)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	sum := sha1.Sum(b) // #nosec G401 -- a name, not a signature: the WKD draft's hashed local part
	return zbase32(sum[:])
}

// zbase32 encodes b in the human-oriented base-32 encoding the draft refers to, five bits
// per character, most significant first, without padding.
func zbase32(b []byte) string {
	const alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"
	out := make([]byte, 0, (len(b)*8+4)/5)
	var acc uint32
	var n uint
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		n += 8
		for n >= 5 {
			n -= 5
			out = append(out, alphabet[(acc>>n)&31])
		}
	}
	if n > 0 {
		out = append(out, alphabet[(acc<<(5-n))&31])
	}
	return string(out)
}
