package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// User is a person who signs in to the dashboard, in one tenant, with one role.
type User struct {
	ID, TenantID, Email, Name, Role string
	PasswordHash                    []byte // argon2id; nil until an invitation is accepted
	TOTPSecret                      []byte // sealed; nil until enrolment starts
	TOTPStep                        int64  // the last time step accepted
	MFAEnabled                      bool
	Failures                        int
	LockedUntil, DisabledAt         time.Time
	CreatedAt, LastSignIn           time.Time
}

// UserSession is a dashboard session; only the hash of its cookie is kept.
type UserSession struct {
	ID, UserID, TenantID, Stage    string
	Hash                           []byte
	CreatedAt, LastSeen, ExpiresAt time.Time
	RevokedAt                      time.Time
	Client                         string
}

// Invitation lets a new user choose a password once.
type Invitation struct {
	ID, TenantID, UserID, CreatedBy string
	Hash                            []byte
	CreatedAt, ExpiresAt, UsedAt    time.Time
}

const userCols = "id, tenant_id, email, name, role, password_hash, totp_secret, totp_step, mfa_enabled, failures, locked_until, disabled_at, created_at, last_sign_in"

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var mfa int
	var created int64
	var locked, disabled, last sql.NullInt64
	if err := row.Scan(&u.ID, &u.TenantID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.TOTPSecret, &u.TOTPStep, &mfa, &u.Failures, &locked, &disabled, &created, &last); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	u.MFAEnabled, u.CreatedAt = mfa == 1, fromMS(created)
	u.LockedUntil, u.DisabledAt, u.LastSignIn = fromNullMS(locked), fromNullMS(disabled), fromNullMS(last)
	return &u, nil
}

