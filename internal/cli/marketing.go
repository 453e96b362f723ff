package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/strictjson"
)

// The marketing commands call the same marketing.Service methods as the API.

func mkService(a *admin, e *env) *marketing.Service {
	return &marketing.Service{DB: a.db, Tenants: a.tenants, Log: logger(a.cfg, e.stderr)}
}

// mkErr prints every problem of a validation error, one per line.
func mkErr(err error) error {
	var ie *marketing.InvalidError
	if errors.As(err, &ie) {
		var msgs []string
		for _, f := range ie.Fields {
			msgs = append(msgs, f.Field+": "+f.Detail)
		}
		return errors.New(ie.Title + "\n" + strings.Join(msgs, "\n"))
	}
	return err
}

func printJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// tenantVerb parses flags for a per-tenant verb and runs fn with the service.
func tenantVerb(e *env, name, usage, about string, nargs int, setup func(fs *flagSet), fn func(ctx context.Context, s *marketing.Service, a *admin, tenantID string, args []string) error, args []string) error {
	fs := flags(e, name, usage, about)
	cfg, ten := tenantFlags(fs, e)
	if setup != nil {
		setup(&flagSet{fs})
	}
	a, t, err := parseTenant(e, fs, args, nargs, cfg, ten)
	if err != nil {
		return err
	}
	defer a.close()
	return mkErr(fn(context.Background(), mkService(a, e), a, t.ID, fs.Args()))
}

func contactCmd(e *env, args []string) error {
	return sub(e, "contact", args, map[string]func(*env, []string) error{
		"field-add": contactFieldAdd, "fields": contactFields, "put": contactPut, "get": contactGet, "list": contactList,
		"remove": contactRemove, "import": contactImport, "export": contactExport,
	}, `
Verbs:
  field-add --tenant T NAME TYPE [--filterable]
                    add a custom field: string, number, date, boolean or list
  fields --tenant T list the custom fields
  put --tenant T EMAIL [--fields '{"plan":"gold"}'] [--lists lst_a,lst_b]
                    create or update a contact (fields merge; null removes one)
  get --tenant T ID show a contact
  list --tenant T [--after ID] [--limit 100]
                    list contacts by id
  remove --tenant T ID
                    delete a contact (its consent records are kept six years)
  import --tenant T FILE.csv [--list ID]
                    import contacts; prints the report with every bad row and column
  export --tenant T write every contact as CSV to stdout

Field values are sealed at rest. A filterable field also keeps keyed hashes so
segments can filter on it without its value in the clear.`)
}

func contactFieldAdd(e *env, args []string) error {
	var filt *bool
	return tenantVerb(e, "contact field-add", "contact field-add --tenant T NAME TYPE [--filterable]", "Adds a custom field to the tenant's contact schema.", 2,
		func(fs *flagSet) {
			filt = fs.Bool("filterable", false, "keep keyed-hash index rows so segments can filter on it")
		},
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			return s.AddField(ctx, tid, &marketing.Field{Name: args[0], Type: args[1], Filterable: *filt}, a.entry("marketing.field.add", tid))
		}, args)
}

func contactFields(e *env, args []string) error {
	return tenantVerb(e, "contact fields", "contact fields --tenant T", "Lists the tenant's custom contact fields.", 0, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			fs, err := s.Schema(ctx, tid)
			if err != nil {
				return err
			}
			tw := table(e)
			fmt.Fprintln(tw, "NAME\tTYPE\tFILTERABLE")
			for _, f := range fs {
				fmt.Fprintf(tw, "%s\t%s\t%v\n", f.Name, f.Type, f.Filterable)
			}
			return tw.Flush()
		}, args)
}

func contactPut(e *env, args []string) error {
	var fields, lists *string
	return tenantVerb(e, "contact put", "contact put --tenant T EMAIL [--fields JSON] [--lists IDS]", "Creates or updates the contact with this address.", 1,
		func(fs *flagSet) {
			fields = fs.String("fields", "", `field values as a JSON object, e.g. {"plan":"gold","score":5}`)
			lists = fs.String("lists", "", "comma-separated list ids to join")
		},
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			in := &marketing.ContactInput{Email: args[0]}
			if *fields != "" {
				if err := strictjson.Decode([]byte(*fields), &in.Fields); err != nil {
					return fmt.Errorf("--fields: %v", err)
				}
			}
			if *lists != "" {
				in.Lists = strings.Split(*lists, ",")
			}
			c, _, err := s.PutContact(ctx, tid, in, a.entry("marketing.contact.put", tid))
			if err != nil {
				return err
			}
			return printJSON(e, c)
		}, args)
}

