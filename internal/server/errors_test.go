package server_test

import (
	"bytes"
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestBadFieldsAreNamedByTheirFullPath: nested fields are named from the document's
// root, and every bad field of one request is reported in the same answer.
func TestBadFieldsAreNamedByTheirFullPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		status, p := e.do("PUT", "/v1/policy", e.key, `{"rules":[{"if":{"categorys":["card"]},"then":{"action":"block"}}]}`)
		if status != 400 || !hasField(p, "rules[0].if.categorys") {
			t.Fatalf("misspelt policy condition: %d %v", status, p)
		}
		// Problems found after decoding are reported all at once too.
		status, p = e.do("PUT", "/v1/policy", e.key, `{"rules":[{"if":{"categories":["ssns"]},"then":{"action":"deliver"}}],"dlp":{"regexps":["("]}}`)
		if status != 422 || !hasField(p, "rules[0].if.categories[0]") || !hasField(p, "rules[0].then.action") || !hasField(p, "dlp.regexps[0]") {
			t.Fatalf("invalid policy: %d %v", status, p)
		}
		status, p = e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": 7, "text": "t",
			"security": map[string]any{"requires": "encrypted"}, "headers": []map[string]any{{"name": "X-A", "value": 1}}})
		if status != 400 || !hasField(p, "security.requires") || !hasField(p, "subject") || !hasField(p, "headers[0].value") {
			t.Fatalf("nested fields: %d %v", status, p)
		}
	})
}

// TestListsSayWhenMoreFollow: every paged list says whether another page follows, and
// walking the pages yields every item once.
func TestListsSayWhenMoreFollow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{roles: "api"})
		for i := range 3 {
			if s, p := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": fmt.Sprintf("p%d@patient.example", i), "subject": "s", "text": "t"}); s != 202 {
				t.Fatalf("send: %d %v", s, p)
			}
			if s, p := e.do("POST", "/v1/templates", e.key, map[string]any{"name": fmt.Sprint("t", i), "subject": "s", "text": "t"}); s != 201 {
				t.Fatalf("template: %d %v", s, p)
			}
		}
		// growing: the list gains items while it is read (reading the audit trail is audited).
		walk := func(path, items, cursorParam string, growing bool) {
			t.Helper()
			_, all := e.do("GET", path+"?limit=500", e.key, nil)
			want := len(all[items].([]any))
			if want < 3 || all["has_more"] != false {
				t.Fatalf("%s: %d items, has_more %v", path, want, all["has_more"])
			}
			seen, cursor := 0, ""
			for range 2 * want {
				q := path + "?limit=2"
				if cursor != "" {
					q += "&" + cursorParam + "=" + cursor
				}
				s, page := e.do("GET", q, e.key, nil)
				if s != 200 {
					t.Fatalf("%s: %d %v", q, s, page)
				}
				seen += len(page[items].([]any))
				if !growing && page["has_more"] != (seen < want) || growing && seen <= 2 && page["has_more"] != true {
					t.Fatalf("%s: has_more %v after %d of %d", q, page["has_more"], seen, want)
				}
				if page["has_more"] == false {
					break
				}
				cursor = page["next_cursor"].(string)
			}
			if seen != want && !(growing && seen > want) {
				t.Fatalf("%s: pages held %d items, want %d", path, seen, want)
			}
		}
		walk("/v1/events", "events", "cursor", false)
		walk("/v1/audit", "entries", "cursor", true)
		walk("/v1/templates", "templates", "cursor", false)
	})
}

