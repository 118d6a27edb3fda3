package migrator

import (
	"fmt"
	"io"
)

// WriteReadiness prints each readiness condition on a line, PASS or FAIL
// with its name and what was found, and reports whether all hold.
func WriteReadiness(w io.Writer, conds []Condition) (passed bool) {
	passed = true
	for _, c := range conds {
		mark := "PASS"
		if !c.OK {
			mark, passed = "FAIL", false
		}
		fmt.Fprintf(w, "[%s] %-42s %s\n", mark, c.Name, c.Detail)
	}
	return passed
}
