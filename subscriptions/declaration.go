package subscriptions

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
)

// DefaultStream is the event stream name the commands use by default.
const DefaultStream = "EVENTS"

// Defaults of a Declaration's consumer settings.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 10_000
)

// ErrInvalidDeclaration matches every *DeclarationError.
var ErrInvalidDeclaration = errors.New("invalid stream or consumer declaration")

// DeclarationError is a Declaration setting that cannot be declared. Its
// message names the setting as the command-line flag that sets it
// (docs/subscriptions.md), so it reads the same in every command.
type DeclarationError struct{ Msg string }

func (e *DeclarationError) Error() string        { return e.Msg }
func (e *DeclarationError) Is(target error) bool { return target == ErrInvalidDeclaration }

func invalidf(format string, args ...any) error {
	return &DeclarationError{Msg: fmt.Sprintf(format, args...)}
}

// Declaration is a stream and one durable consumer on it, in the textual
// form operators give them (subs ensure and worker --ensure); Specs checks
// it and turns it into the StreamSpec and ConsumerSpec Ensure takes.
type Declaration struct {
	// Prefix is the subject prefix the stream captures (<prefix>.>).
	Prefix string
	// Start is where a new consumer starts: all, new, seq:N, time:RFC3339.
	Start string
	// Role is legacy, target or empty; VersionSource stream or producer.
	Role, VersionSource string
	// Filters are subject filters under Prefix; empty means every event.
	Filters []string
	// Backoff are redelivery delays such as "1s" (see ConsumerSpec).
	Backoff                          []string
	AckWait, DuplicateWindow, MaxAge time.Duration
	// MaxDeliver is positive or -1 (unlimited).
	MaxDeliver, MaxAckPending int
	// Replicas is 1 to 5.
	Replicas          int
	MaxMsgs, MaxBytes int64
	PlacementCluster  string
	PlacementTags     []string
	// UpdateStream names the settings of an existing stream to change
	// (see ParseStreamField).
	UpdateStream []string
}

// Specs checks d and returns the declarations of stream and its consumer.
// Errors are *DeclarationError.
func (d Declaration) Specs(stream, consumer string) (StreamSpec, ConsumerSpec, error) {
	start, update, backoff, err := d.parse()
	if err != nil {
		return StreamSpec{}, ConsumerSpec{}, err
	}
	var placement *jetstream.Placement
	if d.PlacementCluster != "" || len(d.PlacementTags) > 0 {
		placement = &jetstream.Placement{Cluster: d.PlacementCluster, Tags: d.PlacementTags}
	}
	streamSpec := StreamSpec{
		Name: stream, Subjects: []string{events.SubjectFilter(d.Prefix)}, DuplicateWindow: d.DuplicateWindow,
		MaxAge: d.MaxAge, MaxMsgs: d.MaxMsgs, MaxBytes: d.MaxBytes, Replicas: d.Replicas, Placement: placement, Update: update,
	}
	spec := ConsumerSpec{
		Stream: stream, Name: consumer, Role: d.Role, FilterSubjects: d.Filters, Start: start, AckWait: d.AckWait,
		MaxDeliver: d.MaxDeliver, Backoff: backoff, MaxAckPending: d.MaxAckPending, VersionSource: d.VersionSource,
	}
	return streamSpec, spec, nil
}

// parse checks every setting, in the order operators are told about them.
func (d Declaration) parse() (start StartPosition, update []StreamField, backoff []time.Duration, err error) {
	if !events.ValidPrefix(d.Prefix) {
		return start, nil, nil, invalidf("--prefix %q is not a subject prefix", d.Prefix)
	}
	if start, err = ParseStart(d.Start); err != nil {
		return start, nil, nil, invalidf("--start: %v", err)
	}
	if err := d.checkScalars(); err != nil {
		return start, nil, nil, err
	}
	for _, name := range d.UpdateStream {
		field, err := ParseStreamField(name)
		if err != nil {
			return start, nil, nil, invalidf("--update-stream: %v", err)
		}
		update = append(update, field)
	}
	if d.MaxDeliver == 0 || d.MaxDeliver < -1 {
		return start, nil, nil, invalidf("--max-deliver %d must be positive or -1 (unlimited)", d.MaxDeliver)
	}
	if d.MaxAckPending < 1 {
		return start, nil, nil, invalidf("--max-ack-pending %d must be positive", d.MaxAckPending)
	}
	if backoff, err = d.parseBackoff(); err != nil {
		return start, nil, nil, err
	}
	for _, filter := range d.Filters {
		if !strings.HasPrefix(filter, d.Prefix+".") {
			return start, nil, nil, invalidf("--filter %q is outside the stream's subjects %s.>", filter, d.Prefix)
		}
	}
	return start, update, backoff, nil
}

func (d Declaration) checkScalars() error {
	if _, err := events.ParseVersionSource(d.VersionSource); err != nil {
		return invalidf("--version-source: %v", err)
	}
	switch {
	case d.Role != "" && d.Role != "legacy" && d.Role != "target":
		return invalidf("--role %q is not one of legacy, target", d.Role)
	case d.AckWait <= 0:
		return invalidf("--ack-wait %v must be positive", d.AckWait)
	case d.DuplicateWindow < 0 || d.MaxAge < 0 || d.MaxMsgs < 0 || d.MaxBytes < 0:
		return invalidf("--duplicate-window, --max-age, --max-msgs and --max-bytes must not be negative")
	case d.Replicas < 1 || d.Replicas > 5:
		return invalidf("--replicas %d must be 1 to 5", d.Replicas)
	}
	return nil
}

func (d Declaration) parseBackoff() ([]time.Duration, error) {
	var backoff []time.Duration
	for _, s := range d.Backoff {
		step, err := time.ParseDuration(s)
		if err != nil || step <= 0 {
			return nil, invalidf("--backoff: %q is not a positive duration", s)
		}
		backoff = append(backoff, step)
	}
	if len(backoff) > 0 && d.MaxDeliver > 0 && d.MaxDeliver <= len(backoff) {
		return nil, invalidf("--max-deliver %d must exceed the %d --backoff steps", d.MaxDeliver, len(backoff))
	}
	return backoff, nil
}
