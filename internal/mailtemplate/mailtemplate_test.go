package mailtemplate

import (
	"slices"
	"testing"

	"github.com/sealpost/sealpost/internal/pipeline"
)

func TestCheckNamesEveryProblem(t *testing.T) {
	fe := Check("", &pipeline.TemplateContent{Text: "Hello {{name"})
	var fields []string
	for _, f := range fe {
		fields = append(fields, f.Field)
	}
	if !slices.Equal(fields, []string{"name", "text"}) {
		t.Fatalf("problems: %v", fields)
	}
	if fe := Check("Reminder", &pipeline.TemplateContent{Subject: "Hi"}); len(fe) != 1 || fe[0].Field != "text" {
		t.Fatalf("a template without a body: %v", fe)
	}
	if fe := Check("Reminder", &pipeline.TemplateContent{Text: "Hello {{name}}"}); len(fe) != 0 {
		t.Fatalf("a good template: %v", fe)
	}
}

func TestRenderEscapesHTMLAndListsMissingVariables(t *testing.T) {
	r, fe := Render(&pipeline.TemplateContent{Subject: "For {{name}}", Text: "{{name}} on {{day}}", HTML: "<p>{{name}}</p>"}, map[string]any{"name": "<Alex>"})
	if fe != nil {
		t.Fatal(fe)
	}
	if r.Subject != "For <Alex>" || r.HTML != "<p>&lt;Alex&gt;</p>" {
		t.Fatalf("rendered: %+v", r)
	}
	if !slices.Equal(r.Missing, []string{"day"}) {
		t.Fatalf("missing: %v", r.Missing)
	}
}
