package api

import (
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// RateLimitView is a credential's own request limit, used instead of the server's
// default credential limit: PerSecond sustained, Burst at once.
type RateLimitView struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

// credentialAccess checks the networks and rate limit of a key or client being
// created, reporting every bad field by its path at once.
func credentialAccess(networks []string, rl *RateLimitView) (store.CredentialAccess, error) {
	a := store.CredentialAccess{Networks: networks}
	var fields []FieldProblem
	if rl != nil {
		a.RatePerSecond, a.RateBurst = rl.PerSecond, rl.Burst
		if rl.PerSecond == 0 && rl.Burst == 0 {
			fields = append(fields, FieldProblem{Field: "rate_limit", Detail: "give per_second and burst, or leave rate_limit out for the default limit"})
		}
	}
	out, errs := tenant.CheckAccess(a)
	for _, e := range errs {
		fields = append(fields, FieldProblem{Field: e.Field, Detail: e.Msg})
	}
	if len(fields) > 0 {
		return out, problem(400, "Invalid request", fields[0].Field+": "+fields[0].Detail, fields...)
	}
	return out, nil
}

// accessView shows a credential's rules in list and create responses.
func accessView(a store.CredentialAccess) ([]string, *RateLimitView) {
	var rl *RateLimitView
	if a.RatePerSecond > 0 {
		rl = &RateLimitView{PerSecond: a.RatePerSecond, Burst: a.RateBurst}
	}
	return a.Networks, rl
}
