package forms

import (
	"testing"
	"time"
)

func TestValidateNamesEveryProblem(t *testing.T) {
	d := &Definition{Name: "", Title: "t", From: "nope", Retention: "1s", AllowedOrigins: []string{"http://evil.example/x"},
		Fields: []Field{{Name: "Bad", Label: "", Type: "colour"}, {Name: "a", Label: "A", Type: TypeChoice, Options: []string{"one"}},
			{Name: "a", Label: "A2", Type: TypeText, Accept: []string{"application/pdf"}}},
		SubmitterCopy: "a", Consent: &Consent{Kind: "x", EmailField: "zz"}}
	fe := d.Validate()
	want := []string{"name", "from", "fields[0].name", "fields[0].label", "fields[0].type", "fields[1].options", "fields[2].name",
		"fields[2].accept", "destinations", "retention", "allowed_origins[0]", "submitter_copy", "consent.kind", "consent.statement",
		"consent.purposes", "consent.email_field"}
	got := map[string]bool{}
	for _, f := range fe {
		got[f.Field] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no problem named %s; got %v", w, got)
		}
	}
}

func TestCheckTypes(t *testing.T) {
	d := &Definition{Fields: []Field{{Name: "e", Label: "E", Type: TypeEmail, Required: true}, {Name: "p", Label: "P", Type: TypePhone},
		{Name: "d", Label: "D", Type: TypeDate}, {Name: "c", Label: "C", Type: TypeChoice, Options: []string{"x", "y"}},
		{Name: "f", Label: "F", Type: TypeFile, Accept: []string{"image/*"}, MaxBytes: 4}}}
	for i := range d.Fields {
		if d.Fields[i].MaxLength == 0 {
			d.Fields[i].MaxLength = 200
		}
	}
	fe := d.Check(&Input{Values: map[string]string{"p": "call me", "d": "23/04/1980", "c": "z"},
		Files: map[string]*File{"f": {Name: "a.pdf", ContentType: "application/pdf", Content: []byte("12")}}})
	if len(fe) != 5 {
		t.Fatalf("want 5 problems (e, p, d, c, f), got %d: %v", len(fe), fe)
	}
	if fe := d.Check(&Input{Values: map[string]string{"e": "a@b.example", "p": "+1 (555) 010-0100", "d": "1980-04-23", "c": "y"},
		Files: map[string]*File{"f": {Name: "a.png", ContentType: "image/png", Content: []byte("1234")}}}); len(fe) != 0 {
		t.Fatalf("valid input refused: %v", fe[0])
	}
}

func TestLimiterRefillsPerClient(t *testing.T) {
	l := NewLimiter(10*time.Second, 2)
	now := time.Unix(1000, 0)
	first, second, third := l.Allow("a", now), l.Allow("a", now), l.Allow("a", now)
	if !first || !second || third {
		t.Fatal("burst of 2 not enforced")
	}
	if !l.Allow("b", now) {
		t.Fatal("another client was limited")
	}
	if !l.Allow("a", now.Add(10*time.Second)) {
		t.Fatal("allowance did not refill")
	}
}
