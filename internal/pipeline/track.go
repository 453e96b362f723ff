package pipeline

import "github.com/sealpost/sealpost/internal/policy"

// effectiveTrack is what a message asks to track: its own "track" when it says one,
// else the tenant policy's default. nil means nothing.
func effectiveTrack(own *Track, def policy.Tracking) *Track {
	if own != nil {
		return own
	}
	if def.Opens || def.Clicks {
		return &Track{Opens: def.Opens, Clicks: def.Clicks}
	}
	return nil
}

// TrackPreview says whether one recipient's copy would carry tracking, and why not.
type TrackPreview struct {
	Opens  bool   `json:"opens"`
	Clicks bool   `json:"clicks"`
	Source string `json:"source"`           // "message", "template", "tenant default" or "none"
	Reason string `json:"reason,omitempty"` // why nothing is tracked
}

// previewTrack applies the same rule delivery applies (policy.TrackRule) to the method
// the recipient would get now.
func previewTrack(own *Track, ownSource string, def policy.Tracking, m policy.Method, phi bool) TrackPreview {
	t := effectiveTrack(own, def)
	src := "message"
	switch {
	case own != nil && ownSource != "":
		src = ownSource
	case own == nil && t != nil:
		src = "tenant default"
	case t == nil:
		src, t = "none", &Track{}
	}
	o, c, why := policy.TrackRule(t.Opens, t.Clicks, m, phi, def.AllowsPHI())
	return TrackPreview{Opens: o, Clicks: c, Source: src, Reason: why}
}
