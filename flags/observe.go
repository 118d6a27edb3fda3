package flags

import "time"

// StoreSide names one of the two stores.
type StoreSide string

const (
	// StoreLegacy is the store the application reads today.
	StoreLegacy StoreSide = "legacy"
	// StoreTarget is the store the migration moves reads to.
	StoreTarget StoreSide = "target"
)

// ShadowResult is the outcome of one shadow comparison.
type ShadowResult string

const (
	// ShadowNone: the stage is not shadowed.
	ShadowNone ShadowResult = ""
	// ShadowMatch: both stores gave the same normalized answer, at once or
	// when the differing keys were read again (ReadObservation.Settled).
	ShadowMatch ShadowResult = "match"
	// ShadowMismatch: the answers differ, and re-reading the differing keys
	// showed a real divergence rather than an event in flight.
	ShadowMismatch ShadowResult = "mismatch"
	// ShadowUnsettled: a differing key kept changing until the re-checks or
	// the budget ran out, so the comparison tells nothing. It is neither a
	// match nor a mismatch and does not count towards the shadow gate.
	ShadowUnsettled ShadowResult = "unsettled"
	// ShadowError: the secondary read failed or ran past its budget.
	ShadowError ShadowResult = "error"
	// ShadowDropped: too many comparisons were running; skipped.
	ShadowDropped ShadowResult = "dropped"
	// ShadowAbandoned: the caller went away before the primary answered,
	// so nothing was compared. It counts for nothing.
	ShadowAbandoned ShadowResult = "abandoned"
)

// ReadObservation describes one routed read for a ClientObserver. A shadowed
// read is observed twice: once when the primary answers (Shadow empty) and
// once when its comparison ends (Served empty).
type ReadObservation struct {
	Stage Stage
	// Served is the store that answered, empty for a comparison outcome.
	Served StoreSide
	// ServedErr is true when the serving store failed: an error other than
	// not found, or no answer within the router's ReadTimeout. A read its
	// caller abandoned is never a failure.
	ServedErr bool
	// Found is true when the serving store answered with at least one live
	// record of the client.
	Found bool
	// Abandoned is true when the caller cancelled the read, or its own
	// deadline passed, before the store answered: the read tells nothing
	// about the store and must not count as evidence either way.
	Abandoned bool
	// Shadow is the comparison outcome, empty for the primary's answer.
	Shadow ShadowResult
	// Settled is true for a match found only when the keys that differed at
	// first were read again: events that were in flight.
	Settled bool
	// Entity and Keys name what a comparison covered: the key of a Get,
	// the keys of both pages of a List. Observers must not keep Keys.
	Entity string
	Keys   []string
}

// ClientObserver is told about every routed read. It must not block:
// implementations record in memory and write in the background.
type ClientObserver interface {
	ObserveRead(client string, o ReadObservation)
}

// Mismatch kinds.
const (
	MismatchDiffers       = "differs"
	MismatchMissingTarget = "missing-in-target"
	MismatchMissingLegacy = "missing-in-legacy"
)

// MismatchSample is one mismatching key seen by a shadow read.
type MismatchSample struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	Entity string    `json:"entity"`
	Key    string    `json:"key"`
	Stage  Stage     `json:"stage"`
	// Kind is differs, missing-in-target or missing-in-legacy.
	Kind string `json:"kind"`
}
