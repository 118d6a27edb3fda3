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

// FlagSet is a flag.FlagSet whose flags fall back to environment variables:
// flag "batch-size" of any command reads SWITCHYARD_BATCH_SIZE when it is not
// given on the command line.
type FlagSet struct {
	*flag.FlagSet
	command string
	usage   string
	out     io.Writer
}

// PrintUsage prints the command's usage text and flags to its output.
func (fs *FlagSet) PrintUsage() {
	fmt.Fprintf(fs.out, "Usage: switchyard %s\n\n%s\n\nFlags (each also read from SWITCHYARD_<NAME>):\n", fs.command, strings.TrimSpace(fs.usage))
	fs.SetOutput(fs.out)
	fs.printDefaults()
	fs.SetOutput(io.Discard)
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

// EnvName is the environment variable a flag falls back to.
func EnvName(flagName string) string {
	return "SWITCHYARD_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// Parse parses args, then fills every flag not given on the command line
// from its environment variable. It returns flag.ErrHelp for --help, and a
// *UsageError naming the flag or variable for anything malformed.
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
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				firstErr = Usagef("%s: %s=%q: %v", fs.command, EnvName(f.Name), v, err)
			}
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
