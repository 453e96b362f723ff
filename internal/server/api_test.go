package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

func simple(to string) map[string]any {
	return map[string]any{"from": "a@clinic.example", "to": to, "subject": "s", "text": "t"}
}

func TestIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		body := simple("pat@patient.example")
		s1, r1 := e.send(e.key, body, "Idempotency-Key", "order-17")
		s2, r2 := e.send(e.key, body, "Idempotency-Key", "order-17")
		if s1 != 202 || s2 != 202 || r1["id"] != r2["id"] {
			t.Fatalf("replay: %d %v / %d %v", s1, r1["id"], s2, r2["id"])
		}
		other := simple("someone@patient.example")
		if s, p := e.send(e.key, other, "Idempotency-Key", "order-17"); s != 409 {
			t.Fatalf("same key, different body: %d %v", s, p)
		}
		// Keys are per tenant: another tenant may use the same key.
		_, key2 := e.addTenant("lab", "lab.example")
		b2 := map[string]any{"from": "a@lab.example", "to": "pat@patient.example", "subject": "s", "text": "t"}
		if s, r := e.send(key2, b2, "Idempotency-Key", "order-17"); s != 202 || r["id"] == r1["id"] {
			t.Fatalf("other tenant: %d %v", s, r)
		}
		e.waitFinal(r1["id"].(string))
		time.Sleep(200 * time.Millisecond)
		n := 0
		for _, m := range e.rcv.Messages() {
			if m.To[0] == "pat@patient.example" && strings.Contains(string(m.Data), "a@clinic.example") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("idempotent send delivered %d times", n)
		}
	})
}

func TestBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		var msgs []any
		for i := range 20 {
			msgs = append(msgs, simple(fmt.Sprintf("p%d@patient.example", i)))
		}
		msgs = append(msgs, map[string]any{"from": "a@clinic.example", "to": "bad address", "text": "t"})
		status, out := e.do("POST", "/v1/messages/batch", e.key, map[string]any{"messages": msgs})
		if status != 200 {
			t.Fatalf("batch: %d %v", status, out)
		}
		res := out["results"].([]any)
		if len(res) != 21 {
			t.Fatalf("results: %d", len(res))
		}
		for i, r := range res {
			r := r.(map[string]any)
			want := 202.0
			if i == 20 {
				want = 400
				errs := r["error"].(map[string]any)["errors"].([]any)
				if errs[0].(map[string]any)["field"] != "messages[20].to[0]" {
					t.Fatalf("batch error path: %v", errs)
				}
			}
			if r["status"] != want || r["index"] != float64(i) {
				t.Fatalf("result %d: %v", i, r)
			}
		}
		if err := e.rcv.WaitCount(ctxTimeout(t, 15*time.Second), 20); err != nil {
			t.Fatalf("delivered %d of 20: %v", e.rcv.Count(), err)
		}
		big := make([]any, 501)
		for i := range big {
			big[i] = simple("p@patient.example")
		}
		if s, _ := e.do("POST", "/v1/messages/batch", e.key, map[string]any{"messages": big}); s != 400 {
			t.Fatalf("501 messages: %d", s)
		}
	})
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestBadInputIsRefusedAndNothingStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprintf("p%d@patient.example", i)
		}
		cases := []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"CR LF in subject", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "hi\r\nBcc: x@evil.example", "text": "t"}, 400, "subject"},
			{"LF in header value", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "t", "headers": []map[string]string{{"name": "X-A", "value": "v\nBcc: x@evil.example"}}}, 400, "headers[0].value"},
			{"NUL in display name", map[string]any{"from": "A\x00B <a@clinic.example>", "to": "p@patient.example", "subject": "s", "text": "t"}, 400, "from"},
			{"encoded CRLF in subject", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "=?utf-8?q?hi=0D=0ABcc:_x@evil.example?=", "text": "t"}, 400, "subject"},
			{"malformed address", map[string]any{"from": "a@clinic.example", "to": "not-an-address", "subject": "s", "text": "t"}, 400, "to[0]"},
			{"malformed cc", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "cc": []string{"ok@patient.example", "a@@b"}, "subject": "s", "text": "t"}, 400, "cc[1]"},
			{"too many recipients", map[string]any{"from": "a@clinic.example", "to": many, "subject": "s", "text": "t"}, 422, "to"},
			{"unknown template", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "template_id": "tpl_nope"}, 422, "template_id"},
			{"unowned sender domain", map[string]any{"from": "a@hospital.example", "to": "p@patient.example", "subject": "s", "text": "t"}, 422, "from"},
			{"unknown field", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "t", "colour": "red"}, 400, "colour"},
			{"wrong type", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": 7, "text": "t"}, 400, "subject"},
			{"bad base64", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "t", "attachments": []map[string]string{{"filename": "a.txt", "content_type": "text/plain", "content": "%%%"}}}, 400, "attachments[0].content"},
			{"attachment path", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "t", "attachments": []map[string]string{{"filename": "../../etc/passwd", "content_type": "text/plain", "content": "eA=="}}}, 400, "attachments[0].filename"},
			{"own header overridden", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "t", "headers": []map[string]string{{"name": "From", "value": "x@evil.example"}}}, 422, "headers[0].name"},
			{"no body", map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s"}, 422, "text"},
			{"no recipient", map[string]any{"from": "a@clinic.example", "subject": "s", "text": "t"}, 422, "to"},
			{"malformed JSON", `{"from": `, 400, ""},
		}
		for _, c := range cases {
			status, p := e.do("POST", "/v1/messages", e.key, c.body)
			if status != c.status {
				t.Errorf("%s: status %d, want %d (%v)", c.name, status, c.status, p)
				continue
			}
			if c.field != "" && !hasField(p, c.field) {
				t.Errorf("%s: no error for field %q in %v", c.name, c.field, p["errors"])
			}
		}
		// Oversize body: beyond the API's request limit.
		huge := strings.Repeat("A", 41<<20)
		if s, _ := e.do("POST", "/v1/messages", e.key, `{"from":"a@clinic.example","to":"p@patient.example","subject":"s","text":"`+huge+`"}`); s != 413 {
			t.Errorf("oversize: %d", s)
		}
		// An attachment over its own limit (40 MiB by default).
		att := base64.StdEncoding.EncodeToString(make([]byte, 40<<20+1))
		if s, _ := e.do("POST", "/v1/messages", e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "t",
			"attachments": []map[string]string{{"filename": "a.bin", "content_type": "application/octet-stream", "content": att}}}); s != 413 {
			t.Errorf("oversize attachment: %d", s)
		}
		var n int
		e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM messages").Scan(&n)
		if n != 0 {
			t.Fatalf("%d messages stored from bad input", n)
		}
	})
}

