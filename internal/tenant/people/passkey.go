package people

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Passkeys (WebAuthn) are a second factor: after the password a person answers either
// a TOTP code or a passkey. Each challenge is kept server-side, bound to the session
// that asked for it, and taken once; a signature counter that goes back is refused.

// Errors of passkeys.
var (
	ErrPasskey    = errors.New("the passkey was not accepted; try again or use a code from your authenticator app")
	ErrNoPasskeys = errors.New("passkeys are not available here")
)

// ceremonyLife is how long a challenge may be answered.
const ceremonyLife = 5 * time.Minute

// relyingParty builds the WebAuthn relying party from the dashboard's public URL (its
// origin) and RP ID (default: that URL's host name). Without a URL passkeys are off.
func relyingParty(cfg Config) (*webauthn.WebAuthn, error) {
	origin := cfg.Origin
	if origin == "" {
		origin = cfg.BaseURL
	}
	if origin == "" {
		return nil, nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return nil, errors.New("people: the dashboard URL is not an absolute URL")
	}
	rpID := cfg.RPID
	if rpID == "" {
		rpID = u.Hostname()
	}
	return webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: cfg.Issuer, RPOrigins: []string{u.Scheme + "://" + u.Host}})
}

// PasskeysEnabled reports whether passkeys can be used: the dashboard's URL is known.
func (s *Service) PasskeysEnabled() bool { return s.wa != nil }

// passkeyUser is a person as the WebAuthn library sees them. The user handle is the
// person's id: opaque, stable and never an address.
type passkeyUser struct {
	u    *store.User
	keys []*store.Passkey
}

func (p passkeyUser) WebAuthnID() []byte   { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.u.Email
}

func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	var out []webauthn.Credential
	for _, k := range p.keys {
		var tr []protocol.AuthenticatorTransport
		for _, t := range k.Transports {
			tr = append(tr, protocol.AuthenticatorTransport(t))
		}
		out = append(out, webauthn.Credential{ID: k.CredentialID, PublicKey: k.PublicKey, AttestationType: k.Attestation, Transport: tr,
			Flags:         webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(k.Flags)),
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount}})
	}
	return out
}

func (s *Service) passkeyUser(ctx context.Context, u *store.User) (passkeyUser, error) {
	keys, err := s.db.Passkeys(ctx, u.ID)
	return passkeyUser{u: u, keys: keys}, err
}

// Passkeys lists the signed-in person's own passkeys.
func (s *Service) Passkeys(ctx context.Context, sess *Session) ([]*store.Passkey, error) {
	return s.db.Passkeys(ctx, sess.UserID)
}

// HasPasskeys reports whether a person at the second-factor step may answer with a
// passkey.
func (s *Service) HasPasskeys(ctx context.Context, sess *Session) bool {
	if s.wa == nil {
		return false
	}
	keys, err := s.db.Passkeys(ctx, sess.UserID)
	return err == nil && len(keys) > 0
}

func (s *Service) putCeremony(ctx context.Context, sess *Session, kind string, sd *webauthn.SessionData) error {
	b, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	return s.db.PutCeremony(ctx, sess.ID, kind, b, s.Now().Add(ceremonyLife))
}

func (s *Service) takeCeremony(ctx context.Context, sess *Session, kind string) (*webauthn.SessionData, error) {
	b, err := s.db.TakeCeremony(ctx, sess.ID, kind, s.Now())
	if err != nil {
		return nil, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(b, &sd); err != nil {
		return nil, err
	}
	return &sd, nil
}

// BeginPasskeyEnrol starts registering a passkey for the signed-in person and returns
// the options (JSON) for navigator.credentials.create.
func (s *Service) BeginPasskeyEnrol(ctx context.Context, sess *Session) ([]byte, error) {
	if s.wa == nil {
		return nil, ErrNoPasskeys
	}
	if sess.Stage != StageFull {
		return nil, ErrSession
	}
	pu, err := s.passkeyUser(ctx, sess.User)
	if err != nil {
		return nil, err
	}
	creation, sd, err := s.wa.BeginRegistration(pu,
		webauthn.WithExclusions(webauthn.Credentials(pu.WebAuthnCredentials()).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred}))
	if err != nil {
		return nil, err
	}
	if err := s.putCeremony(ctx, sess, "register", sd); err != nil {
		return nil, err
	}
	return json.Marshal(creation)
}

