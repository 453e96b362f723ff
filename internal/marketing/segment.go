package marketing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// The segment language is JSON, one node per object:
//
//	{"and": [node, …]}  {"or": [node, …]}  {"not": node}
//	{"field": "score", "op": "gte", "value": 5}
//	{"list": "lst_…"}   {"topic": "top_…"}
//	{"consent": {"kind": "hipaa_authorization", "purpose": "marketing"}}
//	{"engaged": {"event": "clicked", "within_days": 90}}
//	{"suppressed": "marketing"}
//
// Field values are turned into keyed hashes here and matched by the store's builder
// as bound parameters: no text from a filter ever becomes SQL.

// Operators per field type.
var typeOps = map[string][]string{
	TypeString:  {"eq", "ne", "in", "exists"},
	TypeBoolean: {"eq", "ne", "exists"},
	TypeList:    {"contains", "exists"},
	TypeNumber:  {"eq", "ne", "lt", "lte", "gt", "gte", "between", "exists"},
	TypeDate:    {"eq", "ne", "lt", "lte", "gt", "gte", "between", "exists"},
}

// ConsentKinds are the kinds of consent record.
var ConsentKinds = []string{"hipaa_authorization", "email_opt_in", "double_opt_in"}

// EngagementEvents are the timeline events a segment may ask about.
var EngagementEvents = []string{"delivered", "opened", "clicked", "portal.viewed", "bounced", "unsubscribed"}

var scopeName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

const (
	maxSegmentDepth = 12
	maxSegmentNodes = 200
)

type compiler struct {
	ctx      context.Context
	s        *Service
	tenantID string
	schema   map[string]*Field
	h        hasher
	now      time.Time
	fe       []*FieldError
	nodes    int
	err      error // the database failed: not the filter's fault
}

func (c *compiler) bad(path, format string, a ...any) {
	c.fe = append(c.fe, fieldErr(path, fmt.Sprintf(format, a...)))
}

