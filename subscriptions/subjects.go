package subscriptions

import "strings"

// SubjectCovers reports whether every subject matching filter also matches
// pattern, following NATS wildcards: "*" matches one token, ">" one or more
// trailing tokens. "events.>" covers "events.tasks.*" and "events.a"; it does
// not cover "events" or "orders.>"; "events.*" does not cover "events.>".
func SubjectCovers(pattern, filter string) bool {
	p := strings.Split(pattern, ".")
	f := strings.Split(filter, ".")
	for i, pt := range p {
		if pt == ">" {
			return i < len(f) // ">" needs at least one token, whatever it is
		}
		if i >= len(f) {
			return false
		}
		switch ft := f[i]; {
		case ft == ">":
			return false // the filter reaches deeper than pattern's fixed length
		case pt == "*":
		case ft != pt: // a literal token must match exactly; "*" in filter is wider than a literal
			return false
		}
	}
	return len(f) == len(p)
}

// coveredBy reports whether some pattern in patterns covers filter.
func coveredBy(patterns []string, filter string) bool {
	for _, p := range patterns {
		if SubjectCovers(p, filter) {
			return true
		}
	}
	return false
}
