package postgres

import "github.com/switchyard/switchyard/stores"

// validate adds PostgreSQL's own limit (the reserved entity name) to
// stores.Validate, so that a write the server would refuse fails the call
// with a *stores.RejectError before the transaction starts, instead of
// aborting it. Text without NUL in valid UTF-8 (keys, clients, event ids:
// events.IdentifierProblem) and jsonb's limits on data (no \u0000, no
// unpaired surrogate escape) are the rule of every store, in stores.Validate.
func validate(writes []stores.Write) error {
	if err := stores.Validate(writes); err != nil {
		return err
	}
	for i, w := range writes {
		if !usableEntity(w.Entity) {
			return stores.Reject(i, w, "entity name %q is reserved", w.Entity)
		}
	}
	return nil
}
