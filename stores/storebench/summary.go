package storebench

// Summary is a report as bench-store --json prints it: the store (with its
// password redacted by the caller) and each phase's rate.
type Summary struct {
	Store       string         `json:"store"`
	Entity      string         `json:"entity"`
	Batch       int            `json:"batch"`
	Concurrency int            `json:"concurrency"`
	Phases      []PhaseSummary `json:"phases"`
}

// PhaseSummary is one phase of a Summary.
type PhaseSummary struct {
	Name          string  `json:"name"`
	Rows          int     `json:"rows"`
	Calls         int     `json:"calls"`
	Seconds       float64 `json:"seconds"`
	RowsPerSecond float64 `json:"rows_per_second"`
}

// Summary returns the report's summary for store, a redacted DSN.
func (r Report) Summary(store string) Summary {
	out := Summary{Store: store, Entity: r.Config.Entity, Batch: r.Config.Batch, Concurrency: r.Config.Concurrency}
	for _, p := range r.Phases {
		out.Phases = append(out.Phases, PhaseSummary{p.Name, p.Rows, p.Calls, p.Elapsed.Seconds(), p.RowsPerSecond()})
	}
	return out
}
