package cli

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The flag package reads integers with base prefixes and digit separators
// ("0x10", "0o17", "1_000") and floats with exponents, hexadecimal
// mantissas, "Inf" and "NaN" ("0x1p3" is 8). A typo then silently becomes
// another number. The numeric flags of a FlagSet accept plain decimal
// numbers only; anything else is a usage error naming the flag.

var (
	decimalInteger = regexp.MustCompile(`^[+-]?[0-9]+$`)
	decimalFloat   = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)
)

// errNotDecimal is what a numeric flag says about a malformed value; the
// flag package adds the flag name and the value.
var (
	errNotInteger = errors.New("not a decimal integer (digits only, such as 250)")
	errNotNumber  = errors.New("not a decimal number (digits with an optional decimal point, such as 0.25)")
)

type intValue struct{ p *int }

func (v intValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}

func (v intValue) Set(s string) error {
	if !decimalInteger.MatchString(s) {
		return errNotInteger
	}
	n, err := strconv.ParseInt(s, 10, strconv.IntSize)
	if err != nil {
		return errors.New("out of range")
	}
	*v.p = int(n)
	return nil
}

type int64Value struct{ p *int64 }

func (v int64Value) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(*v.p, 10)
}

func (v int64Value) Set(s string) error {
	if !decimalInteger.MatchString(s) {
		return errNotInteger
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("out of range")
	}
	*v.p = n
	return nil
}

type uint64Value struct{ p *uint64 }

func (v uint64Value) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatUint(*v.p, 10)
}

func (v uint64Value) Set(s string) error {
	if !decimalInteger.MatchString(s) || s[0] == '-' {
		return errors.New("not a decimal integer of 0 or more (digits only)")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return errors.New("out of range")
	}
	*v.p = n
	return nil
}

type float64Value struct{ p *float64 }

func (v float64Value) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

func (v float64Value) Set(s string) error {
	if !decimalFloat.MatchString(s) {
		return errNotNumber
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("out of range")
	}
	*v.p = f
	return nil
}

// IntVar defines a strictly decimal int flag.
func (fs *FlagSet) IntVar(p *int, name string, value int, usage string) {
	*p = value
	fs.Var(intValue{p}, name, usage)
}

// Int defines a strictly decimal int flag.
func (fs *FlagSet) Int(name string, value int, usage string) *int {
	p := new(int)
	fs.IntVar(p, name, value, usage)
	return p
}

// Int64Var defines a strictly decimal int64 flag.
func (fs *FlagSet) Int64Var(p *int64, name string, value int64, usage string) {
	*p = value
	fs.Var(int64Value{p}, name, usage)
}

// Int64 defines a strictly decimal int64 flag.
func (fs *FlagSet) Int64(name string, value int64, usage string) *int64 {
	p := new(int64)
	fs.Int64Var(p, name, value, usage)
	return p
}

// Uint64Var defines a strictly decimal uint64 flag.
func (fs *FlagSet) Uint64Var(p *uint64, name string, value uint64, usage string) {
	*p = value
	fs.Var(uint64Value{p}, name, usage)
}

// Uint64 defines a strictly decimal uint64 flag.
func (fs *FlagSet) Uint64(name string, value uint64, usage string) *uint64 {
	p := new(uint64)
	fs.Uint64Var(p, name, value, usage)
	return p
}

// Float64Var defines a strictly decimal float64 flag (no exponent,
// hexadecimal, Inf or NaN).
func (fs *FlagSet) Float64Var(p *float64, name string, value float64, usage string) {
	*p = value
	fs.Var(float64Value{p}, name, usage)
}

// Float64 defines a strictly decimal float64 flag.
func (fs *FlagSet) Float64(name string, value float64, usage string) *float64 {
	p := new(float64)
	fs.Float64Var(p, name, value, usage)
	return p
}

// typeName gives the strict numeric flags their type in --help, as the flag
// package does for its own.
func (intValue) typeName() string     { return "int" }
func (int64Value) typeName() string   { return "int" }
func (uint64Value) typeName() string  { return "uint" }
func (float64Value) typeName() string { return "float" }

// printDefaults is flag.PrintDefaults, naming the type of the strict
// numeric flags too.
func (fs *FlagSet) printDefaults() {
	fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		fmt.Fprintf(&b, "  -%s", f.Name)
		name, usage := flag.UnquoteUsage(f)
		if t, ok := f.Value.(interface{ typeName() string }); ok && name == "value" {
			name = t.typeName()
		}
		if name != "" {
			b.WriteString(" " + name)
		}
		if b.Len() <= 4 {
			b.WriteString("\t")
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch def := f.DefValue; {
		case def == "" || def == "0" || def == "0s" || def == "false" || def == "[]":
		case name == "string":
			fmt.Fprintf(&b, " (default %q)", def)
		default:
			fmt.Fprintf(&b, " (default %v)", def)
		}
		fmt.Fprintln(fs.Output(), b.String())
	})
}
