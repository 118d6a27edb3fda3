// Package jsonout is the one way Switchyard prints a result as JSON for an
// operator (every --json): indented by two spaces, one value, a trailing
// newline. The commands' plumbing (internal/cli) and the libraries that
// print their own reports (subscriptions, workers) share it, so --json
// looks the same everywhere.
package jsonout

import (
	"encoding/json"
	"io"
)

// Write prints v to w as indented JSON followed by a newline.
func Write(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
