package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/dlp"
)

var ssn = []dlp.Finding{{Category: "ssn", Count: 1, Confidence: "high"}}

func TestPlan(t *testing.T) {
	rules := &Document{Rules: []Rule{
		{Name: "cards", If: Condition{Categories: []string{"card"}}, Then: Action{Action: ActionBlock}},
		{Name: "partners", If: Condition{RecipientDomains: []string{"*.partner.org"}}, Then: Action{Action: ActionSecure, Methods: []Method{TLS, Portal}}},
		{Name: "review", If: Condition{Tags: []string{"review"}, Senders: []string{"@clinic.example"}}, Then: Action{Action: ActionQuarantine}},
		{Name: "news", If: Condition{NoFindings: true, Tags: []string{"news"}}, Then: Action{Action: ActionSecure, Methods: []Method{TLS, None}}},
	}, AllowPlain: true}
	test := func(name string, d *Document, m *Message, domain, action string, want ...Method) {
		t.Helper()
		p := d.Plan(m, domain)
		if p.Action != action || !slices.Equal(p.Candidates, want) {
			t.Errorf("%s: %s %v, want %s %v (reasons %v)", name, p.Action, p.Candidates, action, want, p.Reasons)
		}
	}
	def := &Document{}
	test("default with PHI", def, &Message{Findings: ssn}, "x.org", ActionSecure, TLS, PGP, SMIME, Portal)
	test("default without PHI", def, &Message{}, "x.org", ActionSecure, TLS, PGP, SMIME, Portal)
	test("plain allowed without PHI", &Document{AllowPlain: true}, &Message{}, "x.org", ActionSecure, TLS, PGP, SMIME, None)
	test("plain allowed, but PHI", &Document{AllowPlain: true}, &Message{Findings: ssn}, "x.org", ActionSecure, TLS, PGP, SMIME, Portal)
	test("block", rules, &Message{Findings: []dlp.Finding{{Category: "card", Count: 1}}}, "x.org", ActionBlock)
	test("recipient domain", rules, &Message{Findings: ssn}, "mail.partner.org", ActionSecure, TLS, Portal)
	test("not a subdomain", rules, &Message{Findings: ssn}, "partner.org", ActionSecure, TLS, PGP, SMIME, Portal)
	test("quarantine needs both", rules, &Message{Tags: []string{"review"}, Sender: "a@clinic.example"}, "x.org", ActionQuarantine)
	test("other sender", rules, &Message{Tags: []string{"review"}, Sender: "a@lab.example"}, "x.org", ActionSecure, TLS, PGP, SMIME, None)
	test("news plain", rules, &Message{Tags: []string{"news"}}, "x.org", ActionSecure, TLS, None)
	test("news with PHI falls through", rules, &Message{Tags: []string{"news"}, Findings: ssn}, "x.org", ActionSecure, TLS, PGP, SMIME, Portal)
	test("require encrypted", rules, &Message{Flags: Flags{Require: "encrypted"}, Tags: []string{"news"}}, "x.org", ActionSecure)
	test("subject trigger", def, &Message{Subject: "Results [SECURE]"}, "x.org", ActionSecure, PGP, SMIME, Portal)
	test("force", def, &Message{Flags: Flags{Force: Portal}, Findings: ssn}, "x.org", ActionSecure, Portal)
	test("force none with PHI is emptied", def, &Message{Flags: Flags{Force: None}, Findings: ssn}, "x.org", ActionSecure)
}

func TestChoose(t *testing.T) {
	avail := func(ok ...Method) Availability {
		return func(m Method) (bool, string) { return slices.Contains(ok, m), "not here" }
	}
	c := []Method{TLS, PGP, Portal}
	m, i, why, ok := Choose(c, 0, avail(PGP, Portal))
	if !ok || m != PGP || i != 1 || len(why) != 2 || !strings.Contains(why[0], "tls unavailable") {
		t.Fatalf("got %s %d %v %v", m, i, why, ok)
	}
	if m, _, _, _ := Choose(c, 2, avail(TLS, PGP, Portal)); m != Portal {
		t.Fatalf("from index 2: %s", m)
	}
	if _, _, _, ok := Choose(c, 0, avail()); ok {
		t.Fatal("chose with nothing available")
	}
}

func TestValidateNamesTheField(t *testing.T) {
	for want, d := range map[string]Document{
		"rules[0].then.action":             {Rules: []Rule{{Then: Action{Action: "deliver"}}}},
		"rules[0].then.methods":            {Rules: []Rule{{Then: Action{Action: ActionSecure}}}},
		"rules[0].then.methods[1]":         {Rules: []Rule{{Then: Action{Action: ActionSecure, Methods: []Method{TLS, "carrier-pigeon"}}}}},
		"rules[1].then.methods[0]":         {Rules: []Rule{{Then: Action{Action: ActionBlock}}, {Then: Action{Action: ActionSecure, Methods: []Method{None}}}}},
		"rules[0].if.categories[0]":        {Rules: []Rule{{If: Condition{Categories: []string{"ssns"}}, Then: Action{Action: ActionBlock}}}},
		"rules[0].if.require":              {Rules: []Rule{{If: Condition{Require: "yes"}, Then: Action{Action: ActionBlock}}}},
		"rules[0].then.methods[1] ":        {Rules: []Rule{{Then: Action{Action: ActionSecure, Methods: []Method{TLS, TLS}}}}},
		"dlp.regexps[0]":                   {DLP: DLPRules{Regexps: []string{"("}}},
		"dlp.keywords[1]":                  {DLP: DLPRules{Keywords: []string{"a", " "}}},
		"rules[0].if.recipient_domains[0]": {Rules: []Rule{{If: Condition{RecipientDomains: []string{"a@b"}}, Then: Action{Action: ActionBlock}}}},
	} {
		fe := d.Validate()
		if fe == nil || fe.Field != strings.TrimSpace(want) {
			t.Errorf("want error at %s, got %v", want, fe)
		}
	}
	ok := Document{Rules: []Rule{{If: Condition{NoFindings: true}, Then: Action{Action: ActionSecure, Methods: []Method{TLS, None}}}}}
	if fe := ok.Validate(); fe != nil {
		t.Fatalf("valid document refused: %v", fe)
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	d := Document{SubjectTrigger: strings.Repeat("x", 65), DLP: DLPRules{Regexps: []string{"ok", "("}}, Rules: []Rule{
		{If: Condition{Categories: []string{"ssns"}, Require: "yes"}, Then: Action{Action: ActionBlock}},
		{Then: Action{Action: ActionSecure, Methods: []Method{TLS, "carrier-pigeon", TLS}}},
	}}
	var got []string
	for _, fe := range d.Check() {
		got = append(got, fe.Field)
	}
	want := []string{"subject_trigger", "rules[0].if.categories[0]", "rules[0].if.require", "rules[1].then.methods[1]", "rules[1].then.methods[2]", "dlp.regexps[1]"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if fe := d.Validate(); fe == nil || fe.Field != "subject_trigger" {
		t.Fatalf("Validate: %v", fe)
	}
}
