// Package people owns the people who sign in to the dashboard: users and their roles,
// passwords, second factors, invitations and sessions, with every change audited.
package people

import (
	"slices"

	"github.com/sealpost/sealpost/internal/tenant"
)

// Roles. Each is a set of the API's scopes, so a person can do on a page exactly what
// a key with those scopes could do through the API; managing people is the one
// permission beyond them, held by owners and admins.
const (
	RoleOwner      = "owner"
	RoleAdmin      = "admin"
	RoleCompliance = "compliance"
	RoleDeveloper  = "developer"
	RoleMarketer   = "marketer"
	RoleViewer     = "viewer"
)

// RoleInfo documents a role.
type RoleInfo struct {
	Name, About string
	Scopes      []string
	People      bool // may invite, disable and change people
}

// Roles lists every role with its scopes, most powerful first.
var Roles = []RoleInfo{
	{RoleOwner, "everything, including other owners", []string{tenant.ScopeAdmin}, true},
	{RoleAdmin, "everything except making or changing owners", []string{tenant.ScopeAdmin}, true},
	{RoleCompliance, "reads messages, events, the audit trail and the archive (search, holds, export)", []string{tenant.ScopeRead, tenant.ScopeAudit, tenant.ScopeArchive}, false},
	{RoleDeveloper, "sends, reads and manages templates", []string{tenant.ScopeSend, tenant.ScopeRead, tenant.ScopeTemplates}, false},
	{RoleMarketer, "sends, manages templates, contacts, consent, suppression and forms, reads results", []string{tenant.ScopeSend, tenant.ScopeRead, tenant.ScopeTemplates, tenant.ScopeMarketing, tenant.ScopeForms}, false},
	{RoleViewer, "reads messages and events", []string{tenant.ScopeRead}, false},
}

// Role looks a role up.
func Role(name string) (RoleInfo, bool) {
	i := slices.IndexFunc(Roles, func(r RoleInfo) bool { return r.Name == name })
	if i < 0 {
		return RoleInfo{}, false
	}
	return Roles[i], true
}

// RoleNames lists the roles' names.
func RoleNames() []string {
	var out []string
	for _, r := range Roles {
		out = append(out, r.Name)
	}
	return out
}

// MayAssign reports whether someone with role by may give role to a person who now
// has role current ("" for a new person): only owners make or change owners.
func MayAssign(by, current, role string) bool {
	r, ok := Role(by)
	if !ok || !r.People {
		return false
	}
	if by != RoleOwner && (role == RoleOwner || current == RoleOwner) {
		return false
	}
	return true
}
