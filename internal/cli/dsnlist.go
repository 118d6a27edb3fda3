package cli

import (
	"errors"
	"strings"
)

// DSNList is a repeatable DSN flag. Unlike StringList it does not split on
// commas, which a DSN may contain.
type DSNList []string

func (l *DSNList) String() string { return strings.Join(*l, " ") }

// Set appends one DSN; an empty one is an error.
func (l *DSNList) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty DSN")
	}
	*l = append(*l, s)
	return nil
}
