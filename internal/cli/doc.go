// Package cli holds what every subcommand of the switchyard binary shares:
// flag sets that fall back to SWITCHYARD_* environment variables, usage
// errors that exit with code 2, structured logging, and the NATS connection
// flags with retry at start.
package cli
