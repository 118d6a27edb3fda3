package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultDuplicateWindow is the duplicate window of a stream Switchyard
// creates, and the least an existing stream must keep, when StreamSpec
// names none. It is also the server's default.
const DefaultDuplicateWindow = 2 * time.Minute

// StreamSpec declares an event stream. The application usually owns it: a
// stream that exists is checked, never changed, except for the fields named
// in Update.
type StreamSpec struct {
	// Name of the stream, such as "EVENTS".
	Name string
	// Subjects the stream captures when Switchyard creates it, such as
	// "events.>". Consumers that filter on nothing need an existing stream
	// to capture them.
	Subjects []string
	// DuplicateWindow is how long the stream remembers Nats-Msg-Ids to drop
	// duplicate publishes: the window of a created stream, and the least an
	// existing one must have (publishers' retries rely on it). Zero means
	// DefaultDuplicateWindow.
	DuplicateWindow time.Duration
	// MaxAge bounds how long events are kept. Zero means forever.
	MaxAge time.Duration
	// MaxMsgs and MaxBytes bound the stream's size; zero means unlimited.
	MaxMsgs, MaxBytes int64
	// Replicas is the number of copies in a cluster. Zero means 1.
	Replicas int
	// Placement, if set, pins a created stream to a cluster or tagged servers.
	Placement *jetstream.Placement
	// Memory keeps a created stream in memory instead of on disk, and
	// accepts an existing memory stream (tests only: a memory stream loses
	// every event when its servers restart).
	Memory bool
	// Update names what may change on an existing stream: subjects are
	// added (never dropped), replicas raised (never lowered), the other
	// fields set to the declared value. Empty changes nothing.
	Update []StreamField
}

// StreamField names a setting of a stream that a StreamSpec declares.
type StreamField string

// Stream settings that a StreamSpec may update on an existing stream.
const (
	FieldSubjects        StreamField = "subjects"
	FieldDuplicateWindow StreamField = "duplicate-window"
	FieldMaxAge          StreamField = "max-age"
	FieldMaxMsgs         StreamField = "max-msgs"
	FieldMaxBytes        StreamField = "max-bytes"
	FieldReplicas        StreamField = "replicas"
)

// StreamFields lists every field an update may name.
var StreamFields = []StreamField{FieldSubjects, FieldDuplicateWindow, FieldMaxAge, FieldMaxMsgs, FieldMaxBytes, FieldReplicas}

// ParseStreamField parses the name of an updatable stream field.
func ParseStreamField(s string) (StreamField, error) {
	f := StreamField(s)
	if slices.Contains(StreamFields, f) {
		return f, nil
	}
	names := make([]string, len(StreamFields))
	for i, f := range StreamFields {
		names[i] = string(f)
	}
	return "", fmt.Errorf("%q is not a stream setting (%s)", s, strings.Join(names, ", "))
}

// Difference is one setting where an existing stream differs from what was
// declared.
type Difference struct {
	Field    StreamField `json:"field"`
	Existing string      `json:"existing"`
	Declared string      `json:"declared"`
	// Updatable is true when naming Field in StreamSpec.Update would change
	// the stream to the declared value (false, for example, for fewer
	// replicas or fewer subjects).
	Updatable bool `json:"updatable"`
}

// StreamReport says what EnsureStream found and did.
type StreamReport struct {
	Stream string `json:"stream"`
	// Created is true when the stream did not exist.
	Created bool `json:"created"`
	// Differences are settings of an existing stream that differ from the
	// declaration and were left as they are.
	Differences []Difference `json:"differences"`
	// Updated are settings changed because the declaration's Update named
	// them.
	Updated []Difference `json:"updated"`
}

// ErrStreamUnusable matches an existing stream that cannot serve a
// subscription; see UnusableError.
var ErrStreamUnusable = errors.New("stream unusable")

// UnusableError says why an existing stream cannot serve a subscription. It
// matches ErrStreamUnusable.
type UnusableError struct {
	Stream  string
	Reasons []string
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("stream %s cannot serve the subscription: %s", e.Stream, strings.Join(e.Reasons, "; "))
}

// Is matches ErrStreamUnusable.
func (e *UnusableError) Is(target error) bool { return target == ErrStreamUnusable }

func (s StreamSpec) duplicateWindow() time.Duration {
	if s.DuplicateWindow == 0 {
		return DefaultDuplicateWindow
	}
	return s.DuplicateWindow
}

func (s StreamSpec) replicas() int { return max(s.Replicas, 1) }

func (s StreamSpec) updates(f StreamField) bool { return slices.Contains(s.Update, f) }

func (s StreamSpec) config() jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:       s.Name,
		Subjects:   s.Subjects,
		Retention:  jetstream.LimitsPolicy,
		Duplicates: s.duplicateWindow(),
		MaxAge:     s.MaxAge,
		MaxMsgs:    limit(s.MaxMsgs),
		MaxBytes:   limit(s.MaxBytes),
		Replicas:   s.replicas(),
		Placement:  s.Placement,
		Storage:    jetstream.FileStorage,
	}
	if s.Memory {
		cfg.Storage = jetstream.MemoryStorage
	}
	return cfg
}

