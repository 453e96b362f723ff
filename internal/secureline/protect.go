package secureline

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/pgpmime"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/smime"
	"github.com/sealpost/sealpost/internal/tenant"
)

// State is a recipient's security decision as it is carried from acceptance through
// every delivery attempt (sealed on the recipient row).
type State struct {
	Plan        policy.Plan   `json:"plan"`
	Index       int           `json:"index"` // the candidate being tried
	Method      policy.Method `json:"method,omitempty"`
	Reasons     []string      `json:"reasons,omitempty"` // choices made at delivery
	PortalID    string        `json:"portal_id,omitempty"`
	PortalToken string        `json:"portal_token,omitempty"`
	// PortalExpires is fixed when the portal is first chosen, so every notice and the
	// copy itself agree however many attempts delivery takes.
	PortalExpires time.Time `json:"portal_expires,omitzero"`
	Evidence      *Evidence `json:"evidence,omitempty"`
}

// Evidence is how a delivered copy was secured: the proof for the "secured" event.
type Evidence struct {
	Method           policy.Method     `json:"method"`
	TLS              *delivery.TLSInfo `json:"tls,omitempty"`
	MX               string            `json:"mx,omitempty"`
	PGPFingerprint   string            `json:"pgp_fingerprint,omitempty"`
	PGPAEAD          bool              `json:"pgp_aead,omitempty"`
	SMIMEFingerprint string            `json:"smime_fingerprint,omitempty"`
	SMIMEAlgorithm   string            `json:"smime_algorithm,omitempty"`
	Signed           bool              `json:"signed,omitempty"`
	PortalMessageID  string            `json:"portal_message_id,omitempty"`
	Reasons          []string          `json:"reasons"`
	Sandbox          bool              `json:"sandbox,omitempty"` // decided, but nothing was encrypted or sent
}

// NewState starts a recipient's state from its plan.
func NewState(p policy.Plan) *State { return &State{Plan: p} }

// Seal and OpenState keep the state on the recipient row.
func (st *State) Seal(keys *tenant.Keys, recipientID string) []byte {
	b, _ := json.Marshal(st)
	return keys.Data.Seal(b, "recipient/"+recipientID+"/security")
}

// OpenState reads a sealed state; nil sealed gives nil (a message accepted before
// SecureLine existed: it is planned on first delivery).
func OpenState(keys *tenant.Keys, recipientID string, sealed []byte) (*State, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	b, err := keys.Data.Open(sealed, "recipient/"+recipientID+"/security")
	if err != nil {
		return nil, err
	}
	var st State
	return &st, json.Unmarshal(b, &st)
}

// Prepared is a message ready to go by one method.
type Prepared struct {
	Method     policy.Method
	Data       []byte // the message to sign and send
	RequireTLS bool
	Evidence   *Evidence
}

// Recipient is one recipient as SecureLine sees it during one evaluation: which
// methods it can receive and, for the one chosen, the message to send. A key looked up
// while checking availability is the key used to encrypt: one lookup, one parse.
type Recipient struct {
	s                      *Service
	ctx                    context.Context
	keys                   *tenant.Keys
	tenantID, addr, domain string
	found                  map[string]*parsedKey
	why                    map[string]string
	view                   bool // shown to the tenant: see PreviewRecipient
}

// Recipient starts an evaluation for addr.
func (s *Service) Recipient(ctx context.Context, keys *tenant.Keys, tenantID, addr, domain string) *Recipient {
	return &Recipient{s: s, ctx: ctx, keys: keys, tenantID: tenantID, addr: addr, domain: domain,
		found: map[string]*parsedKey{}, why: map[string]string{}}
}

// PreviewRecipient is Recipient for an answer shown to the tenant: TLS capability comes
// from the tenant's own view (DomainSecurity), so neither the answer nor its timing
// says whether another tenant's mail left the domain in the shared cache.
func (s *Service) PreviewRecipient(ctx context.Context, keys *tenant.Keys, tenantID, addr, domain string) *Recipient {
	r := s.Recipient(ctx, keys, tenantID, addr, domain)
	r.view = true
	return r
}