func contactGet(e *env, args []string) error {
	return tenantVerb(e, "contact get", "contact get --tenant T ID", "Shows a contact with its field values.", 1, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			c, err := s.GetContact(ctx, tid, args[0])
			if err != nil {
				return err
			}
			return printJSON(e, c)
		}, args)
}

func contactList(e *env, args []string) error {
	var after *string
	var limit *int
	return tenantVerb(e, "contact list", "contact list --tenant T [--after ID] [--limit N]", "Lists contacts by id.", 0,
		func(fs *flagSet) {
			after = fs.String("after", "", "the last id of the previous page")
			limit = fs.Int("limit", 100, "contacts per page (up to 1000)")
		},
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			cs, err := s.ListContacts(ctx, tid, *after, *limit)
			if err != nil {
				return err
			}
			tw := table(e)
			fmt.Fprintln(tw, "ID\tEMAIL\tFIELDS")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", c.ID, c.Email, len(c.Fields))
			}
			return tw.Flush()
		}, args)
}

func contactRemove(e *env, args []string) error {
	return tenantVerb(e, "contact remove", "contact remove --tenant T ID", "Deletes a contact; its consent records are kept, sealed, six years.", 1, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			return s.DeleteContact(ctx, tid, args[0], a.entry("marketing.contact.delete", tid))
		}, args)
}

func contactImport(e *env, args []string) error {
	var list *string
	return tenantVerb(e, "contact import", "contact import --tenant T FILE.csv [--list ID]",
		"Imports contacts from a CSV whose header names email and custom fields. Good rows are stored; the report lists every bad row and column. Lists are items joined by ;, dates YYYY-MM-DD.", 1,
		func(fs *flagSet) { list = fs.String("list", "", "a list every imported contact joins") },
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			rep, err := s.Import(ctx, tid, f, marketing.ImportOptions{List: *list}, a.entry("marketing.contact.import", tid))
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%d rows: %d stored (%d new, %d updated), %d problems\n", rep.Rows, rep.Stored, rep.Created, rep.Updated, len(rep.Problems))
			for _, p := range rep.Problems {
				col := p.Column
				if col == "" {
					col = "-"
				}
				fmt.Fprintf(e.stdout, "row %d\t%s\t%s\n", p.Row, col, p.Detail)
			}
			if len(rep.Problems) > 0 {
				return errors.New("some rows were not imported")
			}
			return nil
		}, args)
}

func contactExport(e *env, args []string) error {
	return tenantVerb(e, "contact export", "contact export --tenant T > contacts.csv", "Writes every contact as CSV: email, then the custom fields by name.", 0, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			_, err := s.Export(ctx, tid, e.stdout)
			return err
		}, args)
}

func listCmd(e *env, args []string) error {
	return sub(e, "list", args, map[string]func(*env, []string) error{
		"create": listCreate, "show": listShow, "remove": listRemove, "member": listMember, "topic-create": topicCreate, "topics": topicShow,
	}, `
Verbs:
  create --tenant T NAME [--public] [--double-opt-in]
                    make a list
  show --tenant T   list the lists
  remove --tenant T ID
                    delete a list and its memberships
  member --tenant T LIST CONTACT STATUS
                    set a contact's standing: pending, confirmed, unsubscribed, or none
  topic-create --tenant T NAME [--description D]
                    make a preference-centre topic
  topics --tenant T list the topics`)
}

func listCreate(e *env, args []string) error {
	var pub, dbl *bool
	return tenantVerb(e, "list create", "list create --tenant T NAME [--public] [--double-opt-in]", "Makes a list.", 1,
		func(fs *flagSet) {
			pub = fs.Bool("public", false, "shown in the preference centre")
			dbl = fs.Bool("double-opt-in", false, "new members stay pending until they confirm")
		},
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			l, err := s.CreateList(ctx, tid, &marketing.List{Name: args[0], Public: *pub, DoubleOptIn: *dbl}, a.entry("marketing.list.create", tid))
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, l.ID)
			return nil
		}, args)
}

