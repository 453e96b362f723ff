// Package archive is the sealed journal of mail in and out: every accepted message is
// copied into it in the transaction that accepts it, sealed under a key of its own,
// its digest committed to the audit chain; it keeps retention rules and legal holds,
// searches a blind index, exports signed bundles and verifies itself.
package archive

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Directions of an entry.
const (
	Outbound = "out"
	Inbound  = "in"
)

// Audit actions the archive records.
const (
	ActionJournal     = "archive.journal"
	ActionSearch      = "archive.search"
	ActionView        = "archive.view"
	ActionExport      = "archive.export"
	ActionHold        = "archive.hold"
	ActionReleaseHold = "archive.release-hold"
	ActionRetention   = "archive.retention"
	ActionPurge       = "archive.purge"
)

// Keyer gives a tenant's working keys.
type Keyer interface {
	Keys(ctx context.Context, tenantID string) (*tenant.Keys, error)
}

// Service is the archive.
type Service struct {
	db   *store.DB
	keys Keyer
	log  *slog.Logger
	now  func() time.Time

	asideMu sync.Mutex
	aside   map[string]time.Time // tenants the index job leaves aside, until when
}

// New builds the archive over db.
func New(db *store.DB, keys Keyer, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, keys: keys, log: log, now: time.Now}
}

// Record is one message to journal.
type Record struct {
	TenantID  string
	MessageID string // Sealpost's message id, when there is one
	Direction string // Outbound or Inbound
	At        time.Time
	Principal string // who handed it in: API key id, SMTP user, "system"
	// Recipients are the envelope recipients: Bcc recipients appear nowhere else.
	Recipients []string
	Tags       []string
	Campaign   string
	Raw        []byte // the message as sent or received (RFC 5322)
}

// Meta is the sealed description of an entry shown in search results.
type Meta struct {
	From        string    `json:"from"`
	To          []string  `json:"to"`
	Subject     string    `json:"subject"`
	Date        time.Time `json:"date,omitzero"`
	MessageID   string    `json:"message_id,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Campaign    string    `json:"campaign,omitempty"`
	Attachments []string  `json:"attachments,omitempty"`
}

// recipients lists the envelope recipients, or, when none were given (mail read back
// from elsewhere), the header's.
func recipients(m *view.Message, envelope []string) []string {
	if len(envelope) > 0 {
		out := make([]string, 0, len(envelope))
		for _, a := range envelope {
			out = append(out, strings.ToLower(strings.TrimSpace(a)))
		}
		return out
	}
	return addresses(m.To + ", " + m.Cc)
}

func labels(keys *tenant.Keys, tags []string, campaign string) string {
	var ls []string
	for _, t := range tags {
		ls = append(ls, "t:"+LabelHash(keys, "tag", t))
	}
	if campaign != "" {
		ls = append(ls, "c:"+LabelHash(keys, "campaign", campaign))
	}
	return strings.Join(ls, " ")
}

// LabelHash is the keyed hash that stands for a tag or campaign: the same value the
// message rows keep, so rules written for either match alike.
func LabelHash(keys *tenant.Keys, kind, label string) string {
	return hex.EncodeToString(keys.Hash("label/"+kind, label)[:16])
}

// SealedSum is SHA-256 over a version 1 entry's sealed values, each length-prefixed:
// it stays on the row when a purge deletes them, so the digest can still be
// recomputed. Version 2 entries sum their pieces instead (sealedSum).
func SealedSum(e *store.ArchiveEntry) []byte {
	h := sha256.New()
	for _, b := range [][]byte{e.KeyWrapped, e.Content, e.Meta} {
		sumPiece(h, b)
	}
	return h.Sum(nil)
}

// sumPiece adds one length-prefixed sealed value to a sealed sum.
func sumPiece(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b))) // #nosec G115 -- values are far below 4 GiB
	h.Write(n[:])
	h.Write(b)
}

// Digest is what the audit chain records for an entry: SHA-256 over a version tag,
// every field of the row that is not sealed and its sealed sum.
func Digest(e *store.ArchiveEntry) []byte {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(s))) // #nosec G115 -- short fields
		h.Write(n[:4])
		h.Write([]byte(s))
	}
	if e.Version >= 2 {
		field("sealpost.archive.v2")
	} else {
		field("sealpost.archive.v1")
	}
	for _, s := range []string{e.ID, e.TenantID, e.Direction, e.MessageID, e.Labels} {
		field(s)
	}
	binary.BigEndian.PutUint64(n[:], uint64(e.At.UnixMilli())) // #nosec G115 -- two's-complement bytes by design
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.Size)) // #nosec G115 -- as above
	h.Write(n[:])
	h.Write(e.SealedSum)
	return h.Sum(nil)
}

// ErrPurged is returned for an entry whose key was shredded.
var ErrPurged = errors.New("archive entry purged: its content is destroyed")

// open returns an entry's data key; the entry must carry its sealed values.
func open(keys *tenant.Keys, e *store.ArchiveEntry) (*seal.DataKey, error) {
	if e.KeyWrapped == nil || !e.PurgedAt.IsZero() {
		return nil, ErrPurged
	}
	raw, err := keys.Data.Open(e.KeyWrapped, "archive/"+e.ID+"/key")
	if err != nil {
		return nil, err
	}
	return seal.NewDataKey(raw)
}

// OpenMeta returns an entry's description.
func OpenMeta(keys *tenant.Keys, e *store.ArchiveEntry) (*Meta, error) {
	dk, err := open(keys, e)
	if err != nil {
		return nil, err
	}
	if e.Meta == nil {
		return nil, ErrPurged
	}
	b, err := dk.Open(e.Meta, "archive/"+e.ID+"/meta")
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
