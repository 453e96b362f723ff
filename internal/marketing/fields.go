package marketing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Field types a tenant's contact schema may use.
const (
	TypeString  = "string"
	TypeNumber  = "number"
	TypeDate    = "date"
	TypeBoolean = "boolean"
	TypeList    = "list"
)

var fieldTypes = []string{TypeString, TypeNumber, TypeDate, TypeBoolean, TypeList}

var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Field is one custom field of a tenant's contact schema.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Filterable keeps keyed-hash index rows for the field so segments can filter on
	// it; a field that is never filtered on leaves nothing but its sealed value.
	Filterable bool `json:"filterable"`
}

// Limits on a value: contacts are small records, not documents.
const (
	maxStringLen = 1000
	maxListItems = 50
)

// parseValue turns a value as sent (JSON, or CSV text when fromText) into the stored
// form: string, float64, "YYYY-MM-DD", bool or []string. The error never quotes it.
func parseValue(typ string, v any, fromText bool) (any, error) {
	if s, ok := v.(string); ok && fromText {
		switch typ {
		case TypeNumber:
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("must be a number")
			}
			return f, nil
		case TypeBoolean:
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true", "yes", "1":
				return true, nil
			case "false", "no", "0":
				return false, nil
			}
			return nil, fmt.Errorf("must be true or false")
		case TypeList:
			var items []any
			for _, it := range strings.Split(s, ";") {
				if it = strings.TrimSpace(it); it != "" {
					items = append(items, it)
				}
			}
			return parseValue(typ, items, false)
		}
	}
	switch typ {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string")
		}
		if len(s) > maxStringLen {
			return nil, fmt.Errorf("must be at most %d bytes", maxStringLen)
		}
		return s, nil
	case TypeNumber:
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be a number")
		}
		return f, nil
	case TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a date (YYYY-MM-DD)")
		}
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		if err != nil || d.Year() < minYear || d.Year() >= maxYear {
			return nil, fmt.Errorf("must be a date (YYYY-MM-DD) between %d and %d", minYear, maxYear-1)
		}
		return d.Format(time.DateOnly), nil
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be true or false")
		}
		return b, nil
	case TypeList:
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("must be a list of strings")
		}
		if len(items) > maxListItems {
			return nil, fmt.Errorf("must have at most %d items", maxListItems)
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, ok := it.(string)
			if !ok || len(s) > maxStringLen {
				return nil, fmt.Errorf("must be a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown type")
}

// Ordered values (numbers and dates) are indexed by the keyed hashes of every
// hexadecimal prefix of an order-preserving key, so a range is the union of a few
// prefixes (at most 2 × 15 per level): the database compares hashes, never values.
// What a reader of the database learns is which contacts share a prefix of a value —
// how close values are to each other, not what they are; the key is per tenant.
const (
	numberLevels = 16 // 64-bit keys
	dateLevels   = 5  // 20-bit day numbers
	minYear      = 1800
	maxYear      = 4600
)

var dateEpoch = time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC)

// orderKey maps a stored number or date to an unsigned key in the same order.
func orderKey(typ string, v any) uint64 {
	if typ == TypeDate {
		d, _ := time.Parse(time.DateOnly, v.(string))
		return uint64(d.Sub(dateEpoch).Hours() / 24)
	}
	bits := math.Float64bits(v.(float64))
	if bits&(1<<63) != 0 {
		return ^bits
	}
	return bits | 1<<63
}

func levels(typ string) int {
	if typ == TypeDate {
		return dateLevels
	}
	return numberLevels
}

// hasher makes a tenant's index hashes.
type hasher struct{ key []byte }

func (h hasher) sum(parts ...string) []byte {
	m := hmac.New(sha256.New, h.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)[:16]
}

func (h hasher) has(field string) []byte { return h.sum("has", field) }

func (h hasher) eq(field, v string) []byte {
	return h.sum("eq", field, strings.ToLower(strings.TrimSpace(v)))
}

func (h hasher) prefix(field string, level int, p uint64) []byte {
	var b [9]byte
	b[0] = byte(level) // #nosec G115 -- level is a prefix length in hex digits, 0-16
	binary.BigEndian.PutUint64(b[1:], p)
	return h.sum("ord", field, string(b[:]))
}

// indexHashes lists the index rows a stored value yields.
func (h hasher) indexHashes(f *Field, v any) [][]byte {
	out := [][]byte{h.has(f.Name)}
	switch f.Type {
	case TypeString:
		out = append(out, h.eq(f.Name, v.(string)))
	case TypeBoolean:
		out = append(out, h.eq(f.Name, strconv.FormatBool(v.(bool))))
	case TypeList:
		for _, it := range v.([]string) {
			out = append(out, h.eq(f.Name, it))
		}
	case TypeNumber, TypeDate:
		k, L := orderKey(f.Type, v), levels(f.Type)
		for l := 1; l <= L; l++ {
			out = append(out, h.prefix(f.Name, l, k>>(4*(L-l))))
		}
	}
	return out
}

// rangeHashes returns the prefixes that together cover exactly [lo, hi].
func (h hasher) rangeHashes(f *Field, lo, hi uint64) [][]byte {
	L := levels(f.Type)
	var out [][]byte
	var rec func(level int, p uint64)
	rec = func(level int, p uint64) {
		shift := uint(4 * (L - level))
		start := p << shift
		end := start | (uint64(1)<<shift - 1)
		if start > hi || end < lo {
			return
		}
		if lo <= start && end <= hi {
			out = append(out, h.prefix(f.Name, level, p))
			return
		}
		for d := range uint64(16) {
			rec(level+1, p<<4|d)
		}
	}
	for d := range uint64(16) {
		rec(1, d)
	}
	return out
}

// maxKey is the largest key of a type.
func maxKey(typ string) uint64 {
	if typ == TypeDate {
		return 1<<(4*dateLevels) - 1
	}
	return math.MaxUint64
}
