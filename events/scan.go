package events

import (
	"encoding/json"
	"fmt"
)

// member is one top-level member of the envelope object: its name and the
// raw bytes of its value, both slices of the payload.
type member struct {
	name    []byte // without quotes; escaped names are decoded
	value   []byte
	escaped bool // value is a string containing escapes
}

// scanObject splits payload, which must be exactly one JSON object, into its
// top-level members, in order, and checks the JSON syntax of all of it. It
// is the decoder's hot path: it allocates nothing when into has room for
// the members, where encoding/json's token API allocates per token.
func scanObject(payload []byte, into []member) ([]member, error) {
	s := scanner{buf: payload}
	s.skipSpace()
	if s.i >= len(s.buf) {
		return nil, fieldErr("", "not JSON: unexpected end of input")
	}
	if s.buf[s.i] != '{' {
		if json.Valid(payload) {
			return nil, fieldErr("", "not a JSON object")
		}
		return nil, fieldErr("", "not JSON: %s", s.describe())
	}
	s.i++
	members := into[:0]
	s.skipSpace()
	if s.peek() == '}' {
		s.i++
		return members, s.end()
	}
	for {
		s.skipSpace()
		if s.peek() != '"' {
			return nil, fieldErr("", "not JSON: %s, want a field name", s.describe())
		}
		start := s.i
		escaped, err := s.skipString()
		if err != nil {
			return nil, fieldErr("", "not JSON: %v", err)
		}
		name := s.buf[start+1 : s.i-1]
		if escaped {
			var decoded string
			if err := json.Unmarshal(s.buf[start:s.i], &decoded); err != nil {
				return nil, fieldErr("", "not JSON: %v", err)
			}
			name = []byte(decoded)
		}
		s.skipSpace()
		if s.peek() != ':' {
			return nil, fieldErr(string(name), "not JSON: %s, want ':'", s.describe())
		}
		s.i++
		s.skipSpace()
		start = s.i
		valueEscaped, err := s.skipValue()
		if err != nil {
			return nil, fieldErr(string(name), "not JSON: %v", err)
		}
		value := s.buf[start:s.i]
		if (value[0] == '{' || value[0] == '[') && !json.Valid(value) {
			var v any
			return nil, fieldErr(string(name), "not JSON: %v", json.Unmarshal(value, &v))
		}
		members = append(members, member{name: name, value: value, escaped: valueEscaped})
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return members, s.end()
		default:
			return nil, fieldErr("", "not JSON: %s, want ',' or '}'", s.describe())
		}
	}
}

// scanner walks a JSON text.
type scanner struct {
	buf []byte
	i   int
}

// peek returns the current byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.buf) {
		return s.buf[s.i]
	}
	return 0
}

func (s *scanner) skipSpace() {
	for s.i < len(s.buf) {
		switch s.buf[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end checks that only white space follows the object.
func (s *scanner) end() error {
	s.skipSpace()
	if s.i != len(s.buf) {
		return fieldErr("", "trailing data after the JSON object")
	}
	return nil
}

// describe names what is at the current position, for syntax errors.
func (s *scanner) describe() string {
	if s.i >= len(s.buf) {
		return "unexpected end of input"
	}
	return fmt.Sprintf("unexpected %q at offset %d", s.buf[s.i], s.i)
}

// skipString moves past the string starting at the current '"', checking
// its escapes and refusing raw control characters, and reports whether it
// contains escapes.
func (s *scanner) skipString() (escaped bool, err error) {
	s.i++ // opening quote
	for s.i < len(s.buf) {
		c := s.buf[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.buf) {
				return escaped, fmt.Errorf("unexpected end of input")
			}
			switch s.buf[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+4 >= len(s.buf) {
					return escaped, fmt.Errorf("unexpected end of input")
				}
				for _, h := range s.buf[s.i+1 : s.i+5] {
					if !isHex(h) {
						return escaped, fmt.Errorf("invalid \\u escape at offset %d", s.i)
					}
				}
				s.i += 5
			default:
				return escaped, fmt.Errorf("invalid escape %q at offset %d", s.buf[s.i], s.i)
			}
		case c < 0x20:
			return escaped, fmt.Errorf("control character %U in a string at offset %d", rune(c), s.i)
		default:
			s.i++
		}
	}
	return escaped, fmt.Errorf("unexpected end of input")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// skipValue moves past one value. Strings, numbers and literals are checked;
// objects and arrays are only delimited (strings inside them are honoured).
func (s *scanner) skipValue() (escaped bool, err error) {
	switch c := s.peek(); {
	case c == '"':
		return s.skipString()
	case c == '{' || c == '[':
		return false, s.skipNested()
	case c == '-' || (c >= '0' && c <= '9'):
		return false, s.skipNumber()
	case c == 't':
		return false, s.skipLiteral("true")
	case c == 'f':
		return false, s.skipLiteral("false")
	case c == 'n':
		return false, s.skipLiteral("null")
	}
	return false, fmt.Errorf("%s, want a value", s.describe())
}

func (s *scanner) skipLiteral(lit string) error {
	if len(s.buf)-s.i < len(lit) || string(s.buf[s.i:s.i+len(lit)]) != lit {
		return fmt.Errorf("%s, want %s", s.describe(), lit)
	}
	s.i += len(lit)
	return nil
}

// skipNumber moves past a number, enforcing the JSON grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) skipNumber() error {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.skipDigits()
	default:
		return fmt.Errorf("%s in a number", s.describe())
	}
	if s.peek() == '.' {
		s.i++
		if !s.skipDigits() {
			return fmt.Errorf("%s in a number", s.describe())
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.skipDigits() {
			return fmt.Errorf("%s in a number", s.describe())
		}
	}
	return nil
}

func (s *scanner) skipDigits() bool {
	start := s.i
	for s.i < len(s.buf) && s.buf[s.i] >= '0' && s.buf[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// skipNested moves past an object or array by counting brackets outside
// strings; scanObject then checks its syntax with json.Valid.
func (s *scanner) skipNested() error {
	depth := 0
	for s.i < len(s.buf) {
		switch s.buf[s.i] {
		case '"':
			if _, err := s.skipString(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
			if depth > maxNesting {
				return fmt.Errorf("nested deeper than %d levels", maxNesting)
			}
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return nil
			}
		}
		s.i++
	}
	return fmt.Errorf("unexpected end of input")
}

// maxNesting bounds the depth of data documents, as encoding/json does.
const maxNesting = 10000