// FinishPasskeyEnrol checks the browser's answer to the registration challenge and
// stores the passkey under name.
func (s *Service) FinishPasskeyEnrol(ctx context.Context, sess *Session, name, response, client string) (*store.Passkey, error) {
	if s.wa == nil {
		return nil, ErrNoPasskeys
	}
	if sess.Stage != StageFull {
		return nil, ErrSession
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 60 || strings.ContainsAny(name, "\r\n\x00") {
		return nil, &InvalidError{"name", "a name of 1 to 60 characters on one line, such as \"work laptop\""}
	}
	u := sess.User
	refuse := func(why string) (*store.Passkey, error) {
		e := s.entry(u.TenantID, "user:"+u.ID, "user.passkey_enrol_failure", u.ID, "refused", client)
		e.Detail = why
		if err := s.db.AppendAudit(ctx, e); err != nil {
			return nil, err
		}
		return nil, ErrPasskey
	}
	sd, err := s.takeCeremony(ctx, sess, "register")
	if errors.Is(err, store.ErrNotFound) {
		return refuse("no challenge outstanding, or it expired or was used")
	}
	if err != nil {
		return nil, err
	}
	if response == "" {
		return refuse("no answer from the browser")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(response))
	if err != nil {
		return refuse("malformed answer")
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	cred, err := s.wa.CreateCredential(pu, *sd, parsed)
	if err != nil {
		return refuse("answer did not verify")
	}
	pk := &store.Passkey{ID: tenant.NewID("pk"), TenantID: u.TenantID, UserID: u.ID, Name: name, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount, Flags: uint8(cred.Flags.ProtocolValue()),
		Attestation: cred.AttestationType, CreatedAt: s.Now()}
	for _, t := range cred.Transport {
		pk.Transports = append(pk.Transports, string(t))
	}
	e := s.entry(u.TenantID, "user:"+u.ID, "user.passkey_added", pk.ID, "ok", client)
	e.Detail = "passkey"
	if err := s.db.InsertPasskey(ctx, pk, e); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return refuse("credential already registered")
		}
		return nil, err
	}
	return pk, nil
}

// RemovePasskey removes one of the signed-in person's own passkeys.
func (s *Service) RemovePasskey(ctx context.Context, sess *Session, id, client string) error {
	return s.db.DeletePasskey(ctx, sess.TenantID, sess.UserID, id, s.entry(sess.TenantID, "user:"+sess.UserID, "user.passkey_removed", id, "ok", client))
}

// BeginPasskeySignIn starts the second-factor step with a passkey and returns the
// options (JSON) for navigator.credentials.get, listing the person's passkeys.
func (s *Service) BeginPasskeySignIn(ctx context.Context, sess *Session) ([]byte, error) {
	if s.wa == nil {
		return nil, ErrNoPasskeys
	}
	if sess.Stage != StageMFA {
		return nil, ErrSession
	}
	pu, err := s.passkeyUser(ctx, sess.User)
	if err != nil {
		return nil, err
	}
	if len(pu.keys) == 0 {
		return nil, ErrNoPasskeys
	}
	assertion, sd, err := s.wa.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	if err := s.putCeremony(ctx, sess, "login", sd); err != nil {
		return nil, err
	}
	return json.Marshal(assertion)
}

// PasskeySignIn checks the browser's answer to the sign-in challenge for a session at
// the second-factor step and, on success, returns the new cookie of the full
// session. A refusal counts toward the lock like a wrong code.
func (s *Service) PasskeySignIn(ctx context.Context, sess *Session, response, client string) (string, error) {
	if s.wa == nil {
		return "", ErrNoPasskeys
	}
	if sess.Stage != StageMFA {
		return "", ErrSession
	}
	u := sess.User
	if s.Now().Before(u.LockedUntil) {
		return "", &LockedError{u.LockedUntil}
	}
	if strings.TrimSpace(response) == "" {
		// A browser without JavaScript posted the form: nothing was tried, so
		// nothing is counted, and the challenge stays for a second attempt.
		return "", ErrPasskey
	}
	refuse := func(why string) (string, error) {
		err := s.fail(ctx, u, "signin.mfa_failure", why, client)
		if errors.Is(err, ErrCode) {
			err = ErrPasskey
		}
		return "", err
	}
	sd, err := s.takeCeremony(ctx, sess, "login")
	if errors.Is(err, store.ErrNotFound) {
		return refuse("passkey: no challenge outstanding, or it expired or was used")
	}
	if err != nil {
		return "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(response))
	if err != nil {
		return refuse("passkey: malformed answer")
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return "", err
	}
	cred, err := s.wa.ValidateLogin(pu, *sd, parsed)
	if err != nil {
		return refuse("passkey: answer did not verify or is not this person's")
	}
	var pk *store.Passkey
	for _, k := range pu.keys {
		if bytes.Equal(k.CredentialID, cred.ID) {
			pk = k
		}
	}
	if pk == nil {
		return refuse("passkey: unknown credential")
	}
	if cred.Authenticator.CloneWarning {
		return refuse("passkey: signature counter went back (possible clone) for " + pk.ID)
	}
	tok := token()
	now := s.Now()
	e := s.entry(u.TenantID, "user:"+u.ID, "signin.success", u.ID, "ok", client)
	e.Detail = "passkey " + pk.ID
	err = s.db.PasskeySignedIn(ctx, pk.ID, u.ID, cred.Authenticator.SignCount, sess.ID, tokenHash("session", tok), now.Add(s.cfg.AbsoluteTimeout), now, e)
	if errors.Is(err, store.ErrNotFound) {
		return refuse("passkey: signature counter went back (possible clone) for " + pk.ID)
	}
	if err != nil {
		return "", err
	}
	return tok, nil
}
