package flags

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
	// ShadowMatch: both stores gave the same normalized answer.
	ShadowMatch ShadowResult = "match"
	// ShadowMismatch: the answers differ.
	ShadowMismatch ShadowResult = "mismatch"
	// ShadowError: the secondary read failed or ran past its budget.
	ShadowError ShadowResult = "error"
	// ShadowDropped: too many comparisons were running; skipped.
	ShadowDropped ShadowResult = "dropped"
)

// ReadObservation describes one routed read for a ClientObserver. A shadowed
// read is observed twice: once when the primary answers (Shadow empty) and
// once when its comparison ends (Served empty).
type ReadObservation struct {
	Stage Stage
	// Served is the store that answered, empty for a comparison outcome.
	Served StoreSide
	// ServedErr is true when the serving store failed (not found is not a
	// failure).
	ServedErr bool
	// Shadow is the comparison outcome, empty for the primary's answer.
	Shadow ShadowResult
}

// ClientObserver is told about every routed read. It must not block:
// implementations record in memory and write in the background.
type ClientObserver interface {
	ObserveRead(client string, o ReadObservation)
}
