package people

import (
	"context"

	"github.com/sealpost/sealpost/internal/message"
)

// RoleOperator is the instance operator: a person above tenants who creates tenants
// and invites their first owners, and sees each tenant's counts. It is deliberately
// not in Roles: no tenant's owner can grant it, and it carries no API scope, so every
// tenant page and action (messages, archive, content) refuses an operator —
// separation of duties between running the instance and reading its mail.
const RoleOperator = "operator"

// IsOperator reports whether a person is an instance operator.
func IsOperator(role string) bool { return role == RoleOperator }

// InviteOperator makes an instance operator and returns their invitation link. Only
// the command line calls it: operators are never made from a page. The person signs
// in with the same password, second factor, sessions and lockout as everyone else.
func (s *Service) InviteOperator(ctx context.Context, by Actor, email, name string) (string, error) {
	inst, err := s.tenants.Instance(ctx)
	if err != nil {
		return "", err
	}
	link, _, err := s.invite(ctx, by, inst.ID, email, name, RoleOperator, "")
	return link, err
}

// ValidEmail reports whether an invitation could be sent to addr, so a form can report
// every problem before anything is created.
func ValidEmail(addr string) bool {
	_, err := message.ParseAddress(addr)
	return err == nil
}
