package redact

// Error is an error about a DSN or NATS URL whose text names only the
// redacted form and the scrubbed message of the underlying error, while
// errors.Is and errors.As still see the underlying chain.
type Error struct {
	// What says what the value is ("store", "NATS at").
	What string
	// Redacted is the redacted value.
	Redacted string
	msg      string
	err      error
}

// WrapDSN returns nil for a nil err, else an *Error about the store DSN
// dsn whose text is safe to print. also are other forms of the DSN the
// error may quote (the DSN with its secret references resolved).
func WrapDSN(err error, what, dsn string, also ...string) error {
	if err == nil {
		return nil
	}
	return &Error{What: what, Redacted: DSN(dsn), msg: Scrub(err.Error(), append([]string{dsn}, also...)...), err: err}
}

// WrapURLs is WrapDSN for a comma-separated list of NATS URLs.
func WrapURLs(err error, what, urls string) error {
	if err == nil {
		return nil
	}
	msg := Scrub(err.Error(), urls)
	for _, u := range splitList(urls) {
		msg = Scrub(msg, u)
	}
	return &Error{What: what, Redacted: URLs(urls), msg: msg, err: err}
}

func (e *Error) Error() string {
	if e.What == "" {
		return e.Redacted + ": " + e.msg
	}
	return e.What + " " + e.Redacted + ": " + e.msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.err }
