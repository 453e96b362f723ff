package strictjson

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type cond struct {
	Categories []string `json:"categories,omitempty"`
	NoFindings bool     `json:"no_findings,omitempty"`
}

type rule struct {
	If   cond   `json:"if"`
	Then string `json:"then"`
}

type doc struct {
	Rules   []rule            `json:"rules"`
	Meta    map[string]string `json:"meta"`
	Count   int               `json:"count"`
	At      *time.Time        `json:"at"`
	Content []byte            `json:"content"`
	//lint:ignore U1000 an unexported field the decoder must leave alone
	internal int
}

func TestEveryProblemWithItsPath(t *testing.T) {
	t.Parallel()
	var d doc
	err := Decode([]byte(`{"rules":[{"if":{"categories":["ssn"]},"then":"tls"},{"if":{"categorys":["card"],"no_findings":"yes"},"then":"block"}],
		"meta":{"a":"x","b":7},"count":1.5,"at":"yesterday","content":"!!","colour":"red"}`), &d)
	var se *Error
	if !errors.As(err, &se) || se.Syntax {
		t.Fatalf("want *Error, got %v", err)
	}
	want := map[string]string{
		"rules[1].if.categorys":   `unknown field (did you mean "categories"?)`,
		"rules[1].if.no_findings": "must be true or false, not a string",
		"meta.b":                  "must be a string, not a number",
		"count":                   "must be a whole number in range, not 1.5",
		"at":                      "must be an RFC 3339 time such as 2026-01-02T15:04:05Z",
		"content":                 "must be base64 (RFC 4648, with padding)",
		"colour":                  "unknown field",
	}
	got := map[string]string{}
	for _, p := range se.Problems {
		got[p.Field] = p.Detail
	}
	for f, d := range want {
		if got[f] != d {
			t.Errorf("%s: got %q, want %q", f, got[f], d)
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems: %+v", se.Problems)
	}
	if d.Rules != nil {
		t.Error("a refused document was partly decoded")
	}
}

func TestValidDocumentDecodes(t *testing.T) {
	t.Parallel()
	var d doc
	if err := Decode([]byte(`{"RULES":[{"if":{"categories":["ssn"]},"then":"tls"}],"meta":{"a":"x"},"count":3,"at":"2026-01-02T15:04:05Z","content":"aGk="}`), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Rules) != 1 || d.Rules[0].If.Categories[0] != "ssn" || d.Count != 3 || string(d.Content) != "hi" || d.At == nil {
		t.Fatalf("%+v", d)
	}
}

func TestNotJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":        "empty",
		`{"a":`:   "ends too early",
		`{"a" 1}`: "malformed JSON at byte",
		`{} {}`:   "trailing data",
		`[1,2]`:   "(root): must be an object, not an array",
	} {
		var d doc
		err := Decode([]byte(in), &d)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}

type custom struct{ v string }

func (c *custom) UnmarshalJSON(b []byte) error {
	if string(b) != `"ok"` {
		return errors.New("must be \"ok\"")
	}
	c.v = "ok"
	return nil
}

func TestCustomUnmarshalerProblemsHaveTheirPath(t *testing.T) {
	t.Parallel()
	var d struct {
		A []custom `json:"a"`
	}
	err := Decode([]byte(`{"a":["ok","no"]}`), &d)
	if err == nil || err.Error() != `a[1]: must be "ok"` {
		t.Fatalf("got %v", err)
	}
}
