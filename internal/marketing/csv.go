package marketing

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
)

// ImportProblem names one bad cell (or row, with Column "") of an imported CSV. Row
// numbers count the header as row 1, as a spreadsheet shows them. Detail never
// quotes the value.
type ImportProblem struct {
	Row    int    `json:"row"`
	Column string `json:"column,omitempty"`
	Detail string `json:"detail"`
}

// ImportReport is what an import did.
type ImportReport struct {
	Rows     int             `json:"rows"`
	Stored   int             `json:"stored"`
	Created  int             `json:"created"`
	Updated  int             `json:"updated"`
	Problems []ImportProblem `json:"problems"`
	// Truncated is set when more problems were found than the report lists.
	Truncated bool `json:"truncated,omitempty"`
}

// ImportOptions tune an import.
type ImportOptions struct {
	List string // a list every imported contact joins; "" none
}

// importBatch is how many rows share one lookup and one write: enough to amortise
// the commit, small enough that memory does not grow with the file.
const (
	importBatch       = 500
	maxImportProblems = 100000
)

// Import reads a CSV whose header names "email" and schema fields, and stores every
// good row (creating or updating contacts by address) while reporting every bad
// cell. It streams: memory depends on the batch, not the file.
func (s *Service) Import(ctx context.Context, tenantID string, r io.Reader, opt ImportOptions, audit *store.AuditEntry) (*ImportReport, error) {
	k, h, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	fields, err := s.Schema(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	schema := schemaMap(fields)
	var list *store.MarketingList
	if opt.List != "" {
		if list, err = s.DB.MarketingList(ctx, tenantID, opt.List); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		} else if err != nil {
			return nil, invalid("Invalid import", []*FieldError{fieldErr("list", "no such list")})
		}
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // a short or long row is reported, not fatal
	header, err := cr.Read()
	if err != nil {
		return nil, invalid("Invalid import", []*FieldError{fieldErr("row 1", "the file has no header row")})
	}
	header = append([]string(nil), header...)
	var hfe []*FieldError
	emailCol := -1
	seen := map[string]bool{}
	for i, c := range header {
		c = strings.TrimSpace(strings.TrimPrefix(c, "\ufeff"))
		header[i] = c
		switch {
		case seen[c]:
			hfe = append(hfe, fieldErr(fmt.Sprintf("row 1, column %d", i+1), "column named twice"))
		case c == "email":
			emailCol = i
		case schema[c] == nil:
			hfe = append(hfe, fieldErr(fmt.Sprintf("row 1, column %d", i+1), "is not email or a field of the contact schema"))
		}
		seen[c] = true
	}
	if emailCol < 0 {
		hfe = append(hfe, fieldErr("row 1", "has no email column"))
	}
	if err := invalid("Invalid import", hfe); err != nil {
		return nil, err
	}

	rep := &ImportReport{Problems: []ImportProblem{}}
	problem := func(p ImportProblem) {
		if len(rep.Problems) >= maxImportProblems {
			rep.Truncated = true
			return
		}
		rep.Problems = append(rep.Problems, p)
	}
	type row struct {
		email string
		vals  map[string]any
	}
	batch := make([]row, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		hs := make([][]byte, len(batch))
		for i, r := range batch {
			hs[i] = k.AddressHash(r.email)
		}
		existing, err := s.DB.ContactsByEmailHash(ctx, tenantID, hs)
		if err != nil {
			return err
		}
		now := s.now()
		// A later row for the same address merges into the earlier one's result.
		olds := map[string]map[string]any{}
		for hs, c := range existing {
			oc, err := open(k, c)
			if err != nil {
				return err
			}
			olds[hs] = oc.Fields
		}
		// A later row for the same address merges into the earlier one's result and
		// replaces it, so each address is written once per batch.
		preps := make([]*sealed, 0, len(batch))
		at := map[string]int{}
		for i, r := range batch {
			key := string(hs[i])
			sc, err := prepare(k, h, schema, tenantID, r.email, olds[key], r.vals, now)
			if err != nil {
				return err
			}
			olds[key] = sc.fields
			if j, ok := at[key]; ok {
				preps[j] = sc
				continue
			}
			at[key] = len(preps)
			preps = append(preps, sc)
		}
		cs := make([]*store.Contact, len(preps))
		idx := make([][][]byte, len(preps))
		for i, sc := range preps {
			cs[i], idx[i] = sc.c, sc.index
		}
		var created int
		err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			if created, err = tx.PutContacts(ctx, cs, idx); err != nil {
				return err
			}
			if list == nil {
				return nil
			}
			st := "confirmed"
			if list.DoubleOptIn {
				st = "pending"
			}
			for _, c := range cs {
				if err := tx.PutMembership(ctx, tenantID, &store.Membership{ListID: list.ID, ContactID: c.ID, Status: st, UpdatedAt: now}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		updated := len(preps) - created
		if n := rep.Stored/importBatch + 1; n&(n-1) == 0 {
			// After batches 1, 2, 4, 8 …: the tables this import grows get fresh
			// statistics while it runs (store.RefreshContactStats says why).
			if err := s.DB.RefreshContactStats(ctx); err != nil {
				return err
			}
		}
		rep.Stored += len(batch)
		rep.Created += created
		rep.Updated += updated
		batch = batch[:0]
		return nil
	}

	line := 1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		rep.Rows++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				// A broken quote ends what can be read reliably.
				problem(ImportProblem{Row: line, Detail: "is not valid CSV; reading stopped here"})
				break
			}
		}
		if len(rec) != len(header) {
			problem(ImportProblem{Row: line, Detail: fmt.Sprintf("has %d columns, the header has %d", len(rec), len(header))})
			continue
		}
		bad := false
		email, err := normEmail(rec[emailCol])
		if err != nil {
			problem(ImportProblem{Row: line, Column: "email", Detail: err.Error()})
			bad = true
		}
		vals := map[string]any{}
		for i, c := range header {
			if i == emailCol || strings.TrimSpace(rec[i]) == "" {
				continue
			}
			v, err := parseValue(schema[c].Type, rec[i], true)
			if err != nil {
				problem(ImportProblem{Row: line, Column: c, Detail: err.Error()})
				bad = true
				continue
			}
			vals[c] = v
		}
		if bad {
			continue
		}
		batch = append(batch, row{email: email, vals: vals})
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	now := s.now()
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return audited(ctx, tx, audit, tenantID, "system", "marketing.contact.import", opt.List,
			fmt.Sprintf("rows %d stored %d problems %d", rep.Rows, rep.Stored, len(rep.Problems)), now)
	})
	return rep, err
}

// Export writes every contact as CSV: email, then the schema's fields in name order.
// Lists are written as items joined by ";", dates as YYYY-MM-DD.
func (s *Service) Export(ctx context.Context, tenantID string, w io.Writer) (int, error) {
	fields, err := s.Schema(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	head := []string{"email"}
	for _, f := range fields {
		head = append(head, f.Name)
	}
	if err := cw.Write(head); err != nil {
		return 0, err
	}
	n, after := 0, ""
	rec := make([]string, len(head))
	for {
		cs, err := s.ListContacts(ctx, tenantID, after, 500)
		if err != nil {
			return n, err
		}
		for _, c := range cs {
			rec[0] = csvSafe(c.Email)
			for i, f := range fields {
				rec[i+1] = csvSafe(formatValue(c.Fields[f.Name]))
			}
			if err := cw.Write(rec); err != nil {
				return n, err
			}
			n++
			after = c.ID
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
		if len(cs) < 500 {
			return n, nil
		}
	}
}

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, 0, len(v))
		for _, it := range v {
			parts = append(parts, fmt.Sprint(it))
		}
		return strings.Join(parts, ";")
	}
	return fmt.Sprint(v)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}
