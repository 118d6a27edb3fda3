package controlplane

import (
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/internal/jsdeclare"
)

// What creates a missing part, as the error of a missing bucket or stream
// says.
const (
	// CreateHint: the flag store's buckets and audit stream.
	CreateHint = "run switchyard flags init (or any flags change) to create it"
	// CreateStateHint: the migration state alone.
	CreateStateHint = "nothing has been migrated yet: switchyard backfill (or flags init) creates it"
)

// explainMissing adds to a missing bucket or stream (jsdeclare.ErrMissing)
// which command creates it; other errors are returned as they are.
func explainMissing(err error, hint string) error {
	if errors.Is(err, jsdeclare.ErrMissing) {
		return fmt.Errorf("%w: %s", err, hint)
	}
	return err
}
