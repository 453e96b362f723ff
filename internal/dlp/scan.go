package dlp

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strings"
)

// Text is scanned in chunks so memory stays proportional to the chunk, not the part;
// chunks overlap so that a value and its context term are seen whole in one of them.
const (
	chunkSize    = 64 << 10
	chunkOverlap = 256
)

// scan is the state of one Scan call.
type scan struct {
	s          *Scanner
	seed       maphash.Seed
	found      [nKinds]map[uint64]level // per kind: hash of value -> best level
	budget     int64                    // text bytes still allowed
	decodeLeft int64                    // decoded bytes of embedded encodings still allowed
	linkDepth  int                      // > 0 while scanning text decoded from a link
	zipEntries int
	zipTotal   int64
	incomplete bool
}

// Scan inspects a message and returns what it found, sorted by category; empty (not
// nil) when clean.
func (s *Scanner) Scan(in Input) []Finding {
	return s.ScanReport(in).Findings
}

// ScanReport is Scan that also says whether a limit stopped part of the inspection.
func (s *Scanner) ScanReport(in Input) Report {
	sc := &scan{s: s, seed: maphash.MakeSeed(), budget: s.limits.MaxScanBytes, decodeLeft: s.limits.MaxDecodedBytes}
	sc.text(in.Subject, true)
	for _, f := range in.Fields {
		sc.text(f, true)
	}
	sc.text(in.Text, true)
	sc.html(in.HTML)
	for _, a := range in.Attachments {
		sc.attachment(a.Filename, a.ContentType, a.Data, 0)
	}
	r := Report{Findings: []Finding{}, Incomplete: sc.incomplete}
	for k, m := range sc.found {
		if len(m) == 0 {
			continue
		}
		best := lvlMedium
		for _, l := range m {
			best = max(best, l)
		}
		r.Findings = append(r.Findings, Finding{Category: kind(k).category(), Count: len(m), Confidence: best.confidence()})
	}
	return r
}

// take charges n bytes of text to the budget and returns how many may be scanned.
func (sc *scan) take(n int) int {
	if int64(n) > sc.budget {
		sc.incomplete = true
		n = int(max(sc.budget, 0))
	}
	sc.budget -= int64(n)
	return n
}

// clip cuts raw text to the budget before any work is spent on it.
func (sc *scan) clip(t string) string {
	if int64(len(t)) > sc.budget {
		sc.incomplete = true
		return t[:max(sc.budget, 0)]
	}
	return t
}

// text scans one part of plain text.
func (sc *scan) text(t string, entities bool) {
	if t == "" || sc.budget <= 0 {
		return
	}
	t = normalize(sc.clip(t), entities)
	t = t[:sc.take(len(t))]
	sc.chunks(t)
	sc.embedded(t, 1)
}

// html scans the visible text of an HTML part.
func (sc *scan) html(h string) {
	if h == "" || sc.budget <= 0 {
		return
	}
	if looksQP(h) {
		h = decodeQP(h)
	}
	t := foldUnicode(visibleText(h, int(sc.budget)))
	// visibleText stops just past its limit, so take notices what was left out.
	t = t[:sc.take(len(t))]
	sc.chunks(t)
	sc.embedded(t, 1)
}

func (sc *scan) chunks(t string) {
	for i := 0; i < len(t); {
		end := min(i+chunkSize, len(t))
		if end < len(t) {
			// End the chunk at a line end when one is close, else at a space, so that
			// no number is cut in two.
			if nl := strings.IndexByte(t[end:min(end+4096, len(t))], '\n'); nl >= 0 {
				end += nl + 1
			} else if sp := strings.LastIndexByte(t[end-chunkOverlap/2:end], ' '); sp >= 0 {
				end = end - chunkOverlap/2 + sp + 1
			}
		}
		sc.detect(t[i:end])
		if end == len(t) {
			return
		}
		next := end - chunkOverlap
		for next < end && t[next] != ' ' && t[next] != '\n' {
			next++
		}
		i = max(next, i+1)
	}
}

