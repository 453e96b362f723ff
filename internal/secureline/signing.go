package secureline

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/sealpost/sealpost/internal/pgpmime"
	"github.com/sealpost/sealpost/internal/smime"
	"github.com/sealpost/sealpost/internal/store"
)

// SigningKeyInfo describes a tenant's signing key; never the private part.
type SigningKeyInfo struct {
	Kind        string    `json:"type"`
	Fingerprint string    `json:"fingerprint"`
	CreatedAt   time.Time `json:"created_at"`
}

// signingData is the sealed part of a signing key.
type signingData struct {
	PrivateKey  []byte `json:"private_key"`
	Passphrase  []byte `json:"passphrase,omitempty"`
	Certificate []byte `json:"certificate,omitempty"` // PEM chain, leaf first (S/MIME)
}

// signers are a tenant's parsed signing keys, cached like policies.
type signers struct {
	pgp    *pgpmime.Signer
	smime  *smime.Signer
	loaded time.Time
}

// SetSigningKey stores the tenant's key for signing what it sends by kind: an armored
// OpenPGP secret key (with its passphrase), or an S/MIME certificate chain and its
// private key in PEM. It must parse and, for S/MIME, the key must match the
// certificate.
func (s *Service) SetSigningKey(ctx context.Context, tenantID, kind string, privateKey, passphrase, certificate []byte) (*SigningKeyInfo, error) {
	var fp string
	switch kind {
	case KindPGP:
		sg, err := pgpmime.NewSigner(privateKey, passphrase)
		if err != nil {
			return nil, &KeyError{"private_key", "cannot be used: " + err.Error()}
		}
		fp = sg.Fingerprint
	case KindSMIME:
		sg, err := parseSMIMESigner(certificate, privateKey)
		if err != nil {
			return nil, err
		}
		fp = smime.Fingerprint(sg.Cert)
	default:
		return nil, &KeyError{"type", `must be "pgp" or "smime"`}
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	// #nosec G117 -- marshalled only to be sealed under the tenant key just below
	b, _ := json.Marshal(signingData{PrivateKey: privateKey, Passphrase: passphrase, Certificate: certificate})
	k := &store.SigningKey{TenantID: tenantID, Kind: kind, Fingerprint: fp, CreatedAt: s.now(),
		Data: keys.Data.Seal(b, "signing-key/"+tenantID+"/"+kind)}
	if err := s.db.PutSigningKey(ctx, k); err != nil {
		return nil, err
	}
	s.forgetSigners(tenantID)
	return &SigningKeyInfo{Kind: kind, Fingerprint: fp, CreatedAt: k.CreatedAt}, nil
}

// SigningKeys lists a tenant's signing keys.
func (s *Service) SigningKeys(ctx context.Context, tenantID string) ([]*SigningKeyInfo, error) {
	ks, err := s.db.SigningKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []*SigningKeyInfo{}
	for _, k := range ks {
		out = append(out, &SigningKeyInfo{Kind: k.Kind, Fingerprint: k.Fingerprint, CreatedAt: k.CreatedAt})
	}
	return out, nil
}

// DeleteSigningKey removes a tenant's signing key: later messages go unsigned.
func (s *Service) DeleteSigningKey(ctx context.Context, tenantID, kind string) error {
	if err := s.db.DeleteSigningKey(ctx, tenantID, kind); err != nil {
		return err
	}
	s.forgetSigners(tenantID)
	return nil
}

func (s *Service) forgetSigners(tenantID string) {
	s.mu.Lock()
	delete(s.signers, tenantID)
	s.mu.Unlock()
}

// tenantSigners returns the tenant's parsed signing keys (nil fields: none).
func (s *Service) tenantSigners(ctx context.Context, tenantID string) (*signers, error) {
	s.mu.Lock()
	sg := s.signers[tenantID]
	s.mu.Unlock()
	if sg != nil && s.now().Sub(sg.loaded) < policyTTL {
		return sg, nil
	}
	ks, err := s.db.SigningKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	sg = &signers{loaded: s.now()}
	if len(ks) > 0 {
		keys, err := s.tenants.Keys(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			b, err := keys.Data.Open(k.Data, "signing-key/"+tenantID+"/"+k.Kind)
			if err != nil {
				return nil, err
			}
			var d signingData
			if err := json.Unmarshal(b, &d); err != nil {
				return nil, err
			}
			switch k.Kind {
			case KindPGP:
				sg.pgp, err = pgpmime.NewSigner(d.PrivateKey, d.Passphrase)
			case KindSMIME:
				sg.smime, err = parseSMIMESigner(d.Certificate, d.PrivateKey)
			}
			if err != nil {
				return nil, fmt.Errorf("tenant %s signing key: %w", k.Kind, err)
			}
		}
	}
	s.mu.Lock()
	s.signers[tenantID] = sg
	s.mu.Unlock()
	return sg, nil
}

// parseSMIMESigner reads a PEM certificate chain (leaf first) and its private key.
func parseSMIMESigner(chainPEM, keyPEM []byte) (*smime.Signer, error) {
	var chain []*x509.Certificate
	for rest := chainPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, &KeyError{"certificate", "cannot be read: " + err.Error()}
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, &KeyError{"certificate", "no PEM certificate"}
	}
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return nil, &KeyError{"private_key", "no PEM private key"}
	}
	key, err := parsePrivateKey(b.Bytes)
	if err != nil {
		return nil, &KeyError{"private_key", "cannot be read: " + err.Error()}
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(chain[0].PublicKey) {
		return nil, &KeyError{"private_key", "does not match the certificate"}
	}
	return &smime.Signer{Cert: chain[0], Key: key, Chain: chain[1:]}, nil
}

func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("not a PKCS#8, PKCS#1 or EC private key")
}
