package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/strictjson"
)

func formCmd(e *env, args []string) error {
	return sub(e, "form", args, map[string]func(*env, []string) error{
		"create": formCreate, "list": formList, "show": formShow, "delete": formDelete, "submissions": formSubmissions,
	}, `
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
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	var data []byte
	var err error
	if fs.Arg(0) == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(fs.Arg(0))
	}
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
		var msgs []string
		for _, f := range fe {
			msgs = append(msgs, f.Field+": "+f.Detail)
		}
		return errors.New("invalid form:\n" + strings.Join(msgs, "\n"))
	}
	fmt.Fprintf(e.stderr, "form %s created for %s. Its page (keep the URL as private as the form needs):\n", v.ID, t.Name)
	fmt.Fprintln(e.stdout, v.URL)
	fmt.Fprintln(e.stdout, v.Embed)
	return nil
}

func formList(e *env, args []string) error {
	fs := flags(e, "form list", "form list --tenant T", "Lists a tenant's forms.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 0, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	vs, err := a.forms(e).List(context.Background(), t.ID, "", 1000)
	if err != nil {
		return err
	}
	tw := table(e)
	fmt.Fprintln(tw, "ID\tNAME\tFIELDS\tCREATED\tURL")
	for _, v := range vs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", v.ID, v.Name, len(v.Form.Fields), v.CreatedAt.UTC().Format(time.RFC3339), v.URL)
	}
	return tw.Flush()
}

func formShow(e *env, args []string) error {
	fs := flags(e, "form show", "form show --tenant T ID", "Prints a form as JSON: definition, URL and embed snippet.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	v, err := a.forms(e).Get(context.Background(), t.ID, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("form %s: %w", fs.Arg(0), err)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func formDelete(e *env, args []string) error {
	fs := flags(e, "form delete", "form delete --tenant T ID", "Deletes a form and its stored submissions; messages it produced keep their own retention.")
	cfg, ten := tenantFlags(fs, e)
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.forms(e).Delete(context.Background(), t.ID, fs.Arg(0), a.entry("form.delete", t.ID)); err != nil {
		return fmt.Errorf("delete %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(e.stdout, "form %s deleted\n", fs.Arg(0))
	return nil
}

func formSubmissions(e *env, args []string) error {
	fs := flags(e, "form submissions", "form submissions --tenant T ID [--values]", "Lists a form's stored submissions, oldest first.")
	cfg, ten := tenantFlags(fs, e)
	values := fs.Bool("values", false, "print the submitted values as JSON (they are PHI: mind where the output goes)")
	a, t, err := parseTenant(e, fs, args, 1, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	subs, err := a.forms(e).Submissions(context.Background(), t.ID, fs.Arg(0), "", 1000)
	if err != nil {
		return fmt.Errorf("form %s: %w", fs.Arg(0), err)
	}
	if *values {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		for _, s := range subs {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	tw := table(e)
	fmt.Fprintln(tw, "ID\tCREATED\tEXPIRES\tMESSAGE\tEVIDENCE")
	for _, s := range subs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.CreatedAt.UTC().Format(time.RFC3339), s.ExpiresAt.UTC().Format(time.RFC3339), s.MessageID, s.EvidenceHash)
	}
	return tw.Flush()
}