func listShow(e *env, args []string) error {
	return tenantVerb(e, "list show", "list show --tenant T", "Lists the tenant's lists.", 0, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			ls, err := s.Lists(ctx, tid)
			if err != nil {
				return err
			}
			tw := table(e)
			fmt.Fprintln(tw, "ID\tNAME\tPUBLIC\tDOUBLE OPT-IN")
			for _, l := range ls {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%v\n", l.ID, l.Name, l.Public, l.DoubleOptIn)
			}
			return tw.Flush()
		}, args)
}

func listRemove(e *env, args []string) error {
	return tenantVerb(e, "list remove", "list remove --tenant T ID", "Deletes a list and its memberships.", 1, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			return s.DeleteList(ctx, tid, args[0], a.entry("marketing.list.delete", tid))
		}, args)
}

func listMember(e *env, args []string) error {
	return tenantVerb(e, "list member", "list member --tenant T LIST CONTACT STATUS", "Sets a contact's standing on a list: pending, confirmed, unsubscribed, or none to take it off.", 3, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			st := args[2]
			if st == "none" {
				st = ""
			}
			return s.SetMembership(ctx, tid, args[0], args[1], st, a.entry("marketing.list.member", tid))
		}, args)
}

func topicCreate(e *env, args []string) error {
	var desc *string
	return tenantVerb(e, "list topic-create", "list topic-create --tenant T NAME [--description D]", "Makes a preference-centre topic.", 1,
		func(fs *flagSet) { desc = fs.String("description", "", "what the contact gets") },
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			t, err := s.CreateTopic(ctx, tid, &marketing.Topic{Name: args[0], Description: *desc}, a.entry("marketing.topic.create", tid))
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, t.ID)
			return nil
		}, args)
}

func topicShow(e *env, args []string) error {
	return tenantVerb(e, "list topics", "list topics --tenant T", "Lists the preference-centre topics.", 0, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			ts, err := s.Topics(ctx, tid)
			if err != nil {
				return err
			}
			tw := table(e)
			fmt.Fprintln(tw, "ID\tNAME\tDESCRIPTION")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Name, t.Description)
			}
			return tw.Flush()
		}, args)
}

func segmentCmd(e *env, args []string) error {
	return sub(e, "segment", args, map[string]func(*env, []string) error{
		"create": segmentCreate, "show": segmentShow, "remove": segmentRemove, "members": segmentMembers, "preview": segmentPreview,
	}, `
Verbs:
  create --tenant T NAME FILTER-JSON
                    save a segment; the filter is validated with field paths
  show --tenant T   list saved segments
  remove --tenant T ID
                    delete a saved segment
  members --tenant T ID [--limit 100]
                    count and list a segment's members now
  preview --tenant T FILTER-JSON
                    evaluate a filter without saving it

Filters are JSON: {"and": [...]}, {"or": [...]}, {"not": {...}},
{"field": "score", "op": "gte", "value": 5} (eq ne in lt lte gt gte between contains exists),
{"list": "lst_…"}, {"topic": "top_…"},
{"consent": {"kind": "hipaa_authorization", "purpose": "marketing"}},
{"engaged": {"event": "clicked", "within_days": 90}}, {"suppressed": "marketing"}.`)
}

func segmentCreate(e *env, args []string) error {
	return tenantVerb(e, "segment create", "segment create --tenant T NAME FILTER-JSON", "Saves a segment.", 2, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			sg, err := s.CreateSegment(ctx, tid, &marketing.SegmentInput{Name: args[0], Filter: json.RawMessage(args[1])}, a.entry("marketing.segment.create", tid))
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, sg.ID)
			return nil
		}, args)
}

func segmentShow(e *env, args []string) error {
	return tenantVerb(e, "segment show", "segment show --tenant T", "Lists saved segments with their filters.", 0, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			sgs, err := s.Segments(ctx, tid)
			if err != nil {
				return err
			}
			return printJSON(e, sgs)
		}, args)
}

func segmentRemove(e *env, args []string) error {
	return tenantVerb(e, "segment remove", "segment remove --tenant T ID", "Deletes a saved segment.", 1, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			return s.DeleteSegment(ctx, tid, args[0], a.entry("marketing.segment.delete", tid))
		}, args)
}

func printPage(e *env, p *marketing.SegmentPage) error {
	fmt.Fprintf(e.stderr, "%d contacts\n", p.Count)
	tw := table(e)
	for _, c := range p.Contacts {
		fmt.Fprintf(tw, "%s\t%s\n", c.ID, c.Email)
	}
	return tw.Flush()
}