// TestRepeatedRecipientsGetOneDelivery: an address listed in to, cc and bcc (domain in
// any case) gets one recipient row, one job and one copy, and the headers name it once.
func TestRepeatedRecipientsGetOneDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		status, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "subject": "s", "text": "t",
			"to":  []string{"Pat <pat@patient.example>", "sam@patient.example", "pat@patient.example"},
			"cc":  []string{"pat@PATIENT.example", "Lee <lee@patient.example>"},
			"bcc": []string{"sam@Patient.Example", "lee@patient.example", "Pat@patient.example"}})
		if status != 202 {
			t.Fatalf("send: %d %v", status, res)
		}
		got := map[string]string{}
		for _, r := range res["recipients"].([]any) {
			r := r.(map[string]any)
			got[r["email"].(string)] = r["type"].(string)
		}
		// Local parts compare exactly by default: Pat@ is a mailbox of its own.
		want := map[string]string{"pat@patient.example": "to", "sam@patient.example": "to", "lee@patient.example": "cc", "Pat@patient.example": "bcc"}
		if !maps.Equal(got, want) {
			t.Fatalf("recipients %v, want %v", got, want)
		}
		var rows, jobs int
		e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM recipients").Scan(&rows)
		e.srv.DB.SQL().QueryRow("SELECT (SELECT COUNT(*) FROM deliveries) + (SELECT COUNT(*) FROM delivery_history)").Scan(&jobs)
		if rows != 4 || jobs != 4 {
			t.Fatalf("%d recipient rows and %d jobs, want 4 and 4", rows, jobs)
		}
		if err := e.rcv.WaitCount(ctxTimeout(t, 20*time.Second), 4); err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(e.rcv.Messages()[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		to, _ := m.Header.AddressList("To")
		cc, _ := m.Header.AddressList("Cc")
		if len(to) != 2 || to[0].Address != "pat@patient.example" || to[0].Name != "Pat" || to[1].Address != "sam@patient.example" ||
			len(cc) != 1 || cc[0].Address != "lee@patient.example" {
			t.Fatalf("To %v, Cc %v", to, cc)
		}
	})
}

func TestLocalPartCaseMayBeIgnored(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{roles: "api", configure: func(c *config.Config) { c.Delivery.IgnoreLocalPartCase = true }})
	status, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "subject": "s", "text": "t",
		"to": []string{"Pat@patient.example"}, "cc": []string{"pat@patient.example"}})
	if status != 202 || len(res["recipients"].([]any)) != 1 {
		t.Fatalf("send: %d %v", status, res)
	}
}

// TestEveryMissingTemplateVariableInOneAnswer: the subject, text and HTML are all
// rendered before the 422, which names every missing variable.
func TestEveryMissingTemplateVariableInOneAnswer(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{roles: "api"})
	s, tpl := e.do("POST", "/v1/templates", e.key, map[string]any{"name": "n", "subject": "For {{patient.first}}",
		"text": "Hello {{patient.first}}, see {{link}} {{#visits}}{{when}}{{/visits}}", "html": "<p>{{clinic}}</p>"})
	if s != 201 {
		t.Fatalf("create: %d %v", s, tpl)
	}
	s, p := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "pat@patient.example", "template_id": tpl["id"],
		"template_data": map[string]any{"visits": []any{map[string]any{}}}})
	want := []string{"template_data.patient.first", "template_data.link", "template_data.when", "template_data.clinic"}
	if s != 422 || len(p["errors"].([]any)) != len(want) {
		t.Fatalf("%d %v", s, p)
	}
	for _, f := range want {
		if !hasField(p, f) {
			t.Errorf("no problem for %s: %v", f, p)
		}
	}
	s, p = e.do("POST", "/v1/templates", e.key, map[string]any{"name": "bad", "subject": "x", "text": "Hello {{#open}}"})
	if d, _ := p["detail"].(string); s != 422 || strings.Contains(d, "render") || !strings.Contains(d, "line 1, column") {
		t.Fatalf("syntax error: %d %q", s, d)
	}
}

