package api

import (
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/sealpost/sealpost/internal/archive"
)

// TestArchiveSchemasMatchTypes: the archive's documented schemas name exactly the JSON
// fields its Go types have.
func TestArchiveSchemasMatchTypes(t *testing.T) {
	doc := parseOpenAPI(t)
	for _, c := range []struct {
		schema string
		v      any
	}{
		{"ArchiveQuery", archive.Query{}},
		{"ArchiveSearchRequest", ArchiveSearchRequest{}},
		{"ArchiveMeta", archive.Meta{}},
		{"ArchiveResult", archive.Result{}},
		{"ArchivePage", archive.Page{}},
		{"ArchiveEntryView", ArchiveEntryView{}},
		{"ArchiveExportRequest", ArchiveExportRequest{}},
		{"ArchiveHoldRequest", ArchiveHoldRequest{}},
		{"ArchiveHold", archive.Hold{}},
		{"ArchiveRuleRequest", ArchiveRuleRequest{}},
		{"ArchiveRule", archive.Rule{}},
		{"ArchivePurgeReport", archive.PurgeReport{}},
		{"ArchiveProblem", archive.Problem{}},
		{"ArchiveVerifyReport", archive.VerifyReport{}},
	} {
		s, ok := doc.Components.Schemas[c.schema]
		if !ok {
			t.Errorf("schema %s missing from openapi.json", c.schema)
			continue
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		if fields := jsonFieldNames(reflect.TypeOf(c.v)); !slices.Equal(fields, props) {
			t.Errorf("schema %s has properties %v; Go type %T has JSON fields %v", c.schema, props, c.v, fields)
		}
	}
}
