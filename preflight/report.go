package preflight

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/switchyard/switchyard/internal/textlimit"
	"github.com/switchyard/switchyard/stores"
)

// Result is one row of the report: one check of one component.
type Result struct {
	// Check is a stable snake_case name such as "permissions" or
	// "selftest_fence"; docs/preflight.md lists them.
	Check string `json:"check"`
	// Store is "nats" for the broker, or the store's redacted DSN.
	Store string `json:"store"`
	// Role is "broker", "source" or "target".
	Role string `json:"role"`
	// Scope narrows the check to an entity or a consumer, when it has one.
	Scope string `json:"scope,omitempty"`
	// Status is pass, warn or fail.
	Status stores.CheckStatus `json:"status"`
	// Detail says what was found and, on a failure, what to do.
	Detail string `json:"detail"`
}

// Report is the outcome of Run.
type Report struct {
	// Passed is true when no check failed (warnings allowed).
	Passed   bool     `json:"passed"`
	Failures int      `json:"failures"`
	Warnings int      `json:"warnings"`
	Results  []Result `json:"results"`
}

// add appends results and updates the counts.
func (r *Report) add(results ...Result) {
	for _, res := range results {
		switch res.Status {
		case stores.CheckFail:
			r.Failures++
		case stores.CheckWarn:
			r.Warnings++
		}
		r.Results = append(r.Results, res)
	}
	r.Passed = r.Failures == 0
}

// Failed returns the failing rows.
func (r Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == stores.CheckFail {
			out = append(out, res)
		}
	}
	return out
}

// WriteTable prints the report as an aligned table (status, check, store,
// role, scope, detail) followed by a summary line.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tSTORE\tROLE\tSCOPE\tDETAIL")
	for _, res := range r.Results {
		scope := res.Scope
		if scope == "" {
			scope = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(string(res.Status)), res.Check, res.Store, res.Role, scope, textlimit.OneLine(res.Detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "preflight passed"
	if !r.Passed {
		verdict = "preflight FAILED"
	}
	_, err := fmt.Fprintf(w, "\n%s: %d checks, %d failed, %d warnings\n", verdict, len(r.Results), r.Failures, r.Warnings)
	return err
}

// Write writes the report as JSON with asJSON, else as the table.
func (r Report) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		return r.WriteJSON(w)
	}
	return r.WriteTable(w)
}

// WriteJSON prints the report as one indented JSON object with stable
// snake_case keys: passed, failures, warnings, results[] (check, store,
// role, scope, status, detail).
func (r Report) WriteJSON(w io.Writer) error {
	if r.Results == nil {
		r.Results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
