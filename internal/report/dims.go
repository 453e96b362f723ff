// Package report owns statistics and split reports: the groups a message counts under,
// the rollups' reading into counts and rates, and their CSV and JSON exports.
package report

import (
	"encoding/hex"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Labels are what a message is grouped by in reports besides its recipients' domains
// and methods. Campaign and tag hashes are the ones the message row keeps.
type Labels struct {
	From, Subject string
	Metadata      map[string]string
	Campaign      string
	CampaignHash  string
	Tags          []string
	TagHashes     []string
}

// MessageDims turns a message's labels into the report groups it counts under. Every
// value is a per-tenant keyed hash (so the database can group subjects and addresses
// without holding them) with a sealed label for display.
func MessageDims(keys *tenant.Keys, l Labels) []store.ReportDim {
	var out []store.ReportDim
	add := func(dim, value, label string) {
		out = append(out, store.ReportDim{Dim: dim, Value: value, Label: keys.Data.SealString(label, labelBinding(dim, value))})
	}
	if l.CampaignHash != "" {
		add("campaign", l.CampaignHash, l.Campaign)
	}
	for i, h := range l.TagHashes {
		if i < len(l.Tags) {
			add("tag", h, l.Tags[i])
		}
	}
	if l.From != "" {
		from := strings.ToLower(l.From)
		add("from", valueHash(keys, "from", from), from)
	}
	add("subject", valueHash(keys, "subject", l.Subject), l.Subject)
	for k, v := range l.Metadata {
		dim := metadataDim(keys, k)
		add(dim, valueHash(keys, dim, v), v)
	}
	return out
}

func valueHash(keys *tenant.Keys, dim, v string) string {
	return hex.EncodeToString(keys.Hash("report/"+dim, v)[:16])
}

// metadataDim names the dimension of one metadata key: the key is hashed too, since a
// caller may name keys after anything.
func metadataDim(keys *tenant.Keys, key string) string {
	return "meta:" + hex.EncodeToString(keys.Hash("report/metadata-key", key)[:12])
}

func labelBinding(dim, value string) string { return "report/" + dim + "/" + value }

// FromDim is the report group of messages sent from addr, for search.
func FromDim(keys *tenant.Keys, addr string) store.ReportDim {
	return store.ReportDim{Dim: "from", Value: valueHash(keys, "from", strings.ToLower(addr))}
}

// MetadataDim is the report group of messages whose metadata key holds value.
func MetadataDim(keys *tenant.Keys, key, value string) store.ReportDim {
	dim := metadataDim(keys, key)
	return store.ReportDim{Dim: dim, Value: valueHash(keys, dim, value)}
}
