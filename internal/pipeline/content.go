package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
)

// A built message is sealed in pieces of chunkSize bytes. The database drivers copy
// every value they bind or read, and SQLite builds each row around its values, so a
// message stored whole cost several times its size on the way in and again on the
// way out; in pieces, those copies are a piece each.
const chunkSize = 1 << 20

// firstPiece is the first piece's starting capacity.
const firstPiece = 32 << 10

// Bindings: a message of one piece keeps the binding it always had; the pieces of a
// longer one are numbered and the last says so, so a piece moved, reordered or
// dropped (the message cut short) fails to open.
func chunkBinding(id string, i int, last bool) string {
	switch {
	case i == 0 && last:
		return "message/" + id + "/content"
	case last:
		return "message/" + id + "/content/" + strconv.Itoa(i) + "/last"
	}
	return "message/" + id + "/content/" + strconv.Itoa(i)
}

// contentWriter seals what the MIME writer produces, a piece at a time, each sealed
// in the buffer it was written into: the plaintext is never held whole.
type contentWriter struct {
	key    *seal.DataKey
	id     string
	limit  int // built bytes allowed; past it Write fails with errTooLarge
	n      int
	cur    []byte   // seal.InPlacePrefix, then up to chunkSize of plaintext
	sealed [][]byte // pieces sealed so far
}

var errTooLarge = errors.New("built message over the limit")

func newContentWriter(key *seal.DataKey, id string, limit int) *contentWriter {
	return &contentWriter{key: key, id: id, limit: limit}
}

// expect sizes the first piece for a message of about n bytes, so that building it
// does not grow the buffer again and again (nor start far larger than it needs).
func (w *contentWriter) expect(n int) {
	if w.cur == nil && len(w.sealed) == 0 && n > 0 {
		size := min(n, chunkSize)
		w.cur = make([]byte, seal.InPlacePrefix, seal.InPlacePrefix+size+seal.InPlaceSuffix)
	}
}

func (w *contentWriter) Write(p []byte) (int, error) {
	total := len(p)
	w.n += total
	if w.limit > 0 && w.n > w.limit {
		return 0, errTooLarge
	}
	for len(p) > 0 {
		if w.cur != nil && len(w.cur) == seal.InPlacePrefix+chunkSize {
			// A full piece is sealed only once more follows: the last one is sealed
			// as the last.
			w.sealed = append(w.sealed, w.key.SealInPlace(w.cur, chunkBinding(w.id, len(w.sealed), false)))
			w.cur = nil
		}
		if w.cur == nil {
			// Most messages are a few kilobytes: the first piece starts small and grows
			// as written, so a small message does not cost a whole piece's buffer.
			size := chunkSize
			if len(w.sealed) == 0 {
				size = firstPiece
			}
			w.cur = make([]byte, seal.InPlacePrefix, seal.InPlacePrefix+size+seal.InPlaceSuffix)
		}
		k := min(len(p), seal.InPlacePrefix+chunkSize-len(w.cur))
		w.cur = append(w.cur, p[:k]...)
		p = p[k:]
	}
	return total, nil
}

// finish seals the last piece and returns the first piece and the rest.
func (w *contentWriter) finish() (first []byte, rest [][]byte) {
	if w.cur == nil {
		w.cur = make([]byte, seal.InPlacePrefix, seal.InPlacePrefix+seal.InPlaceSuffix)
	}
	w.sealed = append(w.sealed, w.key.SealInPlace(w.cur, chunkBinding(w.id, len(w.sealed), true)))
	w.cur = nil
	return w.sealed[0], w.sealed[1:]
}

// OpenContent opens a stored message's content into one buffer of its size, reading
// its pieces one at a time. m is as DB.Message loads it; purged content is an error.
func OpenContent(ctx context.Context, db *store.DB, key *seal.DataKey, m *store.Message) ([]byte, error) {
	if m.Content == nil {
		return nil, errors.New("message content purged")
	}
	if m.Size <= chunkSize {
		// One piece, sealed as the last: no other piece to look for. (Were the size
		// understated, opening it as the last would fail.)
		out, err := key.OpenAppend(make([]byte, 0, m.Size), m.Content, chunkBinding(m.ID, 0, true))
		if err != nil {
			return nil, fmt.Errorf("open content piece 0: %w", err)
		}
		return out, nil
	}
	out := make([]byte, 0, m.Size)
	pending, i := m.Content, 0
	err := db.ContentChunks(ctx, m.ID, func(sealed []byte) error {
		var err error
		if out, err = key.OpenAppend(out, pending, chunkBinding(m.ID, i, false)); err != nil {
			return fmt.Errorf("open content piece %d: %w", i, err)
		}
		pending, i = sealed, i+1
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out, err = key.OpenAppend(out, pending, chunkBinding(m.ID, i, true)); err != nil {
		return nil, fmt.Errorf("open content piece %d: %w", i, err)
	}
	return out, nil
}
