package api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/sealpost/sealpost/internal/httpsig"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/oauth"
)

// maxAuthorizationBytes caps the Authorization field before anything in it is parsed.
const maxAuthorizationBytes = 8 << 10

// authDetail is the one answer to every refused credential: it never tells whether the
// credential exists.
const authDetail = "the credential is invalid, expired or revoked"

const authHint = "send Authorization: Bearer <API key or access token>, or Basic <key id:secret>"

// authenticate is the API's one authentication step. Every kind of credential — a
// bearer API key, an OAuth access token, HTTP Basic with a key id and secret — resolves
// to the same Principal, which then passes the same scope, sandbox and tenant checks.
func (s *Server) authenticate(r *http.Request) (*tenant.Principal, error) {
	if httpsig.Signed(r.Header) && s.OAuth != nil {
		v, err := s.verifySigned(r)
		if err != nil {
			return nil, err
		}
		if v.Session == "" && r.Pattern != sessionOpenPattern {
			return nil, s.authFailed(r, "signature", "no_session", problem(401, "Unauthorized", "open a session with a signed POST /v1/sessions, then name it in the covered Sealpost-Session field"))
		}
		return v.Principal, nil
	}
	h := r.Header.Get("Authorization")
	if len(h) > maxAuthorizationBytes {
		return nil, s.authFailed(r, "oversize", "oversize", problem(401, "Unauthorized", "the Authorization field is too long"))
	}
	scheme, cred, ok := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	if !ok || cred == "" {
		return nil, s.authFailed(r, "none", "missing", problem(401, "Unauthorized", authHint))
	}
	var p *tenant.Principal
	var err error
	var method string
	switch {
	case strings.EqualFold(scheme, "Bearer") && s.OAuth != nil && oauth.IsToken(cred):
		method = "oauth"
		p, err = s.OAuth.Authenticate(r.Context(), cred)
	case strings.EqualFold(scheme, "Bearer"):
		method = "bearer"
		p, err = s.Tenants.Authenticate(r.Context(), cred)
	case strings.EqualFold(scheme, "Basic"):
		method = "basic"
		if !secureTransport(r) {
			return nil, s.authFailed(r, method, "insecure", problem(401, "Unauthorized", "Basic credentials are accepted only over TLS"))
		}
		id, secret, ok := decodeBasic(cred)
		if !ok {
			return nil, s.authFailed(r, method, "malformed", problem(401, "Unauthorized", "Basic credentials must be base64 of <key id>:<secret>"))
		}
		p, err = s.Tenants.AuthenticateBasic(r.Context(), id, secret)
	default:
		return nil, s.authFailed(r, "none", "scheme", problem(401, "Unauthorized", authHint))
	}
	if errors.Is(err, tenant.ErrBadCredentials) || errors.Is(err, oauth.ErrBadToken) {
		return nil, s.authFailed(r, method, "refused", problem(401, "Unauthorized", authDetail))
	}
	if err != nil {
		return nil, err
	}
	return s.checkNetwork(r, method, p)
}

// networkDetail answers a credential used from outside its allowlist. It names neither
// the credential nor its networks: only the holder of a working secret can see it.
const networkDetail = "this credential is not accepted from the network the request came from"

// checkNetwork refuses a credential used from outside its networks, for every method
// alike (an OAuth token and a signed request follow their client's list).
func (s *Server) checkNetwork(r *http.Request, method string, p *tenant.Principal) (*tenant.Principal, error) {
	if p.Access.AllowsAddr(clientIP(r)) {
		return p, nil
	}
	return nil, s.authFailed(r, method, "network", problem(403, "Forbidden", networkDetail))
}

// authFailed counts and logs a refused credential (never the credential itself) and
// returns the problem to answer with; wrap's audit entry records the 401.
func (s *Server) authFailed(r *http.Request, method, reason string, p *Problem) error {
	s.Log.Info("credential refused", "method", method, "reason", reason, "client", clientIP(r))
	if s.OnAuthFailure != nil {
		s.OnAuthFailure(method, reason)
	}
	return p
}

// decodeBasic splits RFC 7617 credentials. The parts may be form-encoded, as RFC 6749
// 2.3.1 asks of OAuth clients; ours never need it, but decoding does no harm.
func decodeBasic(cred string) (user, pass string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if !ok || user == "" || pass == "" {
		return "", "", false
	}
	if u, err := url.QueryUnescape(user); err == nil {
		user = u
	}
	if p, err := url.QueryUnescape(pass); err == nil {
		pass = p
	}
	return user, pass, true
}

// secureTransport reports whether a password-like credential may travel on this
// request: over TLS, or from this machine (a TLS-terminating proxy beside the server).
func secureTransport(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	ip := net.ParseIP(clientIP(r))
	return ip != nil && ip.IsLoopback()
}

// sessionOpenPattern is the one route a signed request may call without a session.
const sessionOpenPattern = "POST /v1/sessions"

// verifySigned checks an RFC 9421 signed request. The body is read here, within the
// route's size cap, so its digest is checked before any handler acts on it; the
// handler then reads the same bytes.
func (s *Server) verifySigned(r *http.Request) (*oauth.SignedRequest, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, problem(413, "Request too large", "the request body is too large or could not be read")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	v, err := s.OAuth.VerifyRequest(r.Context(), r, scheme+"://"+r.Host+r.URL.RequestURI(), body)
	var he *httpsig.Error
	if errors.As(err, &he) {
		return nil, s.authFailed(r, "signature", "refused", problem(401, "Unauthorized", he.Reason))
	}
	if err != nil {
		return nil, err
	}
	// Here, not in authenticate, so that opening a session obeys the list too.
	if _, err := s.checkNetwork(r, "signature", v.Principal); err != nil {
		return nil, err
	}
	return v, nil
}
