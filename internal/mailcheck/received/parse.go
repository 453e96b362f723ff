package received

import (
	"net/mail"
	"net/netip"
	"strings"
	"time"
)

// token is a word or a parenthesised comment of a Received value.
type token struct {
	text    string // the word, or the comment's inner text (nested parentheses kept)
	comment bool
}

// clause is one "keyword value (comment)..." part of a Received value.
type clause struct {
	words    []string
	comments []string
}

// parsed is a Received value split into its clauses.
type parsed struct {
	clauses  map[string]*clause
	comments []string // every top-level comment, in order
}

func (p *parsed) has(kw string) bool { return p.clauses[kw] != nil }

// word returns the i-th word of a clause, or "".
func (p *parsed) word(kw string, i int) string {
	if c := p.clauses[kw]; c != nil && i < len(c.words) {
		return c.words[i]
	}
	return ""
}

// clauseComments returns the comments attached to a clause.
func (p *parsed) clauseComments(kw string) []string {
	if c := p.clauses[kw]; c != nil {
		return c.comments
	}
	return nil
}

// facts are what classification needs beyond the Hop fields.
type facts struct {
	hasFrom bool      // a from clause was recorded
	via     string    // the via clause, e.g. "Frontend Transport"
	server  string    // receiving software known to record TLS, or ""
	rec     *Recorder // its entry in the knowledge table, or nil
}

// parseHop fills every Hop field that comes from the header itself.
func parseHop(raw string) (Hop, facts) {
	h := Hop{Raw: raw}
	text, date, hasDate := splitDate(raw)
	p := parseClauses(text)
	h.From, h.FromAddr = fromHost(p)
	h.By = strings.TrimSuffix(p.word("by", 0), ".")
	h.With = protocol(p.clauses["with"])
	h.ID = strings.TrimSuffix(p.word("id", 0), ";")
	h.For = strings.Trim(p.word("for", 0), "<>")
	if hasDate {
		h.Time, h.TimeError = parseDate(date)
	}
	h.TLS = findTLS(p, h.With)
	f := facts{hasFrom: p.has("from"), rec: recorderOf(p, h)}
	if f.rec != nil {
		f.server = f.rec.Name
	}
	if c := p.clauses["via"]; c != nil {
		f.via = strings.Join(c.words, " ")
	}
	return h, f
}

// splitDate splits a value at the last ';' outside comments: the date
// follows it. If no ';' is outside comments (unbalanced parentheses), the
// last ';' anywhere is used.
func splitDate(v string) (text, date string, ok bool) {
	depth, at := 0, -1
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case ';':
			if depth == 0 {
				at = i
			}
		}
	}
	if at < 0 {
		at = strings.LastIndexByte(v, ';')
	}
	if at < 0 {
		return v, "", false
	}
	return v[:at], strings.TrimSpace(v[at+1:]), true
}

// tokenize splits text into words and comments. Comments nest; an
// unterminated comment runs to the end of the text.
func tokenize(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			depth, j := 0, i
			for ; j < len(s); j++ {
				if s[j] == '(' {
					depth++
				} else if s[j] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			end := min(j+1, len(s))
			inner := s[i+1 : max(i+1, min(j, len(s)))]
			out = append(out, token{text: strings.Join(strings.Fields(inner), " "), comment: true})
			i = end
		case c == ')':
			i++ // stray
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()", rune(s[j])) {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out
}

// parseClauses groups tokens under the keyword that precedes them. Words
// and comments before the first keyword are only kept as comments.
func parseClauses(text string) *parsed {
	p := &parsed{clauses: map[string]*clause{}}
	var cur *clause
	for _, t := range tokenize(text) {
		if t.comment {
			p.comments = append(p.comments, t.text)
			if cur != nil {
				cur.comments = append(cur.comments, t.text)
			}
			continue
		}
		if kw := keyword(t.text); kw != "" && p.clauses[kw] == nil {
			cur = &clause{}
			p.clauses[kw] = cur
			continue
		}
		if cur != nil {
			cur.words = append(cur.words, t.text)
		}
	}
	return p
}

// keyword returns w lower-cased if it starts a clause: the RFC 5321
// section 4.4 keywords plus Exim's "tls", which is followed by the cipher.
func keyword(w string) string {
	if len(w) > 4 {
		return ""
	}
	switch k := strings.ToLower(w); k {
	case "from", "by", "via", "with", "id", "for", "tls":
		return k
	}
	return ""
}

// protocol is the with clause: one keyword, upper-cased, or several words
// as written ("Microsoft SMTP Server").
func protocol(c *clause) string {
	if c == nil || len(c.words) == 0 {
		return ""
	}
	if len(c.words) == 1 {
		return strings.ToUpper(c.words[0])
	}
	return strings.Join(c.words, " ")
}

// fromHost returns the claimed sending host name and its address. The
// address comes from a bracketed literal ([192.0.2.1], [IPv6:2001:db8::1])
// or from a comment holding only an address, as Microsoft writes it.
func fromHost(p *parsed) (name, addr string) {
	first := p.word("from", 0)
	if a, ok := addrLiteral(first); ok {
		addr = a
	} else {
		name = strings.TrimSuffix(first, ".")
	}
	for _, c := range p.clauseComments("from") {
		fields := strings.Fields(c)
		for _, f := range fields {
			if addr == "" {
				if a, ok := addrLiteral(f); ok {
					addr = a
				} else if a, err := netip.ParseAddr(f); err == nil && len(fields) == 1 {
					addr = a.String()
				}
			}
			if name == "" && len(f) > 5 && strings.EqualFold(f[:5], "helo=") {
				if _, isAddr := addrLiteral(f[5:]); !isAddr {
					name = strings.TrimSuffix(f[5:], ".")
				}
			}
		}
	}
	return name, addr
}

// addrLiteral parses "[192.0.2.1]", "[IPv6:2001:db8::1]" or
// "[2001:db8::1]:25" into an address.
func addrLiteral(s string) (string, bool) {
	open := strings.IndexByte(s, '[')
	if open < 0 {
		return "", false
	}
	end := strings.IndexByte(s[open:], ']')
	if end < 0 {
		return "", false
	}
	lit := s[open+1 : open+end]
	if len(lit) > 5 && strings.EqualFold(lit[:5], "IPv6:") {
		lit = lit[5:]
	}
	a, err := netip.ParseAddr(lit)
	if err != nil {
		return "", false
	}
	return a.String(), true
}

// parseDate parses an RFC 5322 date, ignoring comments such as "(UTC)".
func parseDate(s string) (t time.Time, problem string) {
	clean := strings.Join(strings.Fields(stripComments(s)), " ")
	if clean == "" {
		return t, ""
	}
	t, err := mail.ParseDate(clean)
	if err != nil {
		return time.Time{}, "malformed date " + quote(clean)
	}
	return t, ""
}

// stripComments removes parenthesised (possibly nested) comments.
func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
