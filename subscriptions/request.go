package subscriptions

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