func hasField(p map[string]any, field string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return true
		}
	}
	return false
}

func TestCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		ctx := context.Background()
		readOnly, _, _ := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Scopes: []string{"read"}})
		expiring, _, _ := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Scopes: []string{"send"}, Expires: time.Now().Add(300 * time.Millisecond)})
		revoked, k, _ := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Scopes: []string{"send"}})
		if s, _ := e.send(revoked, simple("p@patient.example")); s != 202 {
			t.Fatalf("live key: %d", s)
		}
		e.srv.Tenants.RevokeKey(ctx, e.tenant, k.ID)
		time.Sleep(350 * time.Millisecond)
		for name, key := range map[string]string{"none": "", "garbage": "sp_live_nope", "revoked": revoked, "expired": expiring} {
			if s, _ := e.send(key, simple("p@patient.example")); s != 401 {
				t.Errorf("%s key: %d", name, s)
			}
		}
		if s, _ := e.send(readOnly, simple("p@patient.example")); s != 403 {
			t.Errorf("read-only key sending: %d", s)
		}
		// The database holds only a hash of each key.
		var n int
		e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM api_keys").Scan(&n)
		rows, _ := e.srv.DB.SQL().Query("SELECT hash FROM api_keys")
		for rows.Next() {
			var h []byte
			rows.Scan(&h)
			if strings.Contains(string(h), "sp_live_") {
				t.Fatal("key stored in clear")
			}
		}
		rows.Close()
	})
}

