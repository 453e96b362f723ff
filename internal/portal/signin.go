package portal

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/portal/pages"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
)

// maxFormBytes bounds the small sign-in forms.
const maxFormBytes = 8 << 10

// verify checks an emailed code. Whether it opens the copy is decided by the database
// in one statement with the lock (on the copy or on the client's address) and the
// code's single use, so once locked even the right code opens nothing, and a code
// sent by many requests at once opens one session.
func (s *Service) verify(q *request) error {
	if q.copy.PassphraseHash != nil {
		return q.redirect("")
	}
	return s.attempt(q, "code", func(v string) ([]byte, bool) { return q.copy.CodeHash, s.checkCode(q.keys, q.copy, v) }, "code")
}

// passphrase checks the passphrase the sender shared with the recipient.
func (s *Service) passphrase(q *request) error {
	if q.copy.PassphraseHash == nil {
		return q.redirect("")
	}
	return s.attempt(q, "passphrase", func(v string) ([]byte, bool) { return nil, secureline.CheckPassphrase(q.copy.PassphraseHash, v) }, "passphrase")
}

// attempt checks one code or passphrase. check says whether the value matches and, for
// a code, which code it matched. A match signs in only if the store still agrees (the
// code unused, nothing locked); anything else is a failure, counted only while
// nothing is locked. The lock read first just spares the work when the answer is plain.
func (s *Service) attempt(q *request, field string, check func(string) ([]byte, bool), how string) error {
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, maxFormBytes)
	if err := q.r.ParseForm(); err != nil {
		return s.pages.Render(q.w, http.StatusBadRequest, &pages.Problem{Page: q.page("Request not understood"), Heading: "Request not understood",
			Detail: "The form could not be read. Please go back and try again.", Back: q.prefix})
	}
	client := clientIP(q.r)
	until, err := s.lock(q.ctx, q.copy, client)
	if err != nil {
		return err
	}
	if !until.IsZero() {
		return s.locked(q, until)
	}
	if how == "passphrase" {
		// An argon2id check takes 19 MiB and tens of milliseconds. At most a few run
		// at once, and each looks at the lock again once it has its turn: a burst of
		// guesses can neither exhaust memory nor keep costing work after the lock.
		select {
		case s.passSlots <- struct{}{}:
		case <-q.ctx.Done():
			return q.ctx.Err()
		}
		until, err := s.lock(q.ctx, q.copy, client)
		if err != nil || !until.IsZero() {
			<-s.passSlots
			if err != nil {
				return err
			}
			return s.locked(q, until)
		}
	}
	code, ok := check(q.r.PostForm.Get(field))
	if how == "passphrase" {
		<-s.passSlots
	}
	if ok {
		in, err := s.signIn(q.ctx, q.w, q.r, q.keys, q.copy, how, code)
		if err != nil {
			return err
		}
		if in {
			return q.redirect("/m")
		}
		// Used by a concurrent request, replaced, or locked meanwhile: a failure.
	}
	left, until, err := s.fail(q.ctx, q.r, q.keys, q.copy, how)
	if errors.Is(err, store.ErrPortalLocked) {
		if until, err = s.lock(q.ctx, q.copy, client); err != nil {
			return err
		}
		if until.IsZero() {
			until = s.now() // the lock ended in the instant since the write saw it
		}
		return s.locked(q, until)
	}
	if err != nil {
		return err
	}
	if !until.IsZero() {
		return s.locked(q, until)
	}
	to, err := s.address(q.ctx, q.keys, q.copy)
	if err != nil {
		return err
	}
	if how == "passphrase" {
		pg := &pages.Landing{Page: q.page("Secure message"), MaskedAddress: maskAddress(to), Passphrase: true, ExpiresAt: q.copy.ExpiresAt}
		pg.Error = "That passphrase is not right."
		return s.pages.Render(q.w, http.StatusUnauthorized, pg)
	}
	pg := &pages.CodeEntry{Page: q.page("Enter your code"), MaskedAddress: maskAddress(to), CodeMinutes: max(1, int(s.cfg.CodeTTL/time.Minute)),
		Digits: s.cfg.CodeDigits, AttemptsLeft: left}
	pg.Error = "That code is not valid. Codes can be used once and expire after a few minutes; you can ask for a new one."
	return s.pages.Render(q.w, http.StatusUnauthorized, pg)
}

// logout ends the session.
func (s *Service) logout(q *request) error {
	sess, err := s.session(q.r, q.copy)
	if err != nil {
		return err
	}
	if sess == "" {
		return q.redirect("")
	}
	if !s.csrfOK(q, sess) {
		return s.badCSRF(q)
	}
	if err := s.db.EndPortalSession(q.ctx, sessionHash(sess)); err != nil {
		return err
	}
	s.setCookie(q.w, q.copy, "", -1)
	return q.redirect("?out=1")
}

func (s *Service) csrfOK(q *request, sess string) bool {
	return subtle.ConstantTimeCompare([]byte(q.r.PostFormValue("csrf")), []byte(csrfToken(sess))) == 1
}

func (s *Service) badCSRF(q *request) error {
	return s.pages.Render(q.w, http.StatusForbidden, &pages.Problem{Page: q.page("Page expired"), Heading: "This page has expired",
		Detail: "For your security the form could not be accepted. Please go back, reload the page and try again.", Back: q.prefix + "/m"})
}
