package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrUsage matches errors caused by bad flags or configuration. The binary
// prints them on one line and exits with code 2.
var ErrUsage = errors.New("usage")

// UsageError is a bad flag or configuration value.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string        { return e.Msg }
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// Usagef builds a *UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// EnvVars lists the only flags that fall back to environment variables,
// and the variables each reads, first set wins. A flag missing here is
// never read from the environment: safety switches (--force, --confirm,
// --reason), gate thresholds (--min-shadow-reads, --max-lag) and anything
// whose meaning differs between commands (--batch-size, --consumer) must
// be given on the command line. Every variable means one thing in every
// command that reads it; docs/cli.md lists them.
var EnvVars = map[string][]string{
	// Connection.
	"nats":            {"SWITCHYARD_NATS", "NATS_URL"},
	"context":         {"NATS_CONTEXT"},
	"nats-creds":      {"SWITCHYARD_NATS_CREDS", "NATS_CREDS"},
	"nats-nkey":       {"SWITCHYARD_NATS_NKEY", "NATS_NKEY"},
	"nats-token-file": {"SWITCHYARD_NATS_TOKEN_FILE"},
	"nats-user":       {"SWITCHYARD_NATS_USER"},
	// The password itself is SWITCHYARD_NATS_PASSWORD (see PasswordEnv).
	"nats-password-file": {"SWITCHYARD_NATS_PASSWORD_FILE"},
	"nats-tls-ca":        {"SWITCHYARD_NATS_TLS_CA", "NATS_CA"},
	"nats-tls-cert":      {"SWITCHYARD_NATS_TLS_CERT", "NATS_CERT"},
	"nats-tls-key":       {"SWITCHYARD_NATS_TLS_KEY", "NATS_KEY"},
	"connect-timeout":    {"SWITCHYARD_CONNECT_TIMEOUT"},
	// Stores: DSNs, which may hold secrets and so come from a Secret.
	"sink":   {"SWITCHYARD_SINK"},
	"source": {"SWITCHYARD_SOURCE"},
	"target": {"SWITCHYARD_TARGET"},
	"legacy": {"SWITCHYARD_LEGACY"},
	// Names of what the migration uses, the same for every command.
	"stream":           {"SWITCHYARD_STREAM"},
	"prefix":           {"SWITCHYARD_PREFIX"},
	"flags-bucket":     {"SWITCHYARD_FLAGS_BUCKET"},
	"migration-bucket": {"SWITCHYARD_MIGRATION_BUCKET"},
	"audit-stream":     {"SWITCHYARD_AUDIT_STREAM"},
	"shadow-bucket":    {"SWITCHYARD_SHADOW_BUCKET"},
	"clients-bucket":   {"SWITCHYARD_CLIENTS_BUCKET"},
	// Process settings.
	"log-format": {"SWITCHYARD_LOG_FORMAT"},
	"log-level":  {"SWITCHYARD_LOG_LEVEL"},
	"http":       {"SWITCHYARD_HTTP"},
	"listen":     {"SWITCHYARD_LISTEN"},
}

// FlagSet is a flag.FlagSet whose allow-listed flags (EnvVars) fall back
// to environment variables: --sink of any command reads SWITCHYARD_SINK
// when it is not given on the command line.
type FlagSet struct {
	*flag.FlagSet
	command string
	usage   string
	out     io.Writer
}

// PrintUsage prints the command's usage text and flags to its output.
func (fs *FlagSet) PrintUsage() {
	fmt.Fprintf(fs.out, "Usage: switchyard %s\n\n%s\n\nFlags:\n", fs.command, strings.TrimSpace(fs.usage))
	fs.SetOutput(fs.out)
	fs.printDefaults()
	fs.SetOutput(io.Discard)
	var env []string
	fs.VisitAll(func(f *flag.Flag) {
		if vars, ok := EnvVars[f.Name]; ok {
			env = append(env, fmt.Sprintf("  --%s: %s", f.Name, strings.Join(vars, ", ")))
		}
	})
	if len(env) > 0 {
		fmt.Fprintf(fs.out, "\nRead from the environment when not given (flag > environment > nats context > default):\n%s\n", strings.Join(env, "\n"))
	}
}

// NewFlagSet returns the flag set of one subcommand. usage is printed by
// --help above the flag list.
func NewFlagSet(command, usage string, out io.Writer) *FlagSet {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	// The flag package prints the whole usage on any parse error; a bad
	// flag must produce one line, so the usage is printed for --help only.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &FlagSet{FlagSet: fs, command: command, usage: usage, out: out}
}

// Parse parses args, then fills every allow-listed flag (EnvVars) not given
// on the command line from the first of its environment variables that is
// set. It returns flag.ErrHelp for --help, and a *UsageError naming the
// flag or variable for anything malformed.
func (fs *FlagSet) Parse(args []string) error {
	if err := fs.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.PrintUsage()
			return err
		}
		return Usagef("%s: %v", fs.command, err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var firstErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || firstErr != nil {
			return
		}
		for _, name := range EnvVars[f.Name] {
			v, ok := os.LookupEnv(name)
			if !ok {
				continue
			}
			if err := f.Value.Set(v); err != nil {
				firstErr = Usagef("%s: %s=%q: %v", fs.command, name, v, err)
			}
			return
		}
	})
	return firstErr
}

// NoArgs fails with a usage error when positional arguments remain.
func (fs *FlagSet) NoArgs() error {
	if fs.NArg() > 0 {
		return Usagef("%s: unexpected argument %q", fs.command, fs.Arg(0))
	}
	return nil
}

// ParseFlags parses a command that takes no arguments besides flags:
// Parse, then NoArgs.
func (fs *FlagSet) ParseFlags(args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return fs.NoArgs()
}

// StringList is a repeatable or comma-separated string flag.
type StringList []string

func (l *StringList) String() string { return strings.Join(*l, ",") }

// Set appends the comma-separated values of s.
func (l *StringList) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}