// limit maps "zero means unlimited" to JetStream's -1.
func limit(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

func (s StreamSpec) validate() error {
	if s.Name == "" || len(s.Subjects) == 0 {
		return fmt.Errorf("stream spec needs a name and subjects")
	}
	if s.DuplicateWindow < 0 || s.MaxAge < 0 || s.MaxMsgs < 0 || s.MaxBytes < 0 || s.Replicas < 0 {
		return fmt.Errorf("stream spec %s: limits must not be negative", s.Name)
	}
	for _, f := range s.Update {
		if _, err := ParseStreamField(string(f)); err != nil {
			return fmt.Errorf("stream spec %s: update %w", s.Name, err)
		}
	}
	return nil
}

// EnsureStream declares the stream for consumers that filter on the
// stream's own subjects. See DeclareStream.
func EnsureStream(ctx context.Context, js jetstream.JetStream, spec StreamSpec) (jetstream.Stream, error) {
	st, _, err := DeclareStream(ctx, js, spec, nil)
	return st, err
}

// DeclareStream creates the stream when it is missing, with the declared
// subjects, limits, replicas and placement. An existing stream is checked,
// not changed: it must capture every subject in filters (or, with no
// filters, the declared subjects), keep a duplicate window of at least the
// declared one, retain events for every consumer (not work-queue
// retention) and keep them on disk. When it cannot serve, DeclareStream
// fails with an *UnusableError naming every reason; otherwise the report
// lists where the stream differs from the declaration. Only the fields in
// spec.Update are changed: subjects are added, never dropped, and replicas
// are raised, never lowered.
func DeclareStream(ctx context.Context, js jetstream.JetStream, spec StreamSpec, filters []string) (jetstream.Stream, StreamReport, error) {
	report := StreamReport{Stream: spec.Name, Differences: []Difference{}, Updated: []Difference{}}
	if err := spec.validate(); err != nil {
		return nil, report, err
	}
	existing, err := js.Stream(ctx, spec.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err := js.CreateStream(ctx, spec.config())
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			// Another process created it in between: check that one.
			return DeclareStream(ctx, js, spec, filters)
		}
		if err != nil {
			return nil, report, fmt.Errorf("create stream %s: %w", spec.Name, err)
		}
		report.Created = true
		return st, report, nil
	}
	if err != nil {
		return nil, report, fmt.Errorf("stream %s: %w", spec.Name, err)
	}
	if len(filters) == 0 {
		filters = spec.Subjects
	}
	cfg := existing.CachedInfo().Config
	plan, err := planStream(cfg, spec, filters)
	if err != nil {
		return nil, report, err
	}
	report.Differences, report.Updated = plan.differences, plan.updated
	if len(plan.updated) == 0 {
		return existing, report, nil
	}
	st, err := js.UpdateStream(ctx, plan.config)
	if err != nil {
		return nil, report, fmt.Errorf("update stream %s (%s): %w", spec.Name, fieldsOf(plan.updated), err)
	}
	return st, report, nil
}

// streamPlan is what an existing stream needs: the differences left
// alone, the updates asked for, and the configuration with those updates.
type streamPlan struct {
	config               jetstream.StreamConfig
	differences, updated []Difference
}