// Available answers whether the recipient can receive m now, and why not; it is a
// policy.Availability.
func (r *Recipient) Available(m policy.Method) (bool, string) {
	switch m {
	case policy.TLS:
		if r.view {
			return r.s.tlsAvailableTo(r.ctx, r.tenantID, r.domain)
		}
		return r.s.tlsAvailable(r.ctx, r.domain)
	case policy.PGP:
		_, why := r.key(KindPGP)
		return why == "", why
	case policy.SMIME:
		_, why := r.key(KindSMIME)
		return why == "", why
	case policy.Portal, policy.None:
		return true, ""
	}
	return false, "unknown method"
}

func (r *Recipient) key(kind string) (*parsedKey, string) {
	if pk, ok := r.found[kind]; ok {
		return pk, r.why[kind]
	}
	pk, why := r.s.usableKey(r.ctx, r.keys, r.tenantID, kind, r.addr)
	r.found[kind], r.why[kind] = pk, why
	return pk, why
}

// Prepare turns the stored message into what method m sends. raw is the built message
// (before DKIM); from is the sender, who also sends a portal notice.
func (r *Recipient) Prepare(m policy.Method, raw []byte, st *State, from string) (*Prepared, error) {
	s, ctx, tenantID, addr := r.s, r.ctx, r.tenantID, r.addr
	p := &Prepared{Method: m, Evidence: &Evidence{Method: m}}
	switch m {
	case policy.TLS:
		p.Data, p.RequireTLS = raw, true
	case policy.None:
		p.Data = raw
	case policy.PGP, policy.SMIME:
		kind := KindPGP
		if m == policy.SMIME {
			kind = KindSMIME
		}
		pk, why := r.key(kind)
		if pk == nil {
			return nil, fmt.Errorf("%s", why)
		}
		outer, entity, err := splitMessage(raw)
		if err != nil {
			return nil, err
		}
		sg, err := s.tenantSigners(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		var enc []byte
		if m == policy.PGP {
			out, info, err := pgpmime.Encrypt(entity, pk.pgp, sg.pgp, s.now())
			if err != nil {
				return nil, fmt.Errorf("pgp encrypt: %w", err)
			}
			enc = out
			p.Evidence.PGPFingerprint, p.Evidence.PGPAEAD, p.Evidence.Signed = info.Fingerprint, info.AEAD, info.Signed
		} else {
			out, info, err := smime.Encrypt(entity, smime.Recipient{Cert: pk.cert}, smime.Options{Signer: sg.smime})
			if err != nil {
				return nil, fmt.Errorf("s/mime encrypt: %w", err)
			}
			enc = out
			p.Evidence.SMIMEFingerprint, p.Evidence.SMIMEAlgorithm, p.Evidence.Signed = info.CertFingerprint, info.Algorithm, info.Signed
		}
		p.Data = joinMessage(outer, enc)
	case policy.Portal:
		if st.PortalToken == "" {
			st.PortalID = tenant.NewID("pm")
			st.PortalToken = base64.RawURLEncoding.EncodeToString(seal.RandomBytes(32))
		}
		if st.PortalExpires.IsZero() {
			return nil, fmt.Errorf("portal expiry not set")
		}
		data, err := s.notice(ctx, &Notice{TenantID: tenantID, From: from, To: addr, Link: s.PortalLink(st.PortalToken), ExpiresAt: st.PortalExpires})
		if err != nil {
			return nil, err
		}
		p.Data = data
		p.Evidence.PortalMessageID = st.PortalID
	default:
		return nil, fmt.Errorf("unknown method %q", m)
	}
	return p, nil
}

// PortalLink is the link a notification carries.
func (s *Service) PortalLink(token string) string {
	return strings.TrimRight(s.cfg.PortalURL, "/") + "/p/" + token
}

// TokenHash is what the store keeps of a portal token.
// Tokens carry 256 random bits, so an unkeyed hash is enough: nothing to brute-force.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte("sealpost portal token\x00" + token))
	return h[:]
}
