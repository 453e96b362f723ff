package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/strictjson"
)

func formCmd(e *env, args []string) error {
	verbs := tenantVerbs("form", (*admin).forms, nil, map[string]tenantVerb[*forms.Service]{
		"list":        {usage: "form list --tenant T", about: "Lists a tenant's forms.", run: formList},
		"show":        {usage: "form show --tenant T ID", about: "Prints a form as JSON: definition, URL and embed snippet.", nargs: 1, run: formShow},
		"delete":      {usage: "form delete --tenant T ID", about: "Deletes a form and its stored submissions; messages it produced keep their own retention.", nargs: 1, run: formDelete},
		"submissions": {usage: "form submissions --tenant T ID [--values]", about: "Lists a form's stored submissions, oldest first.", nargs: 1, flags: formSubmissions},
	})
	verbs["create"] = formCreate // checks the definition before it opens the database
	return sub(e, "form", args, verbs, `
Verbs:
  create --tenant T FILE   create a form from a JSON definition (- reads stdin); prints
                           its hosted URL and the iframe snippet for the practice's site
  list --tenant T          list forms with their URLs
  show --tenant T ID       print a form's definition, URL and embed snippet as JSON
  delete --tenant T ID     delete a form: its URL stops answering, stored submissions go
  submissions --tenant T ID
                           list stored submissions (ids, times, evidence hashes); --values
                           prints what was submitted, unsealed

A definition (the same JSON as POST /v1/forms):
  {"name": "Intake", "title": "New patient intake", "from": "forms@clinic.example",
   "fields": [{"name": "full_name", "label": "Full name", "type": "text", "required": true},
              {"name": "referral", "label": "Referral", "type": "file", "accept": ["application/pdf"]}],
   "destinations": {"addresses": ["intake@clinic.example"], "webhook": true, "store": true},
   "confirmation": "Thank you.", "retention": "90d", "allowed_origins": ["https://clinic.example"]}
Field types: `+strings.Join(forms.Types, ", "))
}

func (a *admin) forms(e *env) *forms.Service {
	return server.FormsService(a.cfg, a.db, a.tenants, nil, mkService(a, e), logger(a.cfg, e.stderr), nil)
}

func formCreate(e *env, args []string) error {
	fs := flags(e, "form create", "form create --tenant T FILE", "Creates a secure form from a JSON definition file (- for stdin) and prints its URL and embed snippet.")
	cfg, ten := tenantFlags(fs, e)
	data, err := parseFileArg(fs, args)
	if err != nil {
		return err
	}
	var d forms.Definition
	if err := strictjson.Decode(data, &d); err != nil {
		return fmt.Errorf("form file %s: %w", fs.Arg(0), err)
	}
	a, t, err := openTenant(e, *cfg, *ten)
	if err != nil {
		return err
	}
	defer a.close()
	v, fe, err := a.forms(e).Create(context.Background(), t.ID, &d, a.entry("form.create", t.ID))
	if err != nil {
		return err
	}
	if fe != nil {
		return fieldProblems("invalid form:", fe)
	}
	fmt.Fprintf(e.stderr, "form %s created for %s. Its page (keep the URL as private as the form needs):\n", v.ID, t.Name)
	fmt.Fprintln(e.stdout, v.URL)
	fmt.Fprintln(e.stdout, v.Embed)
	return nil
}

// formCall is what a form verb acts with.
type formCall = verbCall[*forms.Service]

func formList(c *formCall) error {
	vs, err := c.s.List(c.ctx, c.tenant.ID, "", 1000)
	if err != nil {
		return err
	}
	tw := table(c.e)
	fmt.Fprintln(tw, "ID\tNAME\tFIELDS\tCREATED\tURL")
	for _, v := range vs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", v.ID, v.Name, len(v.Form.Fields), v.CreatedAt.UTC().Format(time.RFC3339), v.URL)
	}
	return tw.Flush()
}

func formShow(c *formCall) error {
	v, err := c.s.Get(c.ctx, c.tenant.ID, c.args[0])
	if err != nil {
		return fmt.Errorf("form %s: %w", c.args[0], err)
	}
	enc := json.NewEncoder(c.e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func formDelete(c *formCall) error {
	if err := c.s.Delete(c.ctx, c.tenant.ID, c.args[0], c.entry("form.delete")); err != nil {
		return fmt.Errorf("delete %s: %w", c.args[0], err)
	}
	fmt.Fprintf(c.e.stdout, "form %s deleted\n", c.args[0])
	return nil
}

func formSubmissions(fs *flagSet) func(*formCall) error {
	values := fs.Bool("values", false, "print the submitted values as JSON (they are PHI: mind where the output goes)")
	return func(c *formCall) error {
		subs, err := c.s.Submissions(c.ctx, c.tenant.ID, c.args[0], "", 1000)
		if err != nil {
			return fmt.Errorf("form %s: %w", c.args[0], err)
		}
		if *values {
			enc := json.NewEncoder(c.e.stdout)
			enc.SetEscapeHTML(false)
			for _, s := range subs {
				if err := enc.Encode(s); err != nil {
					return err
				}
			}
			return nil
		}
		tw := table(c.e)
		fmt.Fprintln(tw, "ID\tCREATED\tEXPIRES\tMESSAGE\tEVIDENCE")
		for _, s := range subs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.CreatedAt.UTC().Format(time.RFC3339), s.ExpiresAt.UTC().Format(time.RFC3339), s.MessageID, s.EvidenceHash)
		}
		return tw.Flush()
	}
}
