package events

import (
	"fmt"
	"strings"
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

// checkText enforces IdentifierProblem on a required field.
func checkText(field, s string, maxBytes int) error {
	if s == "" {
		return fieldErr(field, "is required")
	}
	if problem := IdentifierProblem(s, maxBytes); problem != "" {
		return fieldErr(field, "%s", problem)
	}
	return nil
}

// IdentifierProblem is the one rule for identifiers that every store must
// hold byte for byte: keys, clients and event ids, from events, from the
// backfill and from the read path alike. It returns "" for a valid value and
// otherwise the reason, phrased to follow the field's name. The rule:
//
//   - at most maxBytes bytes of valid UTF-8;
//   - no control characters: a NUL cannot be stored in PostgreSQL text and a
//     CR or LF would break a NATS header;
//   - no trailing space (U+0020): SQL Server pads the shorter string with
//     spaces before comparing, under every collation, so "a" and "a " would
//     be one primary key, one ledger id and one client there while every
//     other store keeps them apart. Refusing them keeps two distinct values
//     from ever sharing a row. Leading and inner spaces are fine.
//
// An empty value passes; callers decide whether the field is required.
func IdentifierProblem(s string, maxBytes int) string {
	switch {
	case len(s) > maxBytes:
		return fmt.Sprintf("is %d bytes, above the limit of %d", len(s), maxBytes)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains the control character %U", r)
		}
	}
	if strings.HasSuffix(s, " ") {
		return "ends with a space, which SQL Server would not tell apart from the value without it"
	}
	return ""
}
