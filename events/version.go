package events

import "fmt"

// VersionSource says where the row version of an event comes from. It is one
// setting per stream: every producer on the stream must agree with it.
type VersionSource string

const (
	// VersionFromStream uses the JetStream stream sequence as the version.
	// Events must not carry a version field.
	VersionFromStream VersionSource = "stream"
	// VersionFromProducer uses the event's version field, which producers
	// must set and increase with every change of a record.
	VersionFromProducer VersionSource = "producer"
)

// ParseVersionSource parses "stream" or "producer".
func ParseVersionSource(s string) (VersionSource, error) {
	switch v := VersionSource(s); v {
	case VersionFromStream, VersionFromProducer:
		return v, nil
	}
	return "", fmt.Errorf("version source %q is not one of stream, producer", s)
}

// Resolve returns the row version of ev delivered at stream sequence seq, or a
// *FieldError when ev contradicts the source: a version under stream
// versions, or none under producer versions.
func (src VersionSource) Resolve(ev Event, seq uint64) (int64, error) {
	switch src {
	case VersionFromProducer:
		if ev.Version == 0 {
			return 0, fieldErr("version", "is required: this stream uses producer versions")
		}
		return ev.Version, nil
	default:
		if ev.Version != 0 {
			return 0, fieldErr("version", "must be absent: this stream uses stream-sequence versions")
		}
		return int64(seq), nil
	}
}
