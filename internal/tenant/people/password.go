package people

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/sealpost/sealpost/internal/seal"
)

// Password rules under NIST SP 800-63B (rev. 4, §3.1.1.2): a minimum length and a
// generous maximum, every printable character and space allowed, no composition rules,
// Unicode normalised (NFKC) before hashing, and a check against passwords known to be
// common or breached, dictionary-like, repetitive, sequential or about the service.
// With a second factor always required, 800-63B asks for 8 characters; 12 is ours.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// common holds the passwords that head public breach-frequency rankings, lowercased,
// with their most common variants reduced to a base word (see checkPassword). It is a
// list of facts written out for this project, not a copy of any published file.
//
//go:embed common-passwords.txt
var commonList []byte

var common = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(commonList))
	for sc.Scan() {
		w := strings.TrimSpace(sc.Text())
		if w != "" && !strings.HasPrefix(w, "#") {
			m[w] = true
		}
	}
	return m
}()

// PasswordProblem is why a password was refused; its text is safe to show.
type PasswordProblem struct{ Msg string }

func (p *PasswordProblem) Error() string { return p.Msg }

// CheckPassword applies the rules. context holds words a guesser would try first for
// this account: its address, the person's name, the organisation.
func CheckPassword(pw string, context ...string) error {
	pw = norm.NFKC.String(pw)
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return &PasswordProblem{"the password is not valid text"}
	case n < MinPasswordLen:
		return &PasswordProblem{fmt.Sprintf("use at least %d characters (a few unrelated words work well)", MinPasswordLen)}
	case n > MaxPasswordLen:
		return &PasswordProblem{fmt.Sprintf("use at most %d characters", MaxPasswordLen)}
	}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return &PasswordProblem{"the password contains a control character"}
		}
	}
	low := strings.ToLower(pw)
	if common[low] || common[base(low)] || common[base(unleet(base(low)))] || common[base(unleet(low))] {
		return &PasswordProblem{"this password is among the most commonly used and breached ones; choose another"}
	}
	if repetitive(low) {
		return &PasswordProblem{"the password repeats or runs in sequence; choose another"}
	}
	words := append([]string{"sealpost"}, context...)
	for _, c := range words {
		for _, w := range strings.FieldsFunc(strings.ToLower(c), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if len(w) >= 4 && strings.Contains(low, w) && len(strings.ReplaceAll(low, w, "")) < MinPasswordLen {
				return &PasswordProblem{"the password is mostly your name, address or organisation; choose another"}
			}
		}
	}
	return nil
}

// base strips what people add around a common word: digits, symbols and spaces.
func base(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
}

// unleet undoes the usual letter-for-digit swaps.
func unleet(s string) string {
	return strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i").Replace(s)
}

// repetitive reports a password made of one short unit repeated ("abcabcabcabc") or
// of a run of consecutive characters ("123456789012", "qwertyuiopas").
func repetitive(s string) bool {
	rs := []rune(s)
	for unit := 1; unit <= 4; unit++ {
		same := true
		for i := unit; i < len(rs); i++ {
			if rs[i] != rs[i-unit] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	const rows = "abcdefghijklmnopqrstuvwxyz 01234567890 qwertyuiop asdfghjkl zxcvbnm 1qaz2wsx3edc4rfv"
	steps := 0
	for i := 1; i < len(rs); i++ {
		if rs[i]-rs[i-1] == 1 || rs[i]-rs[i-1] == -1 || strings.Contains(rows, string(rs[i-1:i+1])) {
			steps++
		}
	}
	return steps >= len(rs)-2
}

// argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane), salted; the
// parameters are stored with the hash so they can grow later.
const (
	argonTime   = 2
	argonMemory = 19 * 1024
	argonLanes  = 1
	argonKeyLen = 32
)

// HashPassword returns an encoded argon2id hash of the normalised password.
func HashPassword(pw string) []byte {
	salt := seal.RandomBytes(16)
	key := argon2.IDKey([]byte(norm.NFKC.String(pw)), salt, argonTime, argonMemory, argonLanes, argonKeyLen)
	return fmt.Appendf(nil, "$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonLanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword compares in constant time. An empty or malformed hash never matches
// but costs the same, so an unknown account answers as slowly as a known one.
func VerifyPassword(encoded []byte, pw string) bool {
	var v, m, t int
	var p uint8
	parts := strings.Split(string(encoded), "$")
	salt, key := []byte("sealpost-nothing"), make([]byte, argonKeyLen)
	ok := len(parts) == 6 && parts[1] == "argon2id"
	if ok {
		_, e1 := fmt.Sscanf(parts[2], "v=%d", &v)
		_, e2 := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p)
		s, e3 := base64.RawStdEncoding.DecodeString(parts[4])
		k, e4 := base64.RawStdEncoding.DecodeString(parts[5])
		ok = e1 == nil && e2 == nil && e3 == nil && e4 == nil && v == argon2.Version && m > 0 && m <= 256*1024 && t > 0 && t <= 10 && p > 0 && len(k) == argonKeyLen
		if ok {
			salt, key = s, k
		}
	}
	if !ok {
		m, t, p = argonMemory, argonTime, argonLanes
	}
	got := argon2.IDKey([]byte(norm.NFKC.String(pw)), salt, uint32(t), uint32(m), p, argonKeyLen) // #nosec G115 -- bounded above
	return subtle.ConstantTimeCompare(got, key) == 1 && ok
}
