package smtpd

// FailureKey is failureKey for the tests, which look for a lock in the store.
var FailureKey = failureKey