func appendAudit(ctx context.Context, tx *Tx, audit []*AuditEntry) error {
	for _, e := range audit {
		if e == nil {
			continue
		}
		if err := tx.AppendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// InsertUser stores a new user and the invitation that lets them in.
func (tx *Tx) InsertUser(ctx context.Context, u *User, inv *Invitation) error {
	_, err := tx.exec(ctx, "INSERT INTO users (id, tenant_id, email, name, role, totp_step, mfa_enabled, failures, created_at) VALUES ($1, $2, $3, $4, $5, 0, 0, 0, $6)",
		u.ID, u.TenantID, u.Email, u.Name, u.Role, ms(u.CreatedAt))
	if err = conflict(err); err != nil || inv == nil {
		return err
	}
	return tx.InsertInvitation(ctx, inv)
}

// InsertInvitation stores an invitation for an existing user.
func (tx *Tx) InsertInvitation(ctx context.Context, inv *Invitation) error {
	_, err := tx.exec(ctx, "INSERT INTO user_invitations (id, tenant_id, user_id, hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		inv.ID, inv.TenantID, inv.UserID, inv.Hash, inv.CreatedBy, ms(inv.CreatedAt), ms(inv.ExpiresAt))
	return err
}

// CreateUser stores a user with an invitation and the audit entries saying so.
func (db *DB) CreateUser(ctx context.Context, u *User, inv *Invitation, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if err := tx.InsertUser(ctx, u, inv); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// UserByEmail finds a user by address (any tenant: addresses are unique).
func (db *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(db.sql.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE email = $1", email))
}

// User loads a user of a tenant (tenantID "" matches any: CLI and sessions).
func (db *DB) User(ctx context.Context, tenantID, id string) (*User, error) {
	return scanUser(db.sql.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id = $1 AND ($2 = '' OR tenant_id = $2)", id, tenantID))
}

// Users lists a tenant's users.
func (db *DB) Users(ctx context.Context, tenantID string) ([]*User, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+userCols+" FROM users WHERE tenant_id = $1 ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// InvitationByHash finds an invitation by its token's hash.
func (db *DB) InvitationByHash(ctx context.Context, hash []byte) (*Invitation, error) {
	var inv Invitation
	var created, expires int64
	var used sql.NullInt64
	err := db.sql.QueryRowContext(ctx, "SELECT id, tenant_id, user_id, hash, created_by, created_at, expires_at, used_at FROM user_invitations WHERE hash = $1", hash).
		Scan(&inv.ID, &inv.TenantID, &inv.UserID, &inv.Hash, &inv.CreatedBy, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = fromMS(created), fromMS(expires), fromNullMS(used)
	return &inv, nil
}

// PendingInvitations lists a tenant's unused, unexpired invitations.
func (db *DB) PendingInvitations(ctx context.Context, tenantID string, now time.Time) ([]*Invitation, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, user_id, created_by, created_at, expires_at FROM user_invitations WHERE tenant_id = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at", tenantID, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Invitation
	for rows.Next() {
		inv := &Invitation{TenantID: tenantID}
		var created, expires int64
		if err := rows.Scan(&inv.ID, &inv.UserID, &inv.CreatedBy, &created, &expires); err != nil {
			return nil, err
		}
		inv.CreatedAt, inv.ExpiresAt = fromMS(created), fromMS(expires)
		out = append(out, inv)
	}
	return out, rows.Err()
}

// AcceptInvitation spends an invitation and sets the user's password and the sealed
// TOTP secret to enrol, in one write with the session it starts. It fails with
// ErrNotFound when the invitation was used, expired or the user disabled meanwhile.
func (db *DB) AcceptInvitation(ctx context.Context, inv *Invitation, passwordHash, totpSecret []byte, s *UserSession, now time.Time, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE user_invitations SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1", ms(now), inv.ID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		res, err = tx.exec(ctx, "UPDATE users SET password_hash = $1, totp_secret = $2, totp_step = 0, mfa_enabled = 0, failures = 0, locked_until = NULL WHERE id = $3 AND disabled_at IS NULL",
			passwordHash, totpSecret, inv.UserID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM user_recovery_codes WHERE user_id = $1", inv.UserID); err != nil {
			return err
		}
		if err := tx.insertSession(ctx, s); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// AcceptTOTP takes a code's time step for a user only if it is later than every step
// taken before: a code is used once, even by two requests racing with it.
func (db *DB) AcceptTOTP(ctx context.Context, userID string, step int64) (bool, error) {
	ok := false
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE users SET totp_step = $1 WHERE id = $2 AND totp_step < $1", step, userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	return ok, err
}

// UseRecoveryCode spends one of a user's recovery codes.
func (db *DB) UseRecoveryCode(ctx context.Context, userID string, hash []byte, now time.Time) (bool, error) {
	ok := false
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE user_recovery_codes SET used_at = $1 WHERE user_id = $2 AND hash = $3 AND used_at IS NULL", ms(now), userID, hash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	return ok, err
}

// UnusedRecoveryCodes counts a user's recovery codes still unused.
func (db *DB) UnusedRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL", userID).Scan(&n)
	return n, err
}

// EnableMFA finishes enrolment: the second factor is on, the recovery codes replace
// any earlier ones, and the session is promoted (a new cookie hash) in one write.
func (db *DB) EnableMFA(ctx context.Context, userID string, recovery [][]byte, sessionID string, newHash []byte, expires, now time.Time, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "UPDATE users SET mfa_enabled = 1, failures = 0, last_sign_in = $1 WHERE id = $2", ms(now), userID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM user_recovery_codes WHERE user_id = $1", userID); err != nil {
			return err
		}
		for _, h := range recovery {
			if _, err := tx.exec(ctx, "INSERT INTO user_recovery_codes (user_id, hash) VALUES ($1, $2)", userID, h); err != nil {
				return err
			}
		}
		if err := tx.promoteSession(ctx, sessionID, newHash, expires, now); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// SignInFailure counts a failed password or second factor. At max consecutive
// failures the account locks until now+lockFor and the count starts again.
func (db *DB) SignInFailure(ctx context.Context, userID string, max int, lockFor time.Duration, now time.Time, audit ...*AuditEntry) (time.Time, error) {
	var locked time.Time
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, "UPDATE users SET failures = failures + 1 WHERE id = $1 RETURNING failures", userID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			locked = now.Add(lockFor)
			if _, err := tx.exec(ctx, "UPDATE users SET failures = 0, locked_until = $1 WHERE id = $2", ms(locked), userID); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, audit)
	})
	return locked, err
}

// SignedIn clears the failure count and promotes the session after a second factor.
func (db *DB) SignedIn(ctx context.Context, userID, sessionID string, newHash []byte, expires, now time.Time, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "UPDATE users SET failures = 0, last_sign_in = $1 WHERE id = $2", ms(now), userID); err != nil {
			return err
		}
		if err := tx.promoteSession(ctx, sessionID, newHash, expires, now); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// UpdateUser changes a user's role, disables them, or clears their second factor;
// disabling and clearing the second factor end their sessions in the same write.
type UserChange struct {
	Role     string // "" keeps it
	Disable  bool
	ResetMFA bool
}

// ChangeUser applies c to a user of a tenant (tenantID "" matches any: CLI).
func (db *DB) ChangeUser(ctx context.Context, tenantID, id string, c UserChange, now time.Time, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE users SET role = CASE WHEN $1 = '' THEN role ELSE $1 END WHERE id = $2 AND ($3 = '' OR tenant_id = $3)", c.Role, id, tenantID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if c.Disable {
			if _, err := tx.exec(ctx, "UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL", ms(now), id); err != nil {
				return err
			}
		}
		if c.ResetMFA {
			if _, err := tx.exec(ctx, "UPDATE users SET totp_secret = NULL, mfa_enabled = 0, totp_step = 0 WHERE id = $1", id); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, "DELETE FROM user_recovery_codes WHERE user_id = $1", id); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, "DELETE FROM user_passkeys WHERE user_id = $1", id); err != nil {
				return err
			}
		}
		if c.Disable || c.ResetMFA {
			if _, err := tx.exec(ctx, "UPDATE user_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL", ms(now), id); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, audit)
	})
}