// planStream checks an existing stream's configuration against spec and
// the subjects consumers filter on, and applies spec.Update to a copy.
func planStream(cfg jetstream.StreamConfig, spec StreamSpec, filters []string) (streamPlan, error) {
	plan := streamPlan{config: cfg, differences: []Difference{}, updated: []Difference{}}
	var reasons []string
	note := func(f StreamField, existing, declared string, update func()) {
		d := Difference{Field: f, Existing: existing, Declared: declared, Updatable: update != nil}
		if spec.updates(f) && update != nil {
			update()
			plan.updated = append(plan.updated, d)
			return
		}
		plan.differences = append(plan.differences, d)
	}

	// Subjects: what the consumers filter on must be captured. A mirror or
	// a stream fed by sources has no subjects of its own to check.
	if len(cfg.Subjects) > 0 || (cfg.Mirror == nil && len(cfg.Sources) == 0) {
		var missing []string
		for _, f := range append(slices.Clone(spec.Subjects), filters...) {
			if !coveredBy(cfg.Subjects, f) && !slices.Contains(missing, f) {
				missing = append(missing, f)
			}
		}
		var uncaptured []string
		for _, f := range filters {
			if !coveredBy(cfg.Subjects, f) {
				uncaptured = append(uncaptured, f)
			}
		}
		if len(missing) > 0 {
			// Declared is what the update would make: every existing
			// subject kept, the missing ones added.
			added := append(slices.Clone(cfg.Subjects), missing...)
			note(FieldSubjects, strings.Join(cfg.Subjects, ","), strings.Join(added, ","), func() { plan.config.Subjects = added })
			if len(uncaptured) > 0 && !spec.updates(FieldSubjects) {
				reasons = append(reasons, fmt.Sprintf("its subjects %s do not capture %s, which the consumer filters on (add them with --update-stream=subjects)",
					strings.Join(cfg.Subjects, ","), strings.Join(uncaptured, ",")))
			}
		}
	}

	// Duplicate window: publishers' retries inside it are dropped.
	if want := spec.duplicateWindow(); cfg.Duplicates != want {
		note(FieldDuplicateWindow, cfg.Duplicates.String(), want.String(), func() { plan.config.Duplicates = want })
		if cfg.Duplicates < want && !spec.updates(FieldDuplicateWindow) {
			reasons = append(reasons, fmt.Sprintf("its duplicate window %v is shorter than the %v publishers rely on (lower --duplicate-window if that is enough, or raise it with --update-stream=duplicate-window)", cfg.Duplicates, want))
		}
	}

	// Retention: every subscription must see every event. A work queue
	// deletes an event at the first acknowledgement (and refuses
	// overlapping consumers), so the legacy and target subscriptions
	// cannot both read it. Limits and interest retention keep an event
	// until every consumer has acknowledged it or a limit removes it.
	if cfg.Retention == jetstream.WorkQueuePolicy {
		reasons = append(reasons, "its work-queue retention deletes an event when the first consumer acknowledges it, so the legacy and target subscriptions cannot both receive it (JetStream cannot change a stream's retention)")
	}
	// Storage: a memory stream loses every event when its servers restart.
	if cfg.Storage == jetstream.MemoryStorage && !spec.Memory {
		reasons = append(reasons, "its memory storage loses every event when its servers restart (JetStream cannot change a stream's storage)")
	}
	if cfg.Sealed {
		reasons = append(reasons, "it is sealed: it accepts no new events")
	}

	if want := spec.MaxAge; cfg.MaxAge != want {
		note(FieldMaxAge, durationOrForever(cfg.MaxAge), durationOrForever(want), func() { plan.config.MaxAge = want })
	}
	if want := limit(spec.MaxMsgs); cfg.MaxMsgs != want {
		note(FieldMaxMsgs, countOrUnlimited(cfg.MaxMsgs), countOrUnlimited(want), func() { plan.config.MaxMsgs = want })
	}
	if want := limit(spec.MaxBytes); cfg.MaxBytes != want {
		note(FieldMaxBytes, countOrUnlimited(cfg.MaxBytes), countOrUnlimited(want), func() { plan.config.MaxBytes = want })
	}
	if want := spec.replicas(); cfg.Replicas != want {
		var raise func()
		if want > cfg.Replicas {
			raise = func() { plan.config.Replicas = want }
		} else if spec.updates(FieldReplicas) {
			return plan, fmt.Errorf("stream %s has %d replicas: lowering them to %d is never done by an update", cfg.Name, cfg.Replicas, want)
		}
		note(FieldReplicas, strconv.Itoa(cfg.Replicas), strconv.Itoa(want), raise)
	}
	if len(reasons) > 0 {
		return plan, &UnusableError{Stream: cfg.Name, Reasons: reasons}
	}
	return plan, nil
}

func durationOrForever(d time.Duration) string {
	if d <= 0 {
		return "forever"
	}
	return d.String()
}

func countOrUnlimited(n int64) string {
	if n <= 0 {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10)
}

func fieldsOf(ds []Difference) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = string(d.Field)
	}
	return strings.Join(names, ", ")
}

// DLQStreamName is the dead-letter stream of a source stream.
func DLQStreamName(stream string) string { return stream + "_DLQ" }

// DLQSubjectPrefix is the first token of dead-letter subjects.
const DLQSubjectPrefix = "switchyard.dlq"

// DLQSubject is where dead letters of one consumer of stream are published.
func DLQSubject(stream, consumer string) string {
	return DLQSubjectPrefix + "." + stream + "." + consumer
}

// DLQSpec declares the dead-letter stream of a source stream. Dead letters
// are kept until an operator replays or purges them: no limits. Of the
// source's update, only subjects and replicas apply to it.
func DLQSpec(source StreamSpec) StreamSpec {
	spec := StreamSpec{
		Name:      DLQStreamName(source.Name),
		Subjects:  []string{DLQSubjectPrefix + "." + source.Name + ".>"},
		Replicas:  source.Replicas,
		Placement: source.Placement,
		Memory:    source.Memory,
	}
	for _, f := range source.Update {
		if f == FieldSubjects || f == FieldReplicas {
			spec.Update = append(spec.Update, f)
		}
	}
	return spec
}

// EnsureDLQ declares the dead-letter stream of a source stream with one
// replica.
func EnsureDLQ(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.Stream, error) {
	return EnsureStream(ctx, js, DLQSpec(StreamSpec{Name: stream}))
}
