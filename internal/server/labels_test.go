package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestLabelsSealedAndScanned: tags and campaign are read back through the API but the
// message row holds only keyed hashes of them — alike for equal labels of one tenant,
// different for another tenant, and usable to filter events — and DLP scans them (and the other short fields a
// caller writes) like the subject.
func TestLabelsSealedAndScanned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		send := func(key string, msg map[string]any) map[string]any {
			t.Helper()
			s, res := e.send(key, msg)
			if s != 202 {
				t.Fatalf("send: %d %v", s, res)
			}
			return res
		}
		row := func(id string) (campaign string, tags []string) {
			t.Helper()
			var tj string
			if err := e.srv.DB.SQL().QueryRow("SELECT campaign, tags FROM messages WHERE id = $1", id).Scan(&campaign, &tj); err != nil {
				t.Fatal(err)
			}
			json.Unmarshal([]byte(tj), &tags)
			return campaign, tags
		}
		msg := func(from string) map[string]any {
			return map[string]any{"from": from, "to": "p@" + patientDomain, "subject": "s", "text": "t",
				"tags": []string{"reminder", "flu-2026"}, "campaign": "Autumn flu shots"}
		}
		a1 := send(e.key, msg("a@clinic.example"))["id"].(string)
		a2 := send(e.key, msg("a@clinic.example"))["id"].(string)
		_, keyB := e.addTenant("lab", "lab.example")
		b1 := send(keyB, msg("a@lab.example"))["id"].(string)

		_, v := e.do("GET", "/v1/messages/"+a1, e.key, nil)
		if toJSON(v["tags"]) != `["reminder","flu-2026"]` || v["campaign"] != "Autumn flu shots" {
			t.Errorf("view: tags %v campaign %v", v["tags"], v["campaign"])
		}
		c1, t1 := row(a1)
		c2, t2 := row(a2)
		cb, tb := row(b1)
		for _, s := range append([]string{c1}, t1...) {
			if strings.Contains(s, "flu") || strings.Contains(s, "reminder") || len(s) != 32 {
				t.Errorf("row holds %q, want a keyed hash", s)
			}
		}
		if len(t1) != 2 || c1 != c2 || toJSON(t1) != toJSON(t2) {
			t.Errorf("equal labels hash differently: %q %v / %q %v", c1, t1, c2, t2)
		}
		if cb == c1 || len(tb) != 2 || tb[0] == t1[0] {
			t.Errorf("another tenant's hashes equal: %q %v / %q %v", cb, tb, c1, t1)
		}

		// Events filter by label through the hashes: this tenant's messages only.
		byMsg := func(query, key string) map[string]bool {
			t.Helper()
			s, out := e.do("GET", "/v1/events?type=accepted&"+query, key, nil)
			if s != 200 {
				t.Fatalf("events %s: %d %v", query, s, out)
			}
			got := map[string]bool{}
			for _, ev := range out["events"].([]any) {
				got[ev.(map[string]any)["message_id"].(string)] = true
			}
			return got
		}
		other := send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@" + patientDomain, "subject": "s", "text": "t",
			"tags": []string{"flu-2026x", "other"}, "campaign": "Autumn flu shots 2"})["id"].(string)
		for _, q := range []string{"tag=flu-2026", "campaign=Autumn+flu+shots"} {
			if got := byMsg(q, e.key); len(got) != 2 || !got[a1] || !got[a2] {
				t.Errorf("%s: events of %v, want %s and %s only", q, got, a1, a2)
			}
			if got := byMsg(q, keyB); len(got) != 1 || !got[b1] {
				t.Errorf("%s as tenant B: events of %v, want %s only", q, got, b1)
			}
		}
		if got := byMsg("tag=other", e.key); len(got) != 1 || !got[other] {
			t.Errorf("tag=other: %v", got)
		}
		if got := byMsg("tag=flu", e.key); len(got) != 0 {
			t.Errorf("a tag's prefix matched: %v", got)
		}

		// PHI in any short field is found, as in the subject.
		for field, m := range map[string]map[string]any{
			"campaign": {"campaign": "SSN 536-22-1234"},
			"tags":     {"tags": []string{"ok", "SSN 536-22-1234"}},
			"headers":  {"headers": []map[string]string{{"name": "X-Ref", "value": "SSN 536-22-1234"}}},
			"filename": {"attachments": []map[string]string{{"filename": "SSN 536-22-1234.txt", "content_type": "text/plain", "content": "aGk="}}},
			"name":     {"to": "SSN 536-22-1234 <p@" + patientDomain + ">"},
		} {
			req := map[string]any{"from": "a@clinic.example", "to": "p@" + patientDomain, "subject": "s", "text": "t"}
			for k, v := range m {
				req[k] = v
			}
			res := send(e.key, req)
			if !strings.Contains(toJSON(res["dlp"]), `"ssn"`) {
				t.Errorf("%s: dlp %v, want the SSN", field, res["dlp"])
			}
		}
	})
}
