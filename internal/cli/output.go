package cli

import (
	"io"

	"github.com/switchyard/switchyard/internal/jsonout"
)

// WriteJSON prints v as indented JSON: what every --json prints.
func WriteJSON(w io.Writer, v any) error { return jsonout.Write(w, v) }

// PrintResult prints v as JSON with asJSON, else as writeText writes it.
func PrintResult(w io.Writer, asJSON bool, v any, writeText func(io.Writer) error) error {
	if asJSON {
		return WriteJSON(w, v)
	}
	return writeText(w)
}

// PrintReport prints the report of a library call as PrintResult does,
// unless the call failed: then it returns err and prints nothing.
func PrintReport[R interface{ WriteText(io.Writer) error }](w io.Writer, asJSON bool, rep R, err error) error {
	if err != nil {
		return err
	}
	return PrintResult(w, asJSON, rep, rep.WriteText)
}