// detect runs every detector over one chunk of normalized text.
func (sc *scan) detect(text string) {
	sg := newSegment(text, sc.s.terms)
	var c candidates
	var hits []hit
	add := func(h hit) { hits = append(hits, h) }
	numbers(sg, &c)
	ids(sg, &c)
	records(sc.s, sg, &c, add)
	for k, list := range c.by {
		rate(sg, kind(k), list, add)
	}
	birthDates(sg, add)
	diagnoses(sg, add)
	for _, h := range resolve(hits) {
		sc.record(h)
	}
	// Tenant keywords and expressions stand on their own: they may overlap anything.
	keywords(sc.s, sg, sc.record)
	expressions(sc.s, sg, sc.record)
}

// record counts a reported hit by the hash of its value.
func (sc *scan) record(h hit) {
	if h.lvl < lvlMedium || sc.linkDepth > 0 && h.lvl < lvlHigh {
		return
	}
	m := sc.found[h.kind]
	if m == nil {
		m = map[uint64]level{}
		sc.found[h.kind] = m
	}
	key := maphash.String(sc.seed, h.value)
	m[key] = max(m[key], h.lvl)
}

// cand is a valid value waiting for its context to be rated.
type cand struct {
	span
	canon bool
	value string
}

type candidates struct{ by [nKinds][]cand }

func (c *candidates) add(k kind, s span, canon bool, value string) {
	c.by[k] = append(c.by[k], cand{s, canon, value})
}

// hit is a rated value.
type hit struct {
	span
	kind  kind
	lvl   level
	ctx   bool
	canon bool
	value string
}

// rate gives each candidate its level from its form and the terms around it.
func rate(sg *segment, k kind, list []cand, add func(hit)) {
	slices.SortFunc(list, func(a, b cand) int { return cmp.Or(a.start-b.start, a.end-b.end) })
	for i, c := range list {
		lo, hi := 0, len(sg.text)
		for j := i - 1; j >= 0; j-- {
			if list[j].end <= c.start {
				lo = list[j].end
				break
			}
		}
		for j := i + 1; j < len(list); j++ {
			if list[j].start >= c.end {
				hi = list[j].start
				break
			}
		}
		h := hit{span: c.span, kind: k, canon: c.canon, value: c.value}
		h.ctx = sg.near(sg.ctx[k], c.span, lo, hi)
		switch {
		case h.ctx:
			h.lvl = lvlHigh
		case c.canon && !sg.inURL(c.span) && !against(sg, k, c.span, lo, hi):
			h.lvl = lvlMedium
		default:
			continue
		}
		add(h)
	}
}

// against reports whether the words around a candidate say it is something else: a
// term such as "phone" or "order", or the term of another identifier ("SSN: 666263346"
// is a wrong SSN, not a routing number).
func against(sg *segment, k kind, s span, lo, hi int) bool {
	if sg.near(sg.ctx[ctxAnti], s, lo, hi) {
		return true
	}
	// Another identifier's term counts only right next to the value, as a label.
	lo, hi = max(lo, s.start-foreignReach), min(hi, s.end+foreignReach)
	for _, o := range [...]kind{kABA, kCard, kDEA, kMBI, kMRN, kNPI, kSSN} {
		if o != k && len(sg.ctx[o]) > 0 && sg.near(sg.ctx[o], s, lo, hi) {
			return true
		}
	}
	return false
}

// foreignReach is how close another identifier's term must be to argue against a value.
const foreignReach = 12

// resolve keeps one reading of any stretch of text: where hits overlap, the most
// confident wins, then the one with context, then the canonical one, then the longest.
// "MRN: 123-45-6789" is a record number, not also a Social Security number.
func resolve(hits []hit) []hit {
	slices.SortFunc(hits, func(a, b hit) int { return cmp.Or(a.start-b.start, a.end-b.end) })
	better := func(a, b hit) int {
		return cmp.Or(cmp.Compare(b.lvl, a.lvl), boolRank(b.ctx)-boolRank(a.ctx), boolRank(b.canon)-boolRank(a.canon),
			(b.end-b.start)-(a.end-a.start), a.start-b.start)
	}
	var out []hit
	for i := 0; i < len(hits); {
		j, end := i+1, hits[i].end
		for j < len(hits) && hits[j].start < end {
			end = max(end, hits[j].end)
			j++
		}
		cluster := hits[i:j]
		if len(cluster) > 1 {
			slices.SortFunc(cluster, better)
		}
		kept := len(out)
		for _, h := range cluster {
			if !slices.ContainsFunc(out[kept:], func(o hit) bool { return o.overlaps(h.span) }) {
				out = append(out, h)
			}
		}
		i = j
	}
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
