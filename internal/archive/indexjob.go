package archive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// The index job. An entry is written by the accepting transaction with its content
// and what only the accepting face knows; the entry row itself, with indexed_at
// unset, is its index job, so it cannot be lost between accepting and indexing. The
// job parses the message, seals its description and adds its blind-index terms; until
// it ran, a search by words does not find the entry (one by date or direction does).

// indexBatch is how many entries one index write covers: small enough that the
// writer is not held long while accepts wait.
const indexBatch = 16

// wholeParseBytes is the largest message the index job opens whole for the portal's
// parser; a larger one is read a piece at a time and only its headers, its first
// text body and its attachment names are kept.
var wholeParseBytes int64 = 8 << 20

// IndexPending indexes the entries waiting for it, a batch per write, until none wait.
// It returns how many it indexed. Several processes may run it: an entry is indexed
// by the first write that finds it still waiting.
func (s *Service) IndexPending(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := s.indexBatch(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// indexShare is the share of time the worker's index job takes while mail is being
// accepted: after a batch that took d it rests d*(1-share)/share. Indexing writes many
// rows (a term per distinct word), and on SQLite every write takes the one writer that
// accepting needs too; paced, the job leaves accepting nearly all of it during a burst.
// When no entry arrived since the last batch it runs unpaced and catches up. Entries
// are durable from the start and found by date at once; only their words wait.
const indexShare = 0.1

// RunIndexer indexes waiting entries a batch at a time, paced while new entries keep
// arriving, and looks for new ones every interval, until ctx ends.
func (s *Service) RunIndexer(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	var seen time.Time // the newest waiting entry at the last look
	for {
		start := time.Now()
		_, more, err := s.indexBatch(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("archive index job failed", "err", err)
		}
		rest := every
		if more && err == nil {
			rest = 0
			if newest, err := s.db.NewestPendingArchiveAt(ctx); err == nil && newest.After(seen) {
				if !seen.IsZero() {
					rest = time.Duration(float64(time.Since(start)) * (1 - indexShare) / indexShare)
				}
				seen = newest
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(rest):
		}
	}
}

// keyRetry is how long the index job leaves aside a tenant whose key it could not
// open (a master key missing from the keyring, say) before it tries again: its entries
// wait, and the other tenants' are indexed meanwhile.
const keyRetry = 5 * time.Minute

func (s *Service) indexBatch(ctx context.Context) (n int, more bool, err error) {
	pending, err := s.db.PendingArchiveEntries(ctx, indexBatch, s.tenantsAside()...)
	if err != nil || len(pending) == 0 {
		return 0, false, err
	}
	type tenantKeys struct {
		keys     *tenant.Keys
		shredded bool
	}
	keyring := map[string]tenantKeys{}
	var out []store.IndexedEntry
	for _, e := range pending {
		tk, seen := keyring[e.TenantID]
		if !seen {
			keys, err := s.keys.Keys(ctx, e.TenantID)
			switch {
			case err == nil:
				tk.keys = keys
			case errors.Is(err, tenant.ErrShredded):
				tk.shredded = true
				s.log.Info("archive entries of a shredded tenant indexed without terms", "tenant", e.TenantID)
			default:
				s.setAside(e.TenantID)
				s.log.Warn("archive index job leaves a tenant aside: its key cannot be opened", "tenant", e.TenantID, "retry_in", keyRetry, "err", err)
			}
			keyring[e.TenantID] = tk
		}
		var ix *store.IndexedEntry
		switch {
		case tk.keys != nil:
			var err error
			if ix, err = s.index(ctx, tk.keys, e); err != nil {
				// An entry that cannot be opened stays archived and is named by verify;
				// it is marked indexed with no terms so the job does not retry it forever.
				s.log.Warn("archive entry not indexed", "entry", e.ID, "err", err)
				ix = &store.IndexedEntry{ID: e.ID, Meta: e.Meta}
			}
		case tk.shredded:
			// Its content can never be opened again: no terms, and the job moves on.
			ix = &store.IndexedEntry{ID: e.ID, Meta: e.Meta}
		default:
			continue // set aside until keyRetry has passed
		}
		out = append(out, *ix)
	}
	now := s.now()
	// Rerunnable: it only sets n again.
	err = s.db.Write(store.Rerunnable(ctx), func(ctx context.Context, tx *store.Tx) error {
		var err error
		n, err = tx.FinishArchiveIndex(ctx, out, now)
		return err
	})
	return n, len(pending) == indexBatch, err
}

// index reads one entry and returns its sealed description and its terms.
func (s *Service) index(ctx context.Context, keys *tenant.Keys, e *store.ArchiveEntry) (*store.IndexedEntry, error) {
	dk, err := open(keys, e)
	if err != nil {
		return nil, err
	}
	pending, err := OpenMeta(keys, e)
	if err != nil {
		return nil, err
	}
	var parsed *view.Message
	var attachments []string
	if e.Size <= wholeParseBytes {
		var raw []byte
		if raw, err = openWhole(ctx, s.db, dk, e); err != nil {
			return nil, err
		}
		// The portal's parser reads headers and text as the viewer shows them; parts
		// larger than indexTextBytes are left out.
		parsed, err = view.Parse(raw, view.Limits{MaxPartBytes: indexTextBytes})
		attachments = attachmentNames(raw)
	} else {
		parsed, attachments, err = s.parseLarge(ctx, dk, e)
	}
	if err != nil || parsed == nil {
		parsed = &view.Message{} // still archived, found by date, direction and tags
	}
	rec := &Record{Direction: e.Direction, Tags: pending.Tags, Campaign: pending.Campaign, Recipients: pending.To}
	meta := Meta{From: parsed.From, Subject: parsed.Subject, Date: parsed.Date, MessageID: parsed.MessageID,
		Tags: pending.Tags, Campaign: pending.Campaign, To: recipients(parsed, pending.To), Attachments: attachments}
	metaJSON, _ := json.Marshal(meta)
	return &store.IndexedEntry{ID: e.ID, Meta: dk.Seal(metaJSON, metaBinding(e.ID)),
		Terms: newIndexer(keys).entryTerms(parsed, rec, meta.To, meta.Attachments)}, nil
}

// parseLarge reads a large message a piece at a time: its header, the first text
// body (text/plain preferred) up to indexTextBytes and the attachments' names. The
// portal's parser then reads a small message made of that header and body, so words
// are found alike in large and small messages.
func (s *Service) parseLarge(ctx context.Context, dk *seal.DataKey, e *store.ArchiveEntry) (*view.Message, []string, error) {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(eachPiece(ctx, s.db, dk, e, func(b []byte) error { _, err := pw.Write(b); return err }))
	}()
	defer pr.Close()
	br := bufio.NewReaderSize(pr, 64<<10)
	head, err := br.Peek(min(br.Size(), int(e.Size)))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return nil, nil, err
	}
	mr, err := mail.CreateReader(br)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	var text, htmlText []byte
	for range maxIndexParts {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		switch ph := p.Header.(type) {
		case *mail.AttachmentHeader:
			if name, err := ph.Filename(); err == nil && name != "" {
				names = append(names, name)
			}
		case *mail.InlineHeader:
			mt, _, _ := ph.ContentType()
			switch {
			case mt == "text/plain" && text == nil:
				text, _ = io.ReadAll(io.LimitReader(p.Body, indexTextBytes))
			case mt == "text/html" && htmlText == nil:
				htmlText, _ = io.ReadAll(io.LimitReader(p.Body, indexTextBytes))
			}
		}
	}
	body, ctype := text, "text/plain; charset=utf-8"
	if body == nil {
		body, ctype = htmlText, "text/html; charset=utf-8"
	}
	h.Del("Content-Type")
	h.Del("Content-Transfer-Encoding")
	h.Set("Content-Type", ctype)
	var small bytes.Buffer
	if err := textproto.WriteHeader(&small, h); err != nil {
		return nil, nil, err
	}
	small.Write(body)
	m, err := view.Parse(small.Bytes(), view.Limits{MaxPartBytes: indexTextBytes})
	return m, names, err
}

// setAside leaves a tenant's entries out of the index job for keyRetry.
func (s *Service) setAside(tenantID string) {
	s.asideMu.Lock()
	defer s.asideMu.Unlock()
	if s.aside == nil {
		s.aside = map[string]time.Time{}
	}
	s.aside[tenantID] = s.now().Add(keyRetry)
}

// tenantsAside lists the tenants left aside now, forgetting those whose time is up.
func (s *Service) tenantsAside() []string {
	s.asideMu.Lock()
	defer s.asideMu.Unlock()
	var out []string
	now := s.now()
	for t, until := range s.aside {
		if now.Before(until) {
			out = append(out, t)
		} else {
			delete(s.aside, t)
		}
	}
	return out
}
