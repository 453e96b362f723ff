package seal

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Keyring holds master keys. The last key is primary: new tenant keys are wrapped with it.
// Older keys stay until every tenant key has been re-wrapped, so a rotation interrupted
// at any point leaves every wrapped key readable.
type Keyring struct {
	ids  []string
	keys map[string]cipher.AEAD
	raw  map[string][]byte
}

// KeyID names a master key by the start of its SHA-256, so the id reveals nothing.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("sealpost master key id\x00"), key...))
	return hex.EncodeToString(sum[:6])
}

// NewKeyring builds a keyring from raw keys, the last one primary.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("no master key")
	}
	kr := &Keyring{keys: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	for _, k := range keys {
		if err := kr.add(k); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

func (kr *Keyring) add(key []byte) error {
	aead, err := newGCM(key)
	if err != nil {
		return err
	}
	id := KeyID(key)
	if _, dup := kr.keys[id]; dup {
		return nil
	}
	kr.ids = append(kr.ids, id)
	kr.keys[id] = aead
	kr.raw[id] = append([]byte(nil), key...)
	return nil
}

// GenerateMasterKey returns a new random master key.
func GenerateMasterKey() []byte { return NewDataKeyBytes() }

// PrimaryID is the id of the key new wraps use.
func (kr *Keyring) PrimaryID() string { return kr.ids[len(kr.ids)-1] }

// IDs lists key ids, oldest first.
func (kr *Keyring) IDs() []string { return append([]string(nil), kr.ids...) }

// Wrap encrypts a tenant data key under the primary master key, bound to the tenant.
func (kr *Keyring) Wrap(dataKey []byte, tenantID string) (masterID string, wrapped []byte) {
	id := kr.PrimaryID()
	return id, sealWith(kr.keys[id], dataKey, "tenant-key/"+tenantID)
}

// Unwrap decrypts a tenant data key wrapped by the named master key.
func (kr *Keyring) Unwrap(masterID string, wrapped []byte, tenantID string) ([]byte, error) {
	aead, ok := kr.keys[masterID]
	if !ok {
		return nil, fmt.Errorf("master key %s is not in the keyring", masterID)
	}
	return openWith(aead, wrapped, "tenant-key/"+tenantID)
}

// ParseKey decodes one base64 master key.
func ParseKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != KeySize {
		return nil, fmt.Errorf("a master key is %d bytes in standard base64", KeySize)
	}
	return k, nil
}

// EncodeKey is the text form of a master key.
func EncodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// ParseKeyring reads a key file: one base64 key per line, last is primary, '#' comments.
func ParseKeyring(data []byte) (*Keyring, error) {
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, fmt.Errorf("key file line %d: %w", n, err)
		}
		keys = append(keys, k)
	}
	return NewKeyring(keys...)
}

// LoadKeyring reads a key file, refusing one that others can read.
func LoadKeyring(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's configured master key file
	if err != nil {
		return nil, err
	}
	return ParseKeyring(data)
}

// Marshal is the key file form of the keyring.
func (kr *Keyring) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("# Sealpost master keys: the last line is primary. Keep a copy offline.\n")
	for _, id := range kr.ids {
		fmt.Fprintf(&b, "%s\n", EncodeKey(kr.raw[id]))
	}
	return b.Bytes()
}

// WithNewPrimary returns a keyring that adds a fresh primary key.
func (kr *Keyring) WithNewPrimary() *Keyring {
	keys := make([][]byte, 0, len(kr.ids)+1)
	for _, id := range kr.ids {
		keys = append(keys, kr.raw[id])
	}
	nk, _ := NewKeyring(append(keys, GenerateMasterKey())...)
	return nk
}

// OnlyPrimary returns a keyring holding just the primary key (after a finished rotation).
func (kr *Keyring) OnlyPrimary() *Keyring {
	nk, _ := NewKeyring(kr.raw[kr.PrimaryID()])
	return nk
}

// WriteKeyFile writes a key file durably: temp file, fsync, rename, fsync directory.
func WriteKeyFile(path string, kr *Keyring) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".masterkey-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(kr.Marshal()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir) // #nosec G304 -- the key file's own directory, opened to fsync it
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// RandomBytes is a helper for ids and secrets.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("seal: no randomness: " + err.Error())
	}
	return b
}
