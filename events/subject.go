package events

import (
	"fmt"
	"strings"
)

// DefaultSubjectPrefix is the first token of event subjects.
const DefaultSubjectPrefix = "events"

// Subject returns "<prefix>.<entity>.<op>", the subject an event is published on.
// An empty prefix means DefaultSubjectPrefix.
func Subject(prefix, entity string, op Op) string {
	if prefix == "" {
		prefix = DefaultSubjectPrefix
	}
	return prefix + "." + entity + "." + string(op)
}

// SubjectFilter returns the wildcard subject that matches every event under
// prefix, for stream and consumer configuration.
func SubjectFilter(prefix string) string {
	if prefix == "" {
		prefix = DefaultSubjectPrefix
	}
	return prefix + ".>"
}

// CheckSubject verifies that ev was published on the subject its envelope
// implies, so a producer bug that mixes them up is caught instead of applied.
func CheckSubject(prefix, subject string, ev Event) error {
	if !isSubject(subject, prefix, ev.Entity, ev.Op) {
		return &FieldError{Reason: fmt.Sprintf("published on %q but the envelope says %q", subject, Subject(prefix, ev.Entity, ev.Op))}
	}
	return nil
}

// isSubject reports whether subject is Subject(prefix, entity, op), piece
// by piece: building the expected subject would allocate once per event.
func isSubject(subject, prefix, entity string, op Op) bool {
	if prefix == "" {
		prefix = DefaultSubjectPrefix
	}
	rest, ok := strings.CutPrefix(subject, prefix)
	if !ok {
		return false
	}
	if rest, ok = strings.CutPrefix(rest, "."); !ok {
		return false
	}
	if rest, ok = strings.CutPrefix(rest, entity); !ok {
		return false
	}
	if rest, ok = strings.CutPrefix(rest, "."); !ok {
		return false
	}
	return rest == string(op)
}

// ValidPrefix reports whether prefix can be used as a subject prefix: one or
// more dot-separated tokens without wildcards or white space.
func ValidPrefix(prefix string) bool {
	if prefix == "" {
		return false
	}
	for _, tok := range strings.Split(prefix, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return false
		}
	}
	return true
}