const sessionCols = "id, hash, user_id, tenant_id, stage, created_at, last_seen, expires_at, revoked_at, client"

func scanSession(row interface{ Scan(...any) error }) (*UserSession, error) {
	var s UserSession
	var created, seen, expires int64
	var revoked sql.NullInt64
	if err := row.Scan(&s.ID, &s.Hash, &s.UserID, &s.TenantID, &s.Stage, &created, &seen, &expires, &revoked, &s.Client); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	s.CreatedAt, s.LastSeen, s.ExpiresAt, s.RevokedAt = fromMS(created), fromMS(seen), fromMS(expires), fromNullMS(revoked)
	return &s, nil
}

func (tx *Tx) insertSession(ctx context.Context, s *UserSession) error {
	_, err := tx.exec(ctx, "INSERT INTO user_sessions ("+sessionCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)",
		s.ID, s.Hash, s.UserID, s.TenantID, s.Stage, ms(s.CreatedAt), ms(s.LastSeen), ms(s.ExpiresAt), s.Client)
	return err
}

// promoteSession gives a session a new cookie (its hash) and the full stage: the
// cookie that crossed the password step is never the one that holds the account.
func (tx *Tx) promoteSession(ctx context.Context, id string, newHash []byte, expires, now time.Time) error {
	res, err := tx.exec(ctx, "UPDATE user_sessions SET hash = $1, stage = 'full', last_seen = $2, expires_at = $3 WHERE id = $4 AND revoked_at IS NULL", newHash, ms(now), ms(expires), id)
	return oneRow(res, err)
}

// InsertSession starts a session, with its audit entries.
func (db *DB) InsertSession(ctx context.Context, s *UserSession, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if err := tx.insertSession(ctx, s); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// SessionByHash finds a session by its cookie's hash.
func (db *DB) SessionByHash(ctx context.Context, hash []byte) (*UserSession, error) {
	return scanSession(db.sql.QueryRowContext(ctx, "SELECT "+sessionCols+" FROM user_sessions WHERE hash = $1", hash))
}

// TouchSession records activity, which pushes back the idle timeout.
func (db *DB) TouchSession(ctx context.Context, id string, now time.Time) error {
	_, err := db.sql.ExecContext(ctx, "UPDATE user_sessions SET last_seen = $1 WHERE id = $2 AND last_seen < $1", ms(now), id)
	return err
}

// Sessions lists a tenant's live sessions (userID "" for every user of the tenant).
func (db *DB) Sessions(ctx context.Context, tenantID, userID string, now time.Time) ([]*UserSession, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+sessionCols+" FROM user_sessions WHERE tenant_id = $1 AND ($2 = '' OR user_id = $2) AND revoked_at IS NULL AND expires_at > $3 ORDER BY last_seen DESC",
		tenantID, userID, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*UserSession
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// RevokeSession ends a session of a tenant (userID "" for any user of it).
func (db *DB) RevokeSession(ctx context.Context, tenantID, userID, id string, now time.Time, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE user_sessions SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND ($4 = '' OR user_id = $4) AND revoked_at IS NULL", ms(now), id, tenantID, userID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// StartEnrolment gives a user with a password but no second factor (after a reset) a
// new sealed TOTP secret, with the enrolment session, in one write.
func (db *DB) StartEnrolment(ctx context.Context, userID string, totpSecret []byte, s *UserSession, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE users SET totp_secret = $1, totp_step = 0 WHERE id = $2 AND mfa_enabled = 0", totpSecret, userID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if err := tx.insertSession(ctx, s); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}
