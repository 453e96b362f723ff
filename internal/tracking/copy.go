package tracking

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	gomessage "github.com/emersion/go-message"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Rule says what may be tracked in one copy, and why not when nothing may; the rule
// itself is the policy's (policy.TrackRule), so the preview and delivery agree.
// allowPHI is what the tenant's policy said when the message was accepted.
func Rule(track *pipeline.Track, method string, dlp []byte, allowPHI bool) (Options, string) {
	if track == nil {
		track = &pipeline.Track{}
	}
	opens, clicks, why := policy.TrackRule(track.Opens, track.Clicks, policy.Method(method), hasFindings(dlp), allowPHI)
	return Options{Opens: opens, Clicks: clicks}, why
}

func hasFindings(dlp []byte) bool {
	s := strings.TrimSpace(string(dlp))
	return s != "" && s != "[]" && s != "null"
}

// Copy returns one recipient's copy with tracking added where Rule allows it, and raw
// unchanged otherwise. A failure to add it sends the copy untracked: tracking is never
// a reason to hold mail back.
func (s *Service) Copy(ctx context.Context, keys *tenant.Keys, m *store.Message, env *pipeline.Envelope, recipientID, method string, raw []byte) []byte {
	o, _ := Rule(env.Track, method, m.DLP, env.TrackPHI)
	if !o.Opens && !o.Clicks {
		return raw
	}
	o.Skip = s.skip
	var out []byte
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		out, err = rewriteMIME(raw, func(html string) (string, error) {
			return s.Prepare(ctx, tx, keys, m.TenantID, m.ID, recipientID, html, o)
		})
		return err
	})
	if err != nil {
		s.log.Warn("tracking not added", "message", m.ID, "recipient", recipientID, "err", err)
		return raw
	}
	return out
}

// skip keeps portal links as they are.
func (s *Service) skip(href string) bool {
	return s.portal != "" && strings.HasPrefix(href, s.portal)
}

// rewriteMIME rebuilds a message with each text/html part passed through fn.
func rewriteMIME(raw []byte, fn func(string) (string, error)) ([]byte, error) {
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeEntity(&buf, e, fn); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeEntity(w io.Writer, e *gomessage.Entity, fn func(string) (string, error)) error {
	mw, err := gomessage.CreateWriter(w, e.Header)
	if err != nil {
		return err
	}
	if err := writeBody(mw, e, fn); err != nil {
		return err
	}
	return mw.Close()
}

// writeBody writes a part's body, rewriting it if it is HTML, recursing into nested
// multiparts.
func writeBody(w *gomessage.Writer, e *gomessage.Entity, fn func(string) (string, error)) error {
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			pw, err := w.CreatePart(p.Header)
			if err != nil {
				return err
			}
			if err := writeBody(pw, p, fn); err != nil {
				return err
			}
			pw.Close()
		}
	}
	ct, _, _ := e.Header.ContentType()
	if ct != "text/html" {
		_, err := io.Copy(w, e.Body)
		return err
	}
	b, err := io.ReadAll(io.LimitReader(e.Body, 64<<20))
	if err != nil {
		return err
	}
	out, err := fn(string(b))
	if err != nil {
		return fmt.Errorf("rewrite html: %w", err)
	}
	_, err = io.WriteString(w, out)
	return err
}
