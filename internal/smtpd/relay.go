package smtpd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Relay is the listener for a tenant's own mail servers: Google Workspace's outbound
// gateway, Microsoft 365's outbound connector, an on-premises Postfix. There is no
// AUTH; a message is taken only for the tenant that owns its sender domain, and only
// with that tenant's proof (tenant.AddRelayProof): a client certificate pinned to it,
// or a valid DKIM signature by the domain under a selector it registered.
const Relay Mode = "relay"

var (
	errRelayDenied = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied"}
	errNoProof     = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied: no valid DKIM signature by the sender domain under a registered selector, and no pinned client certificate"}
	errTLSFirst    = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
)

// relayMail decides at MAIL whether the sender domain belongs to a tenant that may
// relay at all, and whether a pinned certificate already proves it.
func (ss *session) relayMail(from string) error {
	if ss.tls == nil {
		return errTLSFirst
	}
	a, err := message.ParseAddress(from)
	if err != nil || from == "" {
		// Null senders (bounces) are not relayed: the tenant's servers send those
		// themselves.
		return errRelayDenied
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tenantID, proofs, err := ss.s.deps.Tenants.RelayOwner(ctx, a.Domain())
	if errors.Is(err, store.ErrNotFound) {
		return errRelayDenied
	}
	if err != nil {
		return errUnavailable
	}
	ss.relayTenant, ss.relayDomain, ss.proofs = tenantID, a.Domain(), proofs
	if pin := ss.peerPin(); pin != "" {
		for _, p := range proofs {
			if p.Kind == tenant.RelayCert && p.Value == pin {
				ss.p = relayPrincipal(tenantID, p.ID)
				ss.log = ss.log.With("tenant", tenantID, "relay_proof", p.ID)
				ss.log.Info("relay client proved by certificate")
			}
		}
	}
	ss.from = a.Addr
	return nil
}

func relayPrincipal(tenantID, proofID string) *tenant.Principal {
	return &tenant.Principal{KeyID: proofID, TenantID: tenantID, Scopes: []string{tenant.ScopeSend}}
}

// peerPin is the hex SHA-256 of the client's certificate, if it showed one.
func (ss *session) peerPin() string {
	if ss.tls == nil || len(ss.tls.PeerCertificates) == 0 {
		return ""
	}
	sum := sha256.Sum256(ss.tls.PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

// relayProve checks a DKIM proof once the message is in. The key lookup answers only
// for the selectors the tenant registered under its domain, so a signature that
// verifies was made with one of them; any other signature fails for want of a key.
func (ss *session) relayProve(raw []byte, fromDomain string) error {
	if ss.p != nil {
		return nil
	}
	if !strings.EqualFold(fromDomain, ss.relayDomain) {
		// The header From must be the domain proven, not merely the envelope's.
		return errNoProof
	}
	allowed := map[string]bool{}
	for _, p := range ss.proofs {
		if p.Kind == tenant.RelayDKIM {
			allowed[strings.ToLower(p.Value+"._domainkey."+ss.relayDomain)] = true
		}
	}
	lookup := ss.s.deps.LookupTXT
	opts := &dkim.VerifyOptions{MaxVerifications: 5, LookupTXT: func(name string) ([]string, error) {
		if !allowed[strings.ToLower(strings.TrimSuffix(name, "."))] {
			return nil, fmt.Errorf("selector not registered for relay")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return lookup(ctx, name)
	}}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), opts)
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return errNoProof
	}
	for _, v := range vs {
		if v.Err == nil && strings.EqualFold(v.Domain, ss.relayDomain) {
			ss.p = relayPrincipal(ss.relayTenant, "dkim")
			ss.log = ss.log.With("tenant", ss.relayTenant)
			ss.log.Info("relay client proved by DKIM")
			return nil
		}
	}
	ss.log.Info("relay refused: no proof", "signatures", len(vs))
	return errNoProof
}
