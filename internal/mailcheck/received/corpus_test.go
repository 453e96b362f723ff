package received

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// chain is one published chain from testdata/chains: its header section (and
// perhaps a body) after comment lines that say where the form is documented
// and what the analysis must find.
type chain struct {
	name    string
	message string
	classes []Class // oldest first
	verdict string
	names   int // the hop the summary names; 0: none
}

func loadChains(t *testing.T) []chain {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "chains", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no chains: %v", err)
	}
	var out []chain
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := chain{name: filepath.Base(f), names: -1}
		var msg []string
		for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n") {
			if rest, ok := strings.CutPrefix(line, "# "); ok && msg == nil {
				switch k, v, _ := strings.Cut(rest, ": "); k {
				case "classes":
					for _, w := range strings.Fields(v) {
						c.classes = append(c.classes, map[string]Class{"E": E, "P": P, "U": U, "I": I}[w])
					}
				case "verdict":
					c.verdict = v
				case "names":
					c.names, _ = strconv.Atoi(v)
				}
				continue
			}
			msg = append(msg, line)
		}
		if c.verdict == "" || c.names < 0 || len(c.classes) == 0 {
			t.Fatalf("%s: missing classes, verdict or names", c.name)
		}
		c.message = strings.Join(msg, "\r\n")
		out = append(out, c)
	}
	return out
}

// TestPublishedChains analyses chains in the forms real servers and services
// publish, each with the classes, verdict and named hop it must get.
func TestPublishedChains(t *testing.T) {
	t.Parallel()
	for _, c := range loadChains(t) {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Analyze(strings.NewReader(c.message))
			if err != nil {
				t.Fatal(err)
			}
			var got []Class
			for _, h := range rep.Hops {
				got = append(got, h.Class)
			}
			if !slices.Equal(got, c.classes) || rep.Verdict != c.verdict {
				t.Errorf("classes %v verdict %q, want %v %q", got, rep.Verdict, c.classes, c.verdict)
				for _, h := range rep.Hops {
					t.Logf("hop %d: %s: %s", h.Index, h.Class, h.Reason)
				}
			}
			named := strings.HasPrefix(rep.Summary, "Hop ")
			if (c.names == 0) == named || (c.names > 0 && !strings.HasPrefix(rep.Summary, "Hop "+strconv.Itoa(c.names)+" (")) {
				t.Errorf("summary %q, want it to name hop %d", rep.Summary, c.names)
			}
		})
	}
}

// TestRecordersAreDocumentedAndUsed: every entry of the knowledge table says how it
// records TLS and where that is documented, and is the receiver of at least one
// hop in the published chains or the generated fixtures — no entry nobody tests.
func TestRecordersAreDocumentedAndUsed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	var fields []string
	for _, c := range loadChains(t) {
		fields = append(fields, c.message)
	}
	fields = append(fields, generatedFields...)
	for _, m := range fields {
		values, err := readReceived(strings.NewReader(m))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if _, f := parseHop(v); f.rec != nil {
				seen[f.rec.Name] = true
			}
		}
	}
	names := map[string]bool{}
	for _, r := range Recorders() {
		if r.Name == "" || r.Records == "" || r.Evidence == "" || len(r.Tags)+len(r.Hosts) == 0 && r.With == "" {
			t.Errorf("entry %+v is incomplete", r)
		}
		if names[r.Name] {
			t.Errorf("two entries named %q", r.Name)
		}
		names[r.Name] = true
		if !seen[r.Name] {
			t.Errorf("no fixture is received by %q", r.Name)
		}
	}
}

func TestHostAndTagPatterns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		host     string
		patterns []string
		want     bool
	}{
		{"mx.google.com", []string{"mx.google.com"}, true},
		{"MX.Google.com.", []string{"mx.google.com"}, true},
		{"mail-sor-f41.google.com", []string{"*.google.com"}, true},
		{"google.com", []string{"*.google.com"}, false},
		{"evilgoogle.com", []string{"*.google.com"}, false},
		{"google.com.example.net", []string{"*.google.com"}, false},
		{"", []string{"*.google.com"}, false},
	} {
		if got := hostIn(tc.host, tc.patterns); got != tc.want {
			t.Errorf("hostIn(%q, %v) = %v", tc.host, tc.patterns, got)
		}
	}
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"8.#/8.#", "8.17.1/8.17.1", true},
		{"8.#/8.#/*", "8.14.4/8.14.4/Submit", true},
		{"8.#/8.#", "8.x/8.1", false},
		{"8.#/8.#", "8./8.1", false},
		{"Exim *", "Exim 4.96", true},
		{"Exim *", "Eximious", false},
		{"Postfix", "Postfix, from userid 1000", false},
		{"Postfix, *", "Postfix, from userid 1000", true},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

// TestKnowledgeTableClasses: a hop received by a table entry without TLS is
// plaintext, with TLS encrypted, and the reason names the entry.
func TestKnowledgeTableClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		field  string
		class  Class
		reason string
	}{
		{devnetPlain, P, "Sealpost dev receiver records TLS when used and recorded none."},
		{devnetTLS, E, "The receiving server recorded TLSv1.3 with cipher TLS_AES_128_GCM_SHA256."},
		{googleRelayPlain, P, "Google records TLS when used and recorded none."},
		{gmailSubmission, E, "The receiving server recorded TLSv1.3 with cipher TLS_AES_256_GCM_SHA384."},
		{mimecastPlain, P, "Mimecast records TLS when used and recorded none."},
	} {
		h := analyzeOne(t, tc.field)
		if h.Class != tc.class || h.Reason != tc.reason {
			t.Errorf("%s → %s: %s %q, want %s %q", h.From, h.By, h.Class, h.Reason, tc.class, tc.reason)
		}
	}
}

// TestSummaryNamesTheHopBetweenOrganisations: of several hops that cannot be
// judged, the summary names the one where the message left its sender's
// organisation, not a hop inside it.
func TestSummaryNamesTheHopBetweenOrganisations(t *testing.T) {
	t.Parallel()
	internal := "Received: from app01.example.net (app01.example.net [198.51.100.10])\r\n" +
		"\tby mail.example.net with SMTP id 1A2B3C; Mon, 23 Nov 2026 10:00:00 +0000"
	external := "Received: from mail.example.net (mail.example.net [198.51.100.25])\r\n" +
		"\tby mx.example.org with SMTP id 4D5E6F; Mon, 23 Nov 2026 10:00:01 +0000"
	rep, err := Analyze(strings.NewReader(message(external, internal)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != VerdictUnknown || !strings.HasPrefix(rep.Summary, "Hop 2 (mail.example.net → mx.example.org") {
		t.Errorf("verdict %q, summary %q", rep.Verdict, rep.Summary)
	}
	for _, tc := range []struct {
		from, by string
		want     bool
	}{
		{"mail.example.net", "mx.example.org", true},
		{"app01.example.net", "mail.example.net", false},
		{"mail.example.co.uk", "mx.other.co.uk", true},
		{"a.example.co.uk", "b.example.co.uk", false},
		{"", "mx.example.org", false},
	} {
		if got := crossesOrganisations(Hop{From: tc.from, By: tc.by}); got != tc.want {
			t.Errorf("%s → %s: %v", tc.from, tc.by, got)
		}
	}
}
