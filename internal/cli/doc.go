// Package cli holds what every subcommand of the switchyard binary shares:
// flag sets whose allow-listed flags fall back to environment variables,
// usage errors (exit 2) and failed checks (exit 1) and the mapping of
// errors to exit codes, structured logging, the JSON or text printing of a
// result, the signal handling of a process, and the NATS connection flags
// (nats CLI contexts, NATS_URL, a connect timeout for one-shot commands,
// retry for long-running ones) with the logger a session starts with.
package cli
