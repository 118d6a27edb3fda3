package reads

import (
	"fmt"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/textlimit"
)

// invalid reports bad input as the control plane does: an
// *flags.InvalidError, which matches flags.ErrInvalid, so callers of the
// read path and of the flag store test for one error.
func invalid(field, format string, args ...any) error {
	return &flags.InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// truncate cuts caller input quoted in an error message.
func truncate(s string, n int) string { return textlimit.Truncate(s, n) }
