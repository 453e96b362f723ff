// Package received reads a message's Received header fields and answers
// whether the message travelled encrypted: for each hop it looks for the
// TLS evidence that common mail servers and services record (the RFC 3848
// protocol keywords, the RFC 8314 tls clause, and the comment forms of
// Postfix, Exim, sendmail, Microsoft Exchange and Microsoft 365, Google,
// Proofpoint, Mimecast, Cisco and Sealpost) and classifies the hop as
// encrypted, plaintext, unknown or internal. Which receivers always record
// TLS, so that a hop they recorded without it was probably in the clear,
// is the documented table in knowledge.go.
package received

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"time"
)

// Limits on the input Analyze reads.
const (
	// MaxHeaderBytes caps how much of the header section is read.
	MaxHeaderBytes = 1 << 20
	// MaxReceived caps how many Received fields are analysed; the newest
	// ones are kept.
	MaxReceived = 100
)

// Hop is one Received header field: one transfer between two servers.
type Hop struct {
	Index     int       `json:"index"`                // 1 = first hop (oldest)
	From      string    `json:"from,omitempty"`       // sending host name as claimed (HELO or reverse name)
	FromAddr  string    `json:"from_addr,omitempty"`  // IP (v4 or v6) if present
	By        string    `json:"by,omitempty"`         // receiving host
	With      string    `json:"with,omitempty"`       // protocol keyword: SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP, HTTP, HTTPS, ...
	ID        string    `json:"id,omitempty"`         // the receiving server's queue or message id
	For       string    `json:"for,omitempty"`        // the recipient, if recorded
	Time      time.Time `json:"time,omitzero"`        // zero if missing or unparseable
	TimeError string    `json:"time_error,omitempty"` // why Time is zero, if a date was present but malformed
	TLS       *TLSInfo  `json:"tls,omitempty"`        // nil if none recorded
	Class     Class     `json:"class"`
	Reason    string    `json:"reason"` // one sentence explaining Class
	Raw       string    `json:"raw"`    // unfolded header value
}

// TLSInfo is the TLS session a receiving server recorded for a hop.
type TLSInfo struct {
	// Version is "TLSv1.3", "TLSv1.2", ..., or VersionNotRecorded when the
	// server noted TLS without saying which version.
	Version string `json:"version"`
	Cipher  string `json:"cipher,omitempty"`
	Bits    int    `json:"bits,omitempty"`
	Verify  string `json:"verify,omitempty"` // client certificate check as recorded: OK, NOT, NO, FAIL, ...
}

// VersionNotRecorded is TLSInfo.Version when TLS was used but its version
// was not recorded (a bare ESMTPS keyword, or sendmail's "TLSv1/SSLv3").
const VersionNotRecorded = "SSL/TLS (version not recorded)"

// Class is how a hop was protected.
type Class string

// Hop classes.
const (
	// Encrypted: the receiving server recorded TLS.
	Encrypted Class = "encrypted"
	// Plaintext: the receiving server records TLS when it is used and
	// recorded none, so the hop was probably sent without TLS.
	Plaintext Class = "plaintext"
	// Unknown: the receiving server does not record TLS.
	Unknown Class = "unknown"
	// Internal: a hand-off within one host or over a private back channel.
	Internal Class = "internal"
)

// Report verdicts.
const (
	VerdictEncrypted    = "encrypted"
	VerdictNotEncrypted = "not encrypted"
	VerdictUnknown      = "unknown"
)

// Report is the analysis of one message's Received chain.
type Report struct {
	Hops    []Hop  `json:"hops"`    // oldest first
	Verdict string `json:"verdict"` // VerdictEncrypted, VerdictNotEncrypted or VerdictUnknown
	Summary string `json:"summary"` // one sentence, naming the weak hop if there is one
}

// Analyze reads a raw message, or only its header section, and reports on
// its Received chain. It reads no further than the first empty line and at
// most MaxHeaderBytes; only the newest MaxReceived Received fields count.
// Malformed fields do not cause an error; only a failing reader does.
func Analyze(r io.Reader) (*Report, error) {
	values, err := readReceived(r)
	if err != nil {
		return nil, err
	}
	rep := &Report{Hops: make([]Hop, 0, len(values))}
	// Received fields are prepended by each server, so the last one is
	// the oldest hop.
	for i := len(values) - 1; i >= 0; i-- {
		h, f := parseHop(values[i])
		h.Index = len(rep.Hops) + 1
		classify(&h, f)
		rep.Hops = append(rep.Hops, h)
	}
	rep.Verdict, rep.Summary = verdict(rep.Hops)
	return rep, nil
}

// readReceived returns the unfolded values of the Received fields in the
// header section, in the order they appear (newest first).
func readReceived(r io.Reader) ([]string, error) {
	br := bufio.NewReader(io.LimitReader(r, MaxHeaderBytes))
	var (
		out    []string
		cur    []byte // value of the Received field being unfolded
		inRecv bool
	)
	flush := func() {
		if inRecv && len(out) < MaxReceived {
			out = append(out, strings.TrimSpace(string(cur)))
		}
		inRecv, cur = false, cur[:0]
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
			return nil, err
		}
		full := err == nil // line ends in '\n'
		body := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if full && len(body) == 0 {
			break // end of the header section
		}
		switch {
		case len(body) == 0:
			// end of input
		case body[0] == ' ' || body[0] == '\t':
			if inRecv {
				cur = append(cur, body...)
			}
		default:
			flush()
			name, value, ok := bytes.Cut(body, []byte(":"))
			if ok && strings.EqualFold(string(bytes.TrimRight(name, " \t")), "Received") {
				inRecv = true
				cur = append(cur, value...)
			}
		}
		// A line longer than the reader's buffer arrives in pieces; keep
		// appending them to the current field.
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
				return nil, err
			}
			if inRecv {
				cur = append(cur, bytes.TrimRight(line, "\r\n")...)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	flush()
	return out, nil
}
