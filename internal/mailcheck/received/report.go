package received

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// timeLayout is how hop times appear in summaries and tables.
const timeLayout = "2006-01-02 15:04:05 -0700"

// verdict judges the chain: every external hop encrypted, any plaintext,
// or undecidable. The summary names the first weak hop, oldest first.
func verdict(hops []Hop) (string, string) {
	if len(hops) == 0 {
		return VerdictUnknown, "No Received headers were found, so the route is unknown."
	}
	if h, ok := weakest(hops, Plaintext); ok {
		return VerdictNotEncrypted, fmt.Sprintf("Hop %s was probably sent without TLS: %s", hopLabel(h), h.Reason)
	}
	if h, ok := weakest(hops, Unknown); ok {
		return VerdictUnknown, fmt.Sprintf("Hop %s could not be checked: %s", hopLabel(h), h.Reason)
	}
	var versions []string
	external := 0
	for _, h := range hops {
		if h.Class != Encrypted {
			continue
		}
		external++
		if !slices.Contains(versions, h.TLS.Version) {
			versions = append(versions, h.TLS.Version)
		}
	}
	switch external {
	case 0:
		if len(hops) == 1 {
			return VerdictUnknown, "The only hop was internal; no transfer between sites was recorded."
		}
		return VerdictUnknown, fmt.Sprintf("All %d hops were internal; no transfer between sites was recorded.", len(hops))
	case 1:
		return VerdictEncrypted, fmt.Sprintf("The only external hop was encrypted: %s.", versions[0])
	}
	return VerdictEncrypted, fmt.Sprintf("All %d external hops were encrypted: %s.", external, strings.Join(versions, ", "))
}

// weakest returns the hop of class c the summary should name: the oldest one
// between two organisations, where a message leaves its sender's hands, else
// the oldest one.
func weakest(hops []Hop, c Class) (Hop, bool) {
	var first *Hop
	for i := range hops {
		if hops[i].Class != c {
			continue
		}
		if crossesOrganisations(hops[i]) {
			return hops[i], true
		}
		if first == nil {
			first = &hops[i]
		}
	}
	if first == nil {
		return Hop{}, false
	}
	return *first, true
}

// crossesOrganisations reports a hop whose sender and receiver names belong to
// different registered domains (example.net and example.org, not
// app01.example.net and mail.example.net). Without both names it cannot tell.
func crossesOrganisations(h Hop) bool {
	from, err1 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(strings.TrimSuffix(h.From, ".")))
	by, err2 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(strings.TrimSuffix(h.By, ".")))
	return err1 == nil && err2 == nil && from != by
}

// hopLabel is "2 (mx.example.net → mail.example.org, 2026-11-23 10:00:00 +0000)".
func hopLabel(h Hop) string {
	s := fmt.Sprintf("%d (%s → %s", h.Index, clip(sender(h), 80), clip(orDash(h.By, "unknown receiver"), 80))
	if !h.Time.IsZero() {
		s += ", " + h.Time.Format(timeLayout)
	}
	return s + ")"
}

func sender(h Hop) string {
	switch {
	case h.From != "":
		return h.From
	case h.FromAddr != "":
		return "[" + h.FromAddr + "]"
	}
	return "unknown sender"
}

// WriteTable writes the hops as an aligned table, oldest first, followed
// by the verdict and summary. Header text is sanitised for a terminal.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var err error
	row := func(cells ...string) {
		for i := range cells {
			cells[i] = clip(cells[i], 60)
		}
		if err == nil {
			_, err = io.WriteString(tw, strings.Join(cells, "\t")+"\n")
		}
	}
	row("#", "TIME", "FROM (ADDR)", "BY", "WITH", "TLS", "CLASS")
	for _, h := range r.Hops {
		when := "-"
		if !h.Time.IsZero() {
			when = h.Time.Format(timeLayout)
		} else if h.TimeError != "" {
			when = "(bad date)"
		}
		from := sender(h)
		if h.From != "" && h.FromAddr != "" {
			from += " (" + h.FromAddr + ")"
		}
		row(strconv.Itoa(h.Index), when, from, orDash(h.By, "-"), orDash(h.With, "-"), tlsCell(h.TLS), string(h.Class))
	}
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\nVerdict: %s\n%s\n", r.Verdict, clip(r.Summary, 400))
	return err
}

func tlsCell(t *TLSInfo) string {
	if t == nil {
		return "-"
	}
	s := t.Version
	if t.Cipher != "" {
		s += " " + t.Cipher
	}
	return s
}

func orDash(s, dash string) string {
	if s == "" {
		return dash
	}
	return s
}

// quote quotes s for a message, shortened.
func quote(s string) string {
	return strconv.Quote(clip(s, 80))
}

// clip makes s safe for a terminal, replacing control characters and
// invalid UTF-8 and cutting it to n runes.
func clip(s string, n int) string {
	var b strings.Builder
	count := 0
	for i, r := range s {
		if count == n {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteByte('?')
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
		count++
	}
	return b.String()
}
