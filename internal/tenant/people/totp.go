package people

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sealpost/sealpost/internal/seal"
)

// TOTP under RFC 6238 with the parameters every authenticator app reads from the
// otpauth URI: SHA-1, six digits, 30-second steps.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPKey makes a secret for an account and the otpauth URI that carries it.
func NewTOTPKey(issuer, account string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// matchTOTP returns the time step whose code equals code, looking one step either side
// of now for clock drift (RFC 6238 §5.2), or 0. Every candidate is computed and
// compared in constant time.
func matchTOTP(secret, code string, now time.Time) int64 {
	code = strings.TrimSpace(code)
	var found int64
	for d := -1; d <= 1; d++ {
		t := now.Add(time.Duration(d) * 30 * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err != nil {
			return 0
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = t.Unix() / 30
		}
	}
	return found
}

// TOTPCode is the code for secret at t; tests and the CLI's checks use it.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// recoveryCount recovery codes are made at enrolment, each 80 random bits.
const recoveryCount = 10

func newRecoveryCodes() []string {
	var out []string
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for range recoveryCount {
		s := strings.ToLower(enc.EncodeToString(seal.RandomBytes(10)))
		out = append(out, s[:4]+"-"+s[4:8]+"-"+s[8:12]+"-"+s[12:16])
	}
	return out
}

// recoveryHash is how a recovery code is kept: 80 random bits need no slow hash.
func recoveryHash(userID, code string) []byte {
	code = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	h := sha256.Sum256([]byte("sealpost recovery\x00" + userID + "\x00" + code))
	return h[:]
}