// TestDurationsInDays: API durations accept days, and errors show durations as people
// write them ("90d", not "2160h0m0s").
func TestDurationsInDays(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{roles: "api"})
	msg := func(in string) map[string]any {
		return map[string]any{"from": "a@clinic.example", "to": "pat@patient.example", "subject": "s", "text": "t", "portal": map[string]any{"expires_in": in}}
	}
	if s, p := e.send(e.key, msg("3d")); s != 202 {
		t.Fatalf("expires_in 3d: %d %v", s, p)
	}
	if s, p := e.send(e.key, msg("3 days")); s != 400 || !hasField(p, "portal.expires_in") {
		t.Fatalf("expires_in 3 days: %d %v", s, p)
	}
	if s, p := e.do("PUT", "/v1/portal/settings", e.key, map[string]any{"default_expiry": "14d"}); s != 200 {
		t.Fatalf("default_expiry 14d: %d %v", s, p)
	}
	s, p := e.do("PUT", "/v1/portal/settings", e.key, map[string]any{"default_expiry": "400d"})
	if d, _ := p["detail"].(string); s != 422 || !strings.Contains(d, "at most 90d") {
		t.Fatalf("default_expiry 400d: %d %v", s, p)
	}
}

// TestErrorsSpeakTheUsersLanguage: no Go package names in what a caller reads, and a
// message with too many recipients is pointed at the batch endpoint.
func TestErrorsSpeakTheUsersLanguage(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{roles: "api"})
	goPrefix := regexp.MustCompile(`\b(message|pgpmime|smime|dkimsign|render|json|openpgp|toml|strconv|time|policy|tenant|secureline): `)
	check := func(what string, status int, p map[string]any) {
		t.Helper()
		texts := []string{fmt.Sprint(p["detail"])}
		list, _ := p["errors"].([]any)
		for _, fe := range list {
			texts = append(texts, fmt.Sprint(fe.(map[string]any)["detail"]))
		}
		t.Logf("%s: %d %q", what, status, texts)
		for _, s := range texts {
			if goPrefix.MatchString(s) {
				t.Errorf("%s: %d %q names Go code", what, status, s)
			}
		}
	}
	s, p := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": []string{"nobody", "x@y"}, "cc": "a@@b", "subject": "s", "text": "t"})
	if s != 400 || !hasField(p, "to[0]") || !hasField(p, "to[1]") || !hasField(p, "cc[0]") {
		t.Fatalf("bad addresses: %d %v", s, p)
	}
	check("bad addresses", s, p)
	s, p = e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "pat@patient.example", "type": "pgp", "key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n"})
	if s < 400 || s >= 500 {
		t.Fatalf("garbage key: %d %v", s, p)
	}
	check("garbage key", s, p)
	s, p = e.do("POST", "/v1/domains/clinic.example/dkim", e.key, map[string]any{"algorithm": "dsa"})
	if s < 400 || s >= 500 {
		t.Fatalf("bad DKIM algorithm: %d %v", s, p)
	}
	check("bad DKIM algorithm", s, p)

	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("p%d@patient.example", i)
	}
	s, p = e.send(e.key, map[string]any{"from": "a@clinic.example", "to": many[:30], "bcc": many[30:], "subject": "s", "text": "t"})
	if d, _ := p["detail"].(string); s != 422 || !hasField(p, "to") || !strings.Contains(d, "POST /v1/messages/batch") || !strings.Contains(d, "at most 50") {
		t.Fatalf("too many recipients: %d %v", s, p)
	}
}

// TestRecipientKeysSayWhenMoreFollow: the key list had no cursor at all; it now pages.
func TestRecipientKeysSayWhenMoreFollow(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{roles: "api"})
	for i := range 3 {
		addr := fmt.Sprintf("p%d@patient.example", i)
		certPEM, _ := smimeRecipient(t, addr)
		if s, p := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": addr, "type": "smime", "key": string(certPEM)}); s != 201 {
			t.Fatalf("add key: %d %v", s, p)
		}
	}
	s, p := e.do("GET", "/v1/recipient-keys?limit=2", e.key, nil)
	if s != 200 || len(p["keys"].([]any)) != 2 || p["has_more"] != true || p["next_cursor"] == nil {
		t.Fatalf("first page: %d %v", s, p)
	}
	s, p = e.do("GET", "/v1/recipient-keys?limit=2&after="+p["next_cursor"].(string), e.key, nil)
	if s != 200 || len(p["keys"].([]any)) != 1 || p["has_more"] != false || p["next_cursor"] != nil {
		t.Fatalf("second page: %d %v", s, p)
	}
}
