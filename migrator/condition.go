package migrator

// Condition is one readiness condition with its state, as cleanup prints it.
type Condition struct {
	// Name says what must hold, such as "backfill complete".
	Name string `json:"name"`
	// OK is whether it holds.
	OK bool `json:"ok"`
	// State says what was found, with numbers.
	State string `json:"state"`
}
