package events

import (
	"encoding/binary"
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
		// Plain bytes eight at a time; the loop below looks at the rest.
		for s.i+8 <= len(s.buf) && !stringSpecial(binary.LittleEndian.Uint64(s.buf[s.i:])) {
			s.i += 8
		}
		// The byte that ends the run is among the next eight (or the
		// input ends first).
		for s.i < len(s.buf) && s.buf[s.i] >= 0x20 && s.buf[s.i] != '"' && s.buf[s.i] != '\\' {
			s.i++
		}
		if s.i >= len(s.buf) {
			break
		}
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
		default: // a control character
			return escaped, fmt.Errorf("control character %U in a string at offset %d", rune(c), s.i)
		}
	}
	return escaped, fmt.Errorf("unexpected end of input")
}

// stringSpecial reports whether any of the eight bytes of w ends a plain
// run inside a JSON string: a control character (< 0x20), '"' or '\\'.
// The bit tricks answer "is there such a byte" exactly (which byte, they
// may not: the byte loop finds it).
func stringSpecial(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	control := (w - ones*0x20) &^ w & highs
	quote := (w ^ (ones * '"'))
	backslash := (w ^ (ones * '\\'))
	return control|((quote-ones)&^quote&highs)|((backslash-ones)&^backslash&highs) != 0
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// skipValue moves past one value, checking its JSON syntax (objects and
// arrays in full, in one pass, with no allocation).
func (s *scanner) skipValue() (escaped bool, err error) {
	switch c := s.peek(); {
	case c == '"':
		return s.skipString()
	case c == '{' || c == '[':
		start := s.i
		if s.skipContainer() == nil {
			return false, nil
		}
		// Only the failure path pays for encoding/json's description of
		// what is wrong.
		s.i = start
		if err := s.skipNested(); err != nil {
			return false, err
		}
		var v any
		if err := json.Unmarshal(s.buf[start:s.i], &v); err != nil {
			return false, err
		}
		return false, fmt.Errorf("invalid JSON at offset %d", start)
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
// strings, without checking the rest of its syntax: it delimits a value
// skipContainer refused, for encoding/json to describe the error.
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

// skipContainer moves past the object or array starting at the current
// position and checks the JSON grammar of all of it, in one pass and
// without allocating: it accepts exactly what json.Valid accepts (invalid
// UTF-8 included, which the decoder checks separately), up to maxNesting
// levels. It replaced delimiting the value and running json.Valid on it,
// which walked every data document twice.
func (s *scanner) skipContainer() error {
	var room [32]byte
	open := room[:0] // the closing bracket of each open container
	for {
		// A value is due.
		s.skipSpace()
		switch c := s.peek(); {
		case c == '{' || c == '[':
			if len(open) == maxNesting {
				return fmt.Errorf("nested deeper than %d levels", maxNesting)
			}
			s.i++
			closing := byte(']')
			if c == '{' {
				closing = '}'
			}
			open = append(open, closing)
			s.skipSpace()
			if s.peek() == closing {
				s.i++
				open = open[:len(open)-1]
				break // an empty container is a complete value
			}
			if c == '{' {
				if err := s.skipMemberName(); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			if _, err := s.skipString(); err != nil {
				return err
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if err := s.skipNumber(); err != nil {
				return err
			}
		case c == 't':
			if err := s.skipLiteral("true"); err != nil {
				return err
			}
		case c == 'f':
			if err := s.skipLiteral("false"); err != nil {
				return err
			}
		case c == 'n':
			if err := s.skipLiteral("null"); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s, want a value", s.describe())
		}
		// A value is complete: close containers until the next element.
		for {
			if len(open) == 0 {
				return nil
			}
			s.skipSpace()
			closing := open[len(open)-1]
			c := s.peek()
			if c == closing {
				s.i++
				open = open[:len(open)-1]
				continue
			}
			if c != ',' {
				return fmt.Errorf("%s, want ',' or %q", s.describe(), closing)
			}
			s.i++
			if closing == '}' {
				if err := s.skipMemberName(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// skipMemberName moves past `"name" :` inside an object.
func (s *scanner) skipMemberName() error {
	s.skipSpace()
	if s.peek() != '"' {
		return fmt.Errorf("%s, want a member name", s.describe())
	}
	if _, err := s.skipString(); err != nil {
		return err
	}
	s.skipSpace()
	if s.peek() != ':' {
		return fmt.Errorf("%s, want ':'", s.describe())
	}
	s.i++
	return nil
}

// ValidObject reports whether doc is one JSON object (white space around
// it allowed): what json.Valid accepts, starting with '{'. It checks in one
// pass without allocating, at about half the cost of json.Valid, for the
// documents every store validates before writing.
func ValidObject(doc []byte) bool {
	s := scanner{buf: doc}
	s.skipSpace()
	if s.peek() != '{' || s.skipContainer() != nil {
		return false
	}
	s.skipSpace()
	return s.i == len(doc)
}
