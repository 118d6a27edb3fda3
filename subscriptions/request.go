package subscriptions

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/jsonout"
)

// ConsumerRequest is one thing an operator asks of a stream's durable
// consumers (switchyard subs): list them, inspect one, ensure one as its
// Declaration declares, or delete one.
type ConsumerRequest struct {
	Declaration
	// Action is list, inspect, ensure or delete.
	Action           string
	Stream, Consumer string
	// Confirm must repeat the consumer's name for a delete.
	Confirm string
}

// Validate returns the first thing wrong with r's names, or a delete's
// missing confirmation, without contacting anything; Specs checks the
// Declaration of an ensure. Errors are *DeclarationError.
func (r ConsumerRequest) Validate() error {
	switch {
	case r.Stream == "":
		return invalidf("--stream is required")
	case r.Action != "list" && r.Consumer == "":
		return invalidf("--consumer is required")
	case r.Action == "delete" && r.Confirm != r.Consumer:
		return invalidf("deleting consumer %s forgets its position; pass --confirm=%s", r.Consumer, r.Consumer)
	}
	return nil
}

// Do does r and writes what it found or did to w: a status table (list,
// inspect) or EnsureReport's text, or each as indented JSON when asJSON;
// a delete writes one line either way.
func (r ConsumerRequest) Do(ctx context.Context, js jetstream.JetStream, w io.Writer, asJSON bool) error {
	switch r.Action {
	case "list":
		list, err := List(ctx, js, r.Stream)
		return writeStatuses(w, asJSON, list, list, err)
	case "inspect":
		st, err := Inspect(ctx, js, r.Stream, r.Consumer)
		return writeStatuses(w, asJSON, st, []Status{st}, err)
	case "ensure":
		return r.ensure(ctx, js, w, asJSON)
	}
	if err := DeleteConsumer(ctx, js, r.Stream, r.Consumer); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "consumer %s on %s deleted\n", r.Consumer, r.Stream)
	return err
}

// writeStatuses writes v as indented JSON, or list as a status table,
// unless err.
func writeStatuses(w io.Writer, asJSON bool, v any, list []Status, err error) error {
	switch {
	case err != nil:
		return err
	case asJSON:
		return jsonout.Write(w, v)
	}
	return WriteStatusTable(w, list)
}

// ensure ensures the stream and consumer r declares and writes the report.
func (r ConsumerRequest) ensure(ctx context.Context, js jetstream.JetStream, w io.Writer, asJSON bool) error {
	var specs EnsureSpecs
	var err error
	if specs.Stream, specs.Consumer, err = r.Specs(r.Stream, r.Consumer); err != nil {
		return err
	}
	rep, err := EnsureReported(ctx, js, specs)
	switch {
	case err != nil:
		return err
	case asJSON:
		return jsonout.Write(w, rep)
	}
	return rep.WriteText(w)
}
