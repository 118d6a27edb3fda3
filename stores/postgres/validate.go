package postgres

import (
	"unicode/utf8"

	"github.com/switchyard/switchyard/stores"
)

// validate adds PostgreSQL's limits to stores.Validate, so that a write the
// server would refuse fails the call with a *stores.RejectError before the
// transaction starts, instead of aborting it: text must be valid UTF-8
// without NUL. jsonb's limits on data (no \u0000, no unpaired surrogate
// escape) are the rule of every store, in stores.Validate.
func validate(writes []stores.Write) error {
	if err := stores.Validate(writes); err != nil {
		return err
	}
	for i, w := range writes {
		switch {
		case !usableEntity(w.Entity):
			return stores.Reject(i, w, "entity name %q is reserved", w.Entity)
		case !validText(w.Key) || !validText(w.Client):
			return stores.Reject(i, w, "key and client must be valid UTF-8 without NUL")
		case w.EventID != "" && !validText(w.EventID):
			return stores.Reject(i, w, "event id must be valid UTF-8 without NUL")
		}
	}
	return nil
}

func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}
