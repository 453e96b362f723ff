package policy

// Tracking is the tenant's word on open and click tracking: what a message that says
// nothing gets, and whether tracking may follow a message in which DLP found PHI.
type Tracking struct {
	// Opens and Clicks are the default for a message that does not say "track".
	Opens  bool `json:"opens,omitempty"`
	Clicks bool `json:"clicks,omitempty"`
	// WithPHI is "never" (the default, also when empty) or "allowed". An open or a
	// click on a message with PHI says who read what, so it takes an explicit word.
	WithPHI string `json:"with_phi,omitempty"`
}

// Values of Tracking.WithPHI.
const (
	TrackPHINever   = "never"
	TrackPHIAllowed = "allowed"
)

// AllowsPHI reports whether tracking may be added to a message with PHI findings.
func (t Tracking) AllowsPHI() bool { return t.WithPHI == TrackPHIAllowed }

func (t Tracking) check(add func(field, detail string)) {
	if t.WithPHI != "" && t.WithPHI != TrackPHINever && t.WithPHI != TrackPHIAllowed {
		add("tracking.with_phi", `must be "never" or "allowed"`)
	}
}

// TrackRule says what may be tracked in one recipient's copy and, when nothing may,
// why: tracking is added only where it was asked for (by the message or the tenant's
// default), only to copies sent over TLS — never inside OpenPGP or S/MIME, never in a
// portal notice — and never to a message with PHI findings unless the policy allows it.
func TrackRule(opens, clicks bool, method Method, phi, allowPHI bool) (trackOpens, trackClicks bool, why string) {
	switch {
	case !opens && !clicks:
		return false, false, "not asked for"
	case method == "":
		return false, false, "no method available"
	case method != TLS && method != None:
		return false, false, "never in " + string(method) + " copies"
	case phi && !allowPHI:
		return false, false, "DLP found PHI and the policy does not allow tracking with PHI"
	}
	return opens, clicks, ""
}
