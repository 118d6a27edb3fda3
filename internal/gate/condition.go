package gate

// Condition is one condition a gate checks and whether it holds.
type Condition struct {
	// Name says what must hold, such as "verify-clean" or "backfill
	// complete".
	Name string `json:"name"`
	// OK is whether it holds.
	OK bool `json:"ok"`
	// Detail says what was found, for operators ("3 of 7 entities done").
	Detail string `json:"detail,omitempty"`
}

func (c Condition) String() string {
	if c.Detail == "" {
		return c.Name
	}
	return c.Name + ": " + c.Detail
}

// Failed returns the conditions of cs that do not hold.
func Failed(cs []Condition) []Condition {
	var out []Condition
	for _, c := range cs {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}
