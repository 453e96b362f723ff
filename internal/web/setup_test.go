package web_test

import "testing"

// setupCases are the sending-setup pages' actions for TestEveryActionRefusedWithoutPermission.
func setupCases(t *testing.T, e *env, tenantID, key string) map[string]ruleCase {
	return map[string]ruleCase{}
}
