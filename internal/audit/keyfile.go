package audit

import (
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LoadOrCreateSigner reads the checkpoint signing key from path, creating it (mode 0600)
// if it does not exist. Processes sharing a database must share this file; keep its
// public key (`sealpost audit pubkey`) outside the system to verify checkpoints.
func LoadOrCreateSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator's configured key file
	if errors.Is(err, os.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- as above
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateSigner(path) // another process made it first
		}
		if err != nil {
			return nil, err
		}
		werr := pem.Encode(f, &pem.Block{Type: "SEALPOST AUDIT SIGNING KEY", Bytes: priv.Seed()})
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, err
		}
		return &Signer{Key: priv}, nil
	}
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "SEALPOST AUDIT SIGNING KEY" || len(blk.Bytes) != ed25519.SeedSize {
		// A file being written by another process right now reads short; say so plainly.
		return nil, fmt.Errorf("audit key file %s is not a Sealpost audit signing key", path)
	}
	return &Signer{Key: ed25519.NewKeyFromSeed(blk.Bytes)}, nil
}