func segmentMembers(e *env, args []string) error {
	var limit *int
	return tenantVerb(e, "segment members", "segment members --tenant T ID [--limit N]", "Counts and lists a saved segment's members now.", 1,
		func(fs *flagSet) { limit = fs.Int("limit", 100, "members to list") },
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			sg, err := s.GetSegment(ctx, tid, args[0])
			if err != nil {
				return err
			}
			p, err := s.Members(ctx, tid, sg.Filter, "", *limit)
			if err != nil {
				return err
			}
			return printPage(e, p)
		}, args)
}

func segmentPreview(e *env, args []string) error {
	return tenantVerb(e, "segment preview", "segment preview --tenant T FILTER-JSON", "Evaluates a filter without saving it.", 1, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			p, err := s.Members(ctx, tid, json.RawMessage(args[0]), "", 100)
			if err != nil {
				return err
			}
			return printPage(e, p)
		}, args)
}

func consentCmd(e *env, args []string) error {
	return sub(e, "consent", args, map[string]func(*env, []string) error{
		"record": consentRecord, "show": consentShow, "revoke": consentRevoke, "fire": consentFire,
	}, `
Verbs:
  record --tenant T EMAIL --kind K --purposes a,b --via HOW [--fields f,g]
         [--evidence SHA256] [--expires TIME] [--expiry-event NAME] [--remuneration]
                    record a consent or authorisation (audited)
  show --tenant T [--contact ID]
                    list consent records, those of deleted contacts included
  revoke --tenant T ID --via HOW
                    revoke at once (consent.revoked event)
  fire --tenant T CONTACT EVENT
                    fire an expiry event: ends the contact's records that name it

Kinds: hipaa_authorization (needs --evidence and --expires or --expiry-event),
email_opt_in, double_opt_in (needs --evidence).`)
}

func consentRecord(e *env, args []string) error {
	var kind, purposes, via, fields, evidence, expires, event *string
	var rem *bool
	return tenantVerb(e, "consent record", "consent record --tenant T EMAIL --kind K --purposes a,b --via HOW [flags]", "Records a consent or authorisation.", 1,
		func(fs *flagSet) {
			kind = fs.String("kind", "", "hipaa_authorization, email_opt_in or double_opt_in")
			purposes = fs.String("purposes", "", "comma-separated purposes")
			via = fs.String("via", "", "how it was obtained: signed_form, web_form, paper, …")
			fields = fs.String("fields", "", "comma-separated fields allowed for personalisation")
			evidence = fs.String("evidence", "", "SHA-256 (hex) of the evidence")
			expires = fs.String("expires", "", "expiry time (RFC 3339)")
			event = fs.String("expiry-event", "", "an event that ends it")
			rem = fs.Bool("remuneration", false, "financial remuneration is involved")
		},
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			in := &marketing.ConsentInput{Email: args[0], Kind: *kind, ObtainedVia: *via, EvidenceHash: *evidence, ExpiryEvent: *event, Remuneration: *rem}
			if *purposes != "" {
				in.Purposes = strings.Split(*purposes, ",")
			}
			if *fields != "" {
				in.Fields = strings.Split(*fields, ",")
			}
			if *expires != "" {
				t, err := time.Parse(time.RFC3339, *expires)
				if err != nil {
					return fmt.Errorf("--expires: use RFC 3339, e.g. 2027-06-30T00:00:00Z")
				}
				in.ExpiresAt = t
			}
			c, err := s.AddConsent(ctx, tid, in, a.entry("marketing.consent.record", tid))
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, c.ID)
			return nil
		}, args)
}

func consentShow(e *env, args []string) error {
	var contact *string
	return tenantVerb(e, "consent show", "consent show --tenant T [--contact ID]", "Lists consent records.", 0,
		func(fs *flagSet) { contact = fs.String("contact", "", "one contact's records") },
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			cs, err := s.Consents(ctx, tid, *contact)
			if err != nil {
				return err
			}
			return printJSON(e, cs)
		}, args)
}

func consentRevoke(e *env, args []string) error {
	var via *string
	return tenantVerb(e, "consent revoke", "consent revoke --tenant T ID --via HOW", "Revokes a consent at once.", 1,
		func(fs *flagSet) { via = fs.String("via", "", "how the revocation came: letter, phone, …") },
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			_, err := s.RevokeConsent(ctx, tid, args[0], *via, a.entry("marketing.consent.revoke", tid))
			return err
		}, args)
}

