package tenant

import (
	"context"
	"crypto/subtle"
)

// AuthenticateBasic resolves HTTP Basic credentials — an API key's id as the user name
// and its secret as the password — to the key's principal, with the same checks as a
// bearer key. A secret presented under another key's id is refused like a wrong one.
func (s *Service) AuthenticateBasic(ctx context.Context, keyID, secret string) (*Principal, error) {
	if len(keyID) > 128 || len(secret) > 256 {
		return nil, ErrBadCredentials
	}
	p, err := s.Authenticate(ctx, secret)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(p.KeyID), []byte(keyID)) != 1 {
		return nil, ErrBadCredentials
	}
	return p, nil
}
