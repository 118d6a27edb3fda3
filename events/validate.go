package events

import (
	"unicode"
	"unicode/utf8"
)

// Validate checks every rule of the envelope that does not depend on the
// deployment. The version rule that does (producer versions or stream
// sequences) is checked by VersionSource.Check.
func (ev Event) Validate() error {
	if err := checkText("id", ev.ID, MaxIDBytes); err != nil {
		return err
	}
	if err := checkText("type", ev.Type, MaxTypeBytes); err != nil {
		return err
	}
	if ev.Entity == "" {
		return fieldErr("entity", "is required")
	}
	if !ValidEntity(ev.Entity) {
		return fieldErr("entity", "%q does not match ^[a-z][a-z0-9_]{0,62}$", truncate(ev.Entity))
	}
	if err := checkText("key", ev.Key, MaxKeyBytes); err != nil {
		return err
	}
	if err := checkText("client", ev.Client, MaxClientBytes); err != nil {
		return err
	}
	switch {
	case ev.Op == "":
		return fieldErr("op", "is required")
	case !ev.Op.Valid():
		return fieldErr("op", "%q is not one of upsert, delete", truncate(string(ev.Op)))
	}
	if ev.Version < 0 {
		return fieldErr("version", "must be at least 1, got %d", ev.Version)
	}
	if ev.OccurredAt.IsZero() {
		return fieldErr("occurred_at", "is required")
	}
	switch ev.Op {
	case OpUpsert:
		if len(ev.Data) == 0 {
			return fieldErr("data", "is required for an upsert")
		}
		if ev.Data[0] != '{' {
			return fieldErr("data", "must be a JSON object, got %s", jsonKind(ev.Data))
		}
	case OpDelete:
		if len(ev.Data) != 0 {
			return fieldErr("data", "must be absent for a delete")
		}
	}
	return nil
}

// checkText enforces the rules shared by identifiers that travel in headers,
// keys and SQL text columns: present, bounded, valid UTF-8, no control
// characters (a NUL cannot be stored in PostgreSQL text, a CR or LF would
// break a NATS header).
func checkText(field, s string, maxBytes int) error {
	switch {
	case s == "":
		return fieldErr(field, "is required")
	case len(s) > maxBytes:
		return fieldErr(field, "is %d bytes, above the limit of %d", len(s), maxBytes)
	case !utf8.ValidString(s):
		return fieldErr(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fieldErr(field, "contains the control character %U", r)
		}
	}
	return nil
}