func consentFire(e *env, args []string) error {
	return tenantVerb(e, "consent fire", "consent fire --tenant T CONTACT EVENT", "Fires an expiry event for a contact.", 2, nil,
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			ids, err := s.FireExpiryEvent(ctx, tid, args[0], args[1], a.entry("marketing.consent.expire", tid))
			if err != nil {
				return err
			}
			for _, id := range ids {
				fmt.Fprintln(e.stdout, id)
			}
			return nil
		}, args)
}

func suppressionCmd(e *env, args []string) error {
	return sub(e, "suppression", args, map[string]func(*env, []string) error{
		"add": suppressionAdd, "remove": suppressionRemove, "show": suppressionShow,
		"sunset": suppressionSunset,
	}, `
Verbs:
  add --tenant T EMAIL [--scope marketing] [--reason manual]
                    suppress an address (reasons: unsubscribed, hard_bounce, complaint, manual)
  remove --tenant T EMAIL [--scope marketing]
                    take it off the list
  show --tenant T [--scope S] [--limit 100]
                    list suppressed addresses, newest first
  sunset --tenant T [--days N] [--sweep]
                    show or set the sunset policy: contacts with no human open or
                    click for N days are suppressed for marketing (0 turns it off);
                    --sweep applies it now instead of at the hourly sweep

A marketing suppression never stops transactional mail; a transactional one stops
everything sent to the address.`)
}

func suppressionAdd(e *env, args []string) error {
	var scope, reason *string
	return tenantVerb(e, "suppression add", "suppression add --tenant T EMAIL [--scope S] [--reason R]", "Suppresses an address in a scope.", 1,
		func(fs *flagSet) {
			scope = fs.String("scope", "marketing", "marketing or transactional")
			reason = fs.String("reason", "manual", "unsubscribed, hard_bounce, complaint or manual")
		},
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			return s.AddSuppression(ctx, tid, args[0], *reason, *scope, a.entry("marketing.suppression.add", tid))
		}, args)
}

func suppressionRemove(e *env, args []string) error {
	var scope *string
	return tenantVerb(e, "suppression remove", "suppression remove --tenant T EMAIL [--scope S]", "Removes a suppression.", 1,
		func(fs *flagSet) { scope = fs.String("scope", "marketing", "marketing or transactional") },
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			return s.RemoveSuppression(ctx, tid, args[0], *scope, a.entry("marketing.suppression.remove", tid))
		}, args)
}

func suppressionShow(e *env, args []string) error {
	var scope *string
	var limit *int
	return tenantVerb(e, "suppression show", "suppression show --tenant T [--scope S] [--limit N]", "Lists suppressed addresses, newest first.", 0,
		func(fs *flagSet) {
			scope = fs.String("scope", "", "marketing or transactional (default: both)")
			limit = fs.Int("limit", 100, "entries to list (up to 1000)")
		},
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			ss, err := s.Suppressions(ctx, tid, *scope, 0, *limit)
			if err != nil {
				return err
			}
			tw := table(e)
			fmt.Fprintln(tw, "EMAIL\tSCOPE\tREASON\tSINCE")
			for _, x := range ss {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Email, x.Scope, x.Reason, x.CreatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		}, args)
}

func suppressionSunset(e *env, args []string) error {
	var days *int
	var sweep *bool
	return tenantVerb(e, "suppression sunset", "suppression sunset --tenant T [--days N] [--sweep]",
		"Shows or sets the sunset policy: contacts with no human engagement for N days are suppressed for marketing.", 0,
		func(fs *flagSet) {
			days = fs.Int("days", -1, "days without a human open or click before suppression; 0 turns the policy off")
			sweep = fs.Bool("sweep", false, "apply the policy now")
		},
		func(ctx context.Context, s *marketing.Service, a *admin, tid string, args []string) error {
			if *days >= 0 {
				if err := s.SetSunset(ctx, tid, &marketing.Sunset{Days: *days}, a.entry("marketing.sunset.set", tid)); err != nil {
					return err
				}
			} else if *days != -1 {
				return s.SetSunset(ctx, tid, &marketing.Sunset{Days: *days}, nil) // reports the field error
			}
			cur, err := s.GetSunset(ctx, tid)
			if err != nil {
				return err
			}
			if cur.Days == 0 {
				fmt.Fprintln(e.stdout, "sunset policy: off")
			} else {
				fmt.Fprintf(e.stdout, "sunset policy: %d days\n", cur.Days)
			}
			if *sweep {
				n, err := s.SweepSunset(ctx, tid)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "suppressed: %d\n", n)
			}
			return nil
		}, args)
}
