package formpages

import (
	"strings"

	"github.com/sealpost/sealpost/internal/forms"
)

// view is what the template shows.
type view struct {
	Title, Org, Intro string
	Action, CSRF      string
	Multipart         bool
	Fields            []fieldView
	Errors            []errorView
	Notice            string
	Consent           *consentView
	OfferCopy         bool
	CopyChecked       bool
	Honeypot          string
	Done              bool
	Confirmation      string
	CopySent          bool
	Refused           string
}

type fieldView struct {
	forms.Field
	ID, Value, Error, DescribedBy, InputType, Autocomplete, AcceptAttr string
	Checked                                                            bool
}

type errorView struct{ ID, Label, Message string }

type consentView struct {
	Label, Statement string
	Checked          bool
}

var inputTypes = map[string][2]string{
	forms.TypeText:  {"text", ""},
	forms.TypeEmail: {"email", "email"},
	forms.TypePhone: {"tel", "tel"},
	forms.TypeDate:  {"date", ""},
}

// newView lays out a form, with what was sent and its problems when there were.
func newView(q *request, in *input, fe []*forms.FieldError) *view {
	d := q.hosted.Def
	v := &view{Title: d.Title, Org: q.org, Intro: d.Intro, Action: "/f/" + q.r.PathValue("token"), Honeypot: forms.Honeypot,
		OfferCopy: d.SubmitterCopy != ""}
	errs := map[string]string{}
	for _, e := range fe {
		if _, dup := errs[e.Field]; !dup {
			errs[e.Field] = e.Detail
		}
	}
	for _, f := range d.Fields {
		fv := fieldView{Field: f, ID: "f-" + f.Name, Error: errs[f.Name]}
		t := inputTypes[f.Type]
		fv.InputType, fv.Autocomplete = t[0], t[1]
		if f.Type == forms.TypeFile {
			v.Multipart = true
			fv.AcceptAttr = strings.Join(f.Accept, ",")
		}
		if in != nil {
			fv.Value = in.Values[f.Name]
			fv.Checked = fv.Value != ""
		}
		var ids []string
		if f.Help != "" {
			ids = append(ids, fv.ID+"-hint")
		}
		if fv.Error != "" {
			ids = append(ids, fv.ID+"-error")
			v.Errors = append(v.Errors, errorView{ID: fv.ID, Label: f.Label, Message: fv.Error})
		}
		fv.DescribedBy = strings.Join(ids, " ")
		v.Fields = append(v.Fields, fv)
	}
	if c := d.Consent; c != nil {
		label := "I give this authorisation"
		if c.Kind == forms.ConsentEmailOptIn {
			label = "Yes, send me emails"
		}
		v.Consent = &consentView{Label: label, Statement: c.Statement, Checked: in != nil && in.Consent}
	}
	if in != nil {
		v.CopyChecked = in.Copy
	}
	return v
}