// TestTenantIsolation asks for another tenant's objects on every route that takes an
// id: each answers 404. A new route with a path parameter and no case here fails.
func TestTenantIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		_, res := e.send(e.key, simple("p@patient.example"))
		msgID := res["id"].(string)
		_, tpl := e.do("POST", "/v1/templates", e.key, map[string]any{"name": "t", "subject": "Hi {{name}}", "text": "Hello {{name}}"})
		tplID := tpl["id"].(string)
		_, keys := e.do("GET", "/v1/keys", e.key, nil)
		keyID := keys["keys"].([]any)[0].(map[string]any)["id"].(string)
		certPEM, _ := smimeRecipient(t, "pat@patient.example")
		_, rk := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "pat@patient.example", "type": "smime", "key": string(certPEM)})
		rkID, _ := rk["id"].(string)
		_, wh := e.do("POST", "/v1/webhooks", e.key, map[string]any{"url": "https://hooks.clinic.example/sealpost"})
		whID, _ := wh["id"].(string)
		// The archive's objects: an entry (the message above, journaled), a hold, a rule.
		_, page := e.do("POST", "/v1/archive/search", e.key, map[string]any{"query": map[string]any{}})
		arcID := page["results"].([]any)[0].(map[string]any)["id"].(string)
		_, hold := e.do("POST", "/v1/archive/holds", e.key, map[string]any{"name": "matter", "query": map[string]any{"subject": "x"}})
		holdID, _ := hold["id"].(string)
		_, rule := e.do("PUT", "/v1/archive/retention", e.key, map[string]any{"tag": "x", "days": 30})
		ruleID, _ := rule["id"].(string)
		_, oc := e.do("POST", "/v1/oauth-clients", e.key, map[string]any{"name": "ehr", "scopes": []string{"send"}})
		ocID, _ := oc["id"].(string)
		sessID := "ses_isolation"
		if err := e.srv.DB.CreateAccessSession(context.Background(), &store.AccessSession{ID: sessID, ClientID: ocID, TenantID: e.tenant, KeyID: "sk_x",
			CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		_, other := e.addTenant("intruder", "intruder.example")

		ids := map[string]string{"{id}": "", "{domain}": "clinic.example"}
		// Marketing objects of the owner.
		e.do("POST", "/v1/contact-fields", e.key, map[string]any{"name": "plan", "type": "string", "filterable": true})
		_, ct := e.do("POST", "/v1/contacts", e.key, map[string]any{"email": "pat@patient.example"})
		_, ls := e.do("POST", "/v1/lists", e.key, map[string]any{"name": "News"})
		_, sg := e.do("POST", "/v1/segments", e.key, map[string]any{"name": "Gold", "filter": map[string]any{"field": "plan", "op": "eq", "value": "gold"}})
		_, cs := e.do("POST", "/v1/consents", e.key, map[string]any{"email": "pat@patient.example", "kind": "email_opt_in", "purposes": []string{"news"}, "obtained_via": "web_form"})
		if ct["id"] == nil || ls["id"] == nil || sg["id"] == nil || cs["id"] == nil {
			t.Fatalf("marketing objects not created: %v %v %v %v", ct, ls, sg, cs)
		}
		ids["{name}"], ids["{contact}"] = "plan", fmt.Sprint(ct["id"])
		// SMTP gateway and forms objects of the owner.
		_, sc := e.do("POST", "/v1/smtp-credentials", e.key, map[string]any{"name": "scanner", "scopes": []string{"send"}})
		_, rp := e.do("POST", "/v1/smtp-relay-proofs", e.key, map[string]any{"domain": "clinic.example", "kind": "dkim", "value": "gw1"})
		_, fm := e.do("POST", "/v1/forms", e.key, intakeForm())
		if sc["id"] == nil || rp["id"] == nil || fm["id"] == nil {
			t.Fatalf("gateway or form objects not created: %v %v %v", sc, rp, fm)
		}
		// Journeys: a journey and a run of the owner's.
		_, jy := e.do("POST", "/v1/journeys", e.key, map[string]any{"name": "j", "from": "a@clinic.example", "trigger": map[string]any{"event": "e"},
			"steps": []any{map[string]any{"id": "x", "type": "exit"}}})
		e.do("POST", "/v1/journeys/"+fmt.Sprint(jy["id"])+"/activate", e.key, nil)
		_, ev := e.do("POST", "/v1/journeys/events", e.key, map[string]any{"contact": ct["id"], "event": "e", "idempotency_key": "k"})
		if jy["id"] == nil || len(ev["runs"].([]any)) != 1 {
			t.Fatalf("journey objects not created: %v %v", jy, ev)
		}
		runID := ev["runs"].([]any)[0].(map[string]any)["id"].(string)
		// Inbound gateway objects of the owner: a protected domain and a held message.
		_, ind := e.do("POST", "/v1/inbound-domains", e.key, map[string]any{"domain": "mx.clinic.example", "smart_host": "mail.clinic.example:25"})
		inm := inboundHeld(t, e.srv, e.tenant, fmt.Sprint(ind["id"]))
		// Campaigns: a draft of the owner's.
		_, cp := e.do("POST", "/v1/campaigns", e.key, map[string]any{"name": "News", "from": "news@clinic.example", "subject": "s", "text": "t", "lists": []any{ls["id"]}})
		if cp["id"] == nil {
			t.Fatalf("campaign not created: %v", cp)
		}
		for _, rt := range api.Routes() {
			if !strings.Contains(rt.Path, "{") {
				continue
			}
			path := rt.Path
			switch {
			case strings.HasPrefix(path, "/v1/messages/"):
				ids["{id}"] = msgID
			case strings.HasPrefix(path, "/v1/templates/"):
				ids["{id}"] = tplID
			case strings.HasPrefix(path, "/v1/keys/"):
				ids["{id}"] = keyID
			case strings.HasPrefix(path, "/v1/recipient-keys/"):
				ids["{id}"] = rkID
			case strings.HasPrefix(path, "/v1/webhooks/"):
				ids["{id}"] = whID
			case strings.HasPrefix(path, "/v1/oauth-clients/"):
				ids["{id}"] = ocID
			case strings.HasPrefix(path, "/v1/sessions/"):
				ids["{id}"] = sessID
			case strings.HasPrefix(path, "/v1/signing-keys/"):
				// {type} names the caller's own key, not another tenant's object; a
				// caller only ever reaches its own (checked in TestSigningKeys).
				continue
			case path == "/v1/domains/{domain}/security":
				// A recipient domain's public DNS and TLS facts, not an object of any
				// tenant: every tenant may ask.
				continue
			case strings.HasPrefix(path, "/v1/domains/"):
			case strings.HasPrefix(path, "/v1/archive/entries/"):
				ids["{id}"] = arcID
			case strings.HasPrefix(path, "/v1/archive/holds/"):
				ids["{id}"] = holdID
			case strings.HasPrefix(path, "/v1/archive/retention/"):
				ids["{id}"] = ruleID
			case strings.HasPrefix(path, "/v1/contact-fields/"):
			case strings.HasPrefix(path, "/v1/contacts/"):
				ids["{id}"] = fmt.Sprint(ct["id"])
			case strings.HasPrefix(path, "/v1/lists/"):
				ids["{id}"] = fmt.Sprint(ls["id"])
			case strings.HasPrefix(path, "/v1/segments/"):
				ids["{id}"] = fmt.Sprint(sg["id"])
			case strings.HasPrefix(path, "/v1/consents/"):
				ids["{id}"] = fmt.Sprint(cs["id"])
			case strings.HasPrefix(path, "/v1/smtp-credentials/"):
				ids["{id}"] = fmt.Sprint(sc["id"])
			case strings.HasPrefix(path, "/v1/smtp-relay-proofs/"):
				ids["{id}"] = fmt.Sprint(rp["id"])
			case strings.HasPrefix(path, "/v1/forms/"):
				ids["{id}"] = fmt.Sprint(fm["id"])
			case strings.HasPrefix(path, "/v1/journeys/"):
				ids["{id}"] = fmt.Sprint(jy["id"])
			case strings.HasPrefix(path, "/v1/journey-runs/"):
				ids["{id}"] = runID
			case strings.HasPrefix(path, "/v1/inbound-domains/"):
				ids["{id}"] = fmt.Sprint(ind["id"])
			case strings.HasPrefix(path, "/v1/inbound-messages/"):
				ids["{id}"] = inm
			case strings.HasPrefix(path, "/v1/campaigns/"):
				ids["{id}"] = fmt.Sprint(cp["id"])
			default:
				t.Errorf("route %s %s has no tenant-isolation case", rt.Method, rt.Path)
				continue
			}
			for k, v := range ids {
				path = strings.ReplaceAll(path, k, v)
			}
			body := map[string]any{"name": "x", "subject": "s", "text": "t", "selector": "x1"}
			if s, p := e.do(rt.Method, path, other, body); s != 404 {
				t.Errorf("%s %s as another tenant: %d %v", rt.Method, path, s, p)
			}
		}
		// And the owner still has everything.
		if s, _ := e.do("GET", "/v1/messages/"+msgID, e.key, nil); s != 200 {
			t.Fatalf("owner lost message: %d", s)
		}
		if s, _ := e.do("GET", "/v1/templates/"+tplID, e.key, nil); s != 200 {
			t.Fatalf("owner lost template: %d", s)
		}
		if evs := e.events("message=" + msgID); len(evs) == 0 {
			t.Fatal("owner sees no events")
		}
		_, out := e.do("GET", "/v1/events?message="+msgID, other, nil)
		if len(out["events"].([]any)) != 0 {
			t.Fatal("another tenant sees events")
		}
	})
}