// Compile validates a filter and turns it into the store's node tree; every problem
// is reported with its path under "filter".
func (s *Service) Compile(ctx context.Context, tenantID string, filter json.RawMessage) (*store.SegNode, error) {
	_, h, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	fields, err := s.Schema(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	c := &compiler{ctx: ctx, s: s, tenantID: tenantID, schema: schemaMap(fields), h: h, now: s.now()}
	n := c.node(filter, "filter", 0)
	if c.err != nil {
		return nil, c.err
	}
	if err := invalid("Invalid segment", c.fe); err != nil {
		return nil, err
	}
	return n, nil
}

func decodeStrict(raw json.RawMessage, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	d.UseNumber()
	return d.Decode(v)
}

func (c *compiler) node(raw json.RawMessage, path string, depth int) *store.SegNode {
	c.nodes++
	if c.nodes > maxSegmentNodes {
		if c.nodes == maxSegmentNodes+1 {
			c.bad(path, "the filter has more than %d conditions", maxSegmentNodes)
		}
		return nil
	}
	if depth > maxSegmentDepth {
		c.bad(path, "nests deeper than %d", maxSegmentDepth)
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		c.bad(path, "must be an object")
		return nil
	}
	if _, ok := obj["field"]; ok {
		return c.field(obj, path)
	}
	if len(obj) != 1 {
		c.bad(path, "must have exactly one of and, or, not, field, list, topic, consent, engaged, suppressed")
		return nil
	}
	for key, v := range obj {
		p := path + "." + key
		switch key {
		case "and", "or":
			var kids []json.RawMessage
			if err := json.Unmarshal(v, &kids); err != nil || len(kids) == 0 {
				c.bad(p, "must be a non-empty array of conditions")
				return nil
			}
			n := &store.SegNode{Op: store.SegAnd}
			if key == "or" {
				n.Op = store.SegOr
			}
			for i, k := range kids {
				n.Kids = append(n.Kids, c.node(k, fmt.Sprintf("%s[%d]", p, i), depth+1))
			}
			return n
		case "not":
			return &store.SegNode{Op: store.SegNot, Kids: []*store.SegNode{c.node(v, p, depth+1)}}
		case "list", "topic":
			var id string
			if err := json.Unmarshal(v, &id); err != nil {
				c.bad(p, "must be an id")
				return nil
			}
			if !c.exists(key, id) {
				c.bad(p, "no such %s", key)
				return nil
			}
			op := store.SegList
			if key == "topic" {
				op = store.SegTopic
			}
			return &store.SegNode{Op: op, ID: id}
		case "consent":
			var in struct {
				Kind    string `json:"kind"`
				Purpose string `json:"purpose"`
			}
			if err := decodeStrict(v, &in); err != nil {
				c.bad(p, "must be {\"kind\": …, \"purpose\": …}")
				return nil
			}
			if !slices.Contains(ConsentKinds, in.Kind) {
				c.bad(p+".kind", "must be one of %s", strings.Join(ConsentKinds, ", "))
			}
			if in.Purpose != "" && !scopeName.MatchString(in.Purpose) {
				c.bad(p+".purpose", "must be a purpose name: lowercase letters, digits, _ or -")
			}
			return &store.SegNode{Op: store.SegConsent, Kind: in.Kind, Value: in.Purpose, Now: c.now}
		case "engaged":
			var in struct {
				Event      string `json:"event"`
				WithinDays int    `json:"within_days"`
			}
			if err := decodeStrict(v, &in); err != nil {
				c.bad(p, "must be {\"event\": …, \"within_days\": …}")
				return nil
			}
			if !slices.Contains(EngagementEvents, in.Event) {
				c.bad(p+".event", "must be one of %s", strings.Join(EngagementEvents, ", "))
			}
			if in.WithinDays < 1 || in.WithinDays > 3650 {
				c.bad(p+".within_days", "must be 1-3650")
			}
			return &store.SegNode{Op: store.SegEvent, Value: in.Event, Since: c.now.AddDate(0, 0, -in.WithinDays)}
		case "suppressed":
			var scope string
			if err := json.Unmarshal(v, &scope); err != nil || !slices.Contains(Scopes, scope) {
				c.bad(p, "must be one of %s", strings.Join(Scopes, ", "))
				return nil
			}
			return &store.SegNode{Op: store.SegSuppressed, Value: scope}
		default:
			c.bad(p, "is not a condition: use and, or, not, field, list, topic, consent, engaged or suppressed")
			return nil
		}
	}
	return nil
}

func (c *compiler) exists(kind, id string) bool {
	if kind == "list" {
		_, err := c.s.DB.MarketingList(c.ctx, c.tenantID, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			c.err = err
		}
		return err == nil
	}
	ts, err := c.s.DB.Topics(c.ctx, c.tenantID)
	if err != nil {
		c.err = err
		return false
	}
	return slices.ContainsFunc(ts, func(t *store.Topic) bool { return t.ID == id })
}

func (c *compiler) field(obj map[string]json.RawMessage, path string) *store.SegNode {
	var in struct {
		Field string          `json:"field"`
		Op    string          `json:"op"`
		Value json.RawMessage `json:"value"`
	}
	raw, _ := json.Marshal(obj)
	if err := decodeStrict(raw, &in); err != nil {
		c.bad(path, "a field condition has only field, op and value")
		return nil
	}
	f := c.schema[in.Field]
	if f == nil {
		c.bad(path+".field", "is not a field of the contact schema")
		return nil
	}
	if !f.Filterable {
		c.bad(path+".field", "is not filterable: mark the field filterable to use it in segments")
		return nil
	}
	if !slices.Contains(typeOps[f.Type], in.Op) {
		c.bad(path+".op", "must be one of %s for a %s field", strings.Join(typeOps[f.Type], ", "), f.Type)
		return nil
	}
	vpath := path + ".value"
	if in.Op == "exists" {
		if len(in.Value) != 0 {
			c.bad(vpath, "exists takes no value")
			return nil
		}
		return &store.SegNode{Op: store.SegIndex, Hashes: [][]byte{c.h.has(f.Name)}}
	}
	var v any
	if err := json.Unmarshal(in.Value, &v); err != nil || len(in.Value) == 0 {
		c.bad(vpath, "is required")
		return nil
	}
	var ok bool
	one := func(v any, p string) (any, bool) {
		pv, err := parseValue(f.Type, v, false)
		if err != nil {
			c.bad(p, "%s", err.Error())
			return nil, false
		}
		return pv, true
	}
	switch in.Op {
	case "eq", "ne", "contains":
		var pv any = v
		if in.Op == "contains" {
			if str, ok := v.(string); !ok || len(str) > maxStringLen {
				c.bad(vpath, "must be a string")
				return nil
			}
		} else if pv, ok = one(v, vpath); !ok {
			return nil
		}
		n := &store.SegNode{Op: store.SegIndex, Hashes: [][]byte{c.eqHash(f, pv)}}
		if in.Op == "ne" {
			return &store.SegNode{Op: store.SegNot, Kids: []*store.SegNode{n}}
		}
		return n
	case "in":
		items, ok := v.([]any)
		if !ok || len(items) == 0 || len(items) > 100 {
			c.bad(vpath, "must be a list of 1-100 values")
			return nil
		}
		n := &store.SegNode{Op: store.SegIndex}
		for i, it := range items {
			pv, ok := one(it, fmt.Sprintf("%s[%d]", vpath, i))
			if ok {
				n.Hashes = append(n.Hashes, c.eqHash(f, pv))
			}
		}
		return n
	}
	// Ordered comparisons become a range of keys.
	var lo, hi uint64 = 0, maxKey(f.Type)
	if in.Op == "between" {
		pair, ok := v.([]any)
		if !ok || len(pair) != 2 {
			c.bad(vpath, "must be [low, high]")
			return nil
		}
		a, ok1 := one(pair[0], vpath+"[0]")
		b, ok2 := one(pair[1], vpath+"[1]")
		if !ok1 || !ok2 {
			return nil
		}
		lo, hi = orderKey(f.Type, a), orderKey(f.Type, b)
	} else {
		pv, ok := one(v, vpath)
		if !ok {
			return nil
		}
		k := orderKey(f.Type, pv)
		switch in.Op {
		case "lt":
			if k == 0 {
				return &store.SegNode{Op: store.SegIndex}
			}
			hi = k - 1
		case "lte":
			hi = k
		case "gt":
			if k == maxKey(f.Type) {
				return &store.SegNode{Op: store.SegIndex}
			}
			lo = k + 1
		case "gte":
			lo = k
		}
	}
	if lo > hi {
		return &store.SegNode{Op: store.SegIndex}
	}
	return &store.SegNode{Op: store.SegIndex, Hashes: c.h.rangeHashes(f, lo, hi)}
}

func (c *compiler) eqHash(f *Field, v any) []byte {
	switch f.Type {
	case TypeNumber, TypeDate:
		k := orderKey(f.Type, v)
		return c.h.prefix(f.Name, levels(f.Type), k)
	case TypeBoolean:
		return c.h.eq(f.Name, fmt.Sprint(v))
	}
	// strings, and one item of a list

	return c.h.eq(f.Name, v.(string))
}
