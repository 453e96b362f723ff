package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// RetryAfter is the wait the faces suggest to a client when the database is
// unavailable: long enough not to hammer a recovering server, short enough that an
// application's retry lands soon after it is back.
const RetryAfter = 5 * time.Second

// IsUnavailable reports whether err means the database itself cannot serve now — down,
// unreachable, locked by someone else, out of disk — rather than that the request was
// wrong or the code is broken. Faces answer these with "try again later" (API 503
// with Retry-After, SMTP 451 4.3.0) instead of an internal error: nothing was stored,
// and the same request will succeed once the database is back. A write PostgreSQL
// failed to break a deadlock or a serialization conflict (class 40) is one of these
// too: nothing of it was stored, and the same write succeeds when tried again.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	// Connecting failed: refused, timed out (its context's deadline included), the
	// server starting up or shutting down.
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pgUnavailable(pe.Code)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqliteUnavailable(se.Code())
	}
	// The connection broke under a statement: reset, closed, or silent. (Only socket
	// operations: a DNS error, say, is some other part's failure.)
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ETIMEDOUT,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENOSPC, syscall.EIO, syscall.EMFILE, syscall.ENFILE} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// pgUnavailable: SQLSTATE classes 08 (connection exception), 40 (transaction rollback:
// a deadlock or serialization failure), 53 (insufficient resources: disk full, out of
// memory, too many connections), 57P01-57P05 (the server shutting down, starting, or
// cutting idle sessions) and 58030 (I/O error).
func pgUnavailable(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "40"), strings.HasPrefix(code, "53"):
		return true
	case code == "57P01", code == "57P02", code == "57P03", code == "57P05", code == "58030":
		return true
	}
	return false
}

// sqliteUnavailable looks at the primary result code (the low byte of an extended
// one): busy or locked by another process past the busy timeout, out of memory, a
// read-only file system, I/O errors, a full disk, a file that cannot be opened.
func sqliteUnavailable(code int) bool {
	switch code & 0xff {
	case 5, 6, 7, 8, 10, 13, 14, 15: // BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL
		return true
	}
	return false
}
