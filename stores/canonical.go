package stores

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxCanonicalDepth bounds the nesting of objects and arrays, as
// encoding/json does, so hostile input cannot exhaust the stack.
const maxCanonicalDepth = 10000

// Node kinds of a parsed document.
const (
	kindObject = iota
	kindArray
	kindString
	kindNumber
	kindLiteral
)

// canonValue is one parsed value. Scalars hold their input bytes in[lo:hi]
// (strings with their quotes); arrays hold their elements kids[lo:hi],
// objects their members mems[lo:hi].
type canonValue struct {
	kind   uint8
	lo, hi int
}

// canonMember is one object member: its decoded name (what sorting map keys
// compares), the raw name between its quotes, and its value.
type canonMember struct {
	name  []byte
	rawLo int
	rawHi int
	value int
}

// canonicalizer canonicalizes JSON in two passes over a flat parse: the
// first validates the input and records values, sorting each object's
// members (the last of duplicate names wins, as in a map); the second
// writes the canonical bytes. Every byte of input is read a bounded number
// of times, however deep the nesting. Its buffers are reused from one
// document to the next, so a canonicalizer serves one goroutine at a time.
type canonicalizer struct {
	in    []byte
	pos   int
	depth int

	vals     []canonValue
	kids     []int // array elements, final
	kidStack []int
	mems     []canonMember // object members, final
	memStack []canonMember
	names    []byte  // decoded member names that differ from their raw bytes
	order    []int32 // scratch for sorting an object's members
}

var canonPool = sync.Pool{New: func() any { return new(canonicalizer) }}

// Canonical returns the canonical form of a JSON document: object members
// sorted by name, no insignificant white space, no HTML escaping, and numbers
// in one spelling (integers as plain decimal digits, so 1.0 and 1 and 1e0
// agree; other numbers as the shortest float64 form). Stores that keep JSON
// as text, as jsonb or as native documents then compare equal.
//
// Strings come out as encoding/json writes them with HTML escaping off
// (invalid UTF-8 and unpaired surrogates as U+FFFD); a member name that
// occurs twice keeps its last value. Like a json.Decoder reading one value,
// it ignores whatever follows the first complete value.
func Canonical(doc []byte) ([]byte, error) {
	c := canonPool.Get().(*canonicalizer)
	out, err := c.appendCanonical(make([]byte, 0, len(doc)+16), doc)
	c.release()
	canonPool.Put(c)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// release drops the references to the last document and, after an
// unusually large one, the buffers, so a pooled canonicalizer stays small.
func (c *canonicalizer) release() {
	c.in = nil
	const keep = 1 << 12
	if cap(c.vals) > keep || cap(c.mems) > keep || cap(c.memStack) > keep ||
		cap(c.kids) > keep || cap(c.kidStack) > keep || cap(c.order) > keep || cap(c.names) > 1<<16 {
		*c = canonicalizer{}
	}
}

// appendCanonical appends the canonical form of doc to dst. On error dst
// may have been extended with a partial result.
func (c *canonicalizer) appendCanonical(dst, doc []byte) ([]byte, error) {
	c.in, c.pos, c.depth = doc, 0, 0
	c.vals, c.kids, c.kidStack = c.vals[:0], c.kids[:0], c.kidStack[:0]
	c.mems, c.memStack, c.names = c.mems[:0], c.memStack[:0], c.names[:0]
	c.skipSpace()
	if c.pos == len(doc) {
		return dst, errors.New("canonical JSON: unexpected end of JSON input")
	}
	root, err := c.parseValue()
	if err != nil {
		return dst, err
	}
	// Like a json.Decoder, stop at the end of the first value: what
	// follows it is not read.
	return c.emit(dst, root)
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r'
}

func (c *canonicalizer) skipSpace() {
	for c.pos < len(c.in) && isSpace(c.in[c.pos]) {
		c.pos++
	}
}

func (c *canonicalizer) syntaxError(context string) error {
	if c.pos >= len(c.in) {
		return errors.New("canonical JSON: unexpected end of JSON input")
	}
	return fmt.Errorf("canonical JSON: invalid character %q %s at offset %d", c.in[c.pos], context, c.pos)
}

func (c *canonicalizer) add(kind uint8, lo, hi int) int {
	c.vals = append(c.vals, canonValue{kind: kind, lo: lo, hi: hi})
	return len(c.vals) - 1
}

// parseValue parses the value at c.pos (white space already skipped).
func (c *canonicalizer) parseValue() (int, error) {
	if c.pos >= len(c.in) {
		return 0, c.syntaxError("")
	}
	switch b := c.in[c.pos]; {
	case b == '{':
		return c.parseObject()
	case b == '[':
		return c.parseArray()
	case b == '"':
		start := c.pos
		if _, err := c.scanString(); err != nil {
			return 0, err
		}
		return c.add(kindString, start, c.pos), nil
	case b == '-' || '0' <= b && b <= '9':
		start := c.pos
		if err := c.scanNumber(); err != nil {
			return 0, err
		}
		return c.add(kindNumber, start, c.pos), nil
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	default:
		return 0, c.syntaxError("looking for beginning of value")
	}
}

func (c *canonicalizer) literal(word string) (int, error) {
	start := c.pos
	for i := 0; i < len(word); i++ {
		if c.pos >= len(c.in) || c.in[c.pos] != word[i] {
			return 0, c.syntaxError("in literal " + word)
		}
		c.pos++
	}
	return c.add(kindLiteral, start, c.pos), nil
}

func (c *canonicalizer) enter() error {
	c.depth++
	if c.depth > maxCanonicalDepth {
		return fmt.Errorf("canonical JSON: exceeded max depth %d at offset %d", maxCanonicalDepth, c.pos)
	}
	return nil
}

func (c *canonicalizer) parseArray() (int, error) {
	if err := c.enter(); err != nil {
		return 0, err
	}
	c.pos++ // '['
	mark := len(c.kidStack)
	c.skipSpace()
	if c.pos < len(c.in) && c.in[c.pos] == ']' {
		c.pos++
	} else {
		for {
			v, err := c.parseValue()
			if err != nil {
				return 0, err
			}
			c.kidStack = append(c.kidStack, v)
			c.skipSpace()
			if c.pos < len(c.in) && c.in[c.pos] == ',' {
				c.pos++
				c.skipSpace()
				continue
			}
			if c.pos < len(c.in) && c.in[c.pos] == ']' {
				c.pos++
				break
			}
			return 0, c.syntaxError("after array element")
		}
	}
	lo := len(c.kids)
	c.kids = append(c.kids, c.kidStack[mark:]...)
	c.kidStack = c.kidStack[:mark]
	c.depth--
	return c.add(kindArray, lo, len(c.kids)), nil
}

func (c *canonicalizer) parseObject() (int, error) {
	if err := c.enter(); err != nil {
		return 0, err
	}
	c.pos++ // '{'
	mark := len(c.memStack)
	c.skipSpace()
	if c.pos < len(c.in) && c.in[c.pos] == '}' {
		c.pos++
	} else {
		for {
			if c.pos >= len(c.in) || c.in[c.pos] != '"' {
				return 0, c.syntaxError("looking for beginning of object key string")
			}
			rawLo := c.pos + 1
			plain, err := c.scanString()
			if err != nil {
				return 0, err
			}
			rawHi := c.pos - 1
			name := c.in[rawLo:rawHi:rawHi]
			if !plain {
				lo := len(c.names)
				c.names = appendUnquoted(c.names, name)
				name = c.names[lo:len(c.names):len(c.names)]
			}
			c.skipSpace()
			if c.pos >= len(c.in) || c.in[c.pos] != ':' {
				return 0, c.syntaxError("after object key")
			}
			c.pos++
			c.skipSpace()
			v, err := c.parseValue()
			if err != nil {
				return 0, err
			}
			c.memStack = append(c.memStack, canonMember{name: name, rawLo: rawLo, rawHi: rawHi, value: v})
			c.skipSpace()
			if c.pos < len(c.in) && c.in[c.pos] == ',' {
				c.pos++
				c.skipSpace()
				continue
			}
			if c.pos < len(c.in) && c.in[c.pos] == '}' {
				c.pos++
				break
			}
			return 0, c.syntaxError("after object key:value pair")
		}
	}
	lo := len(c.mems)
	c.mems = c.appendSortedMembers(c.mems, c.memStack[mark:])
	c.memStack = c.memStack[:mark]
	c.depth--
	return c.add(kindObject, lo, len(c.mems)), nil
}

// appendSortedMembers appends ms to dst sorted by decoded name, keeping
// only the last member of each name, which is what decoding into a map
// and sorting its keys gives. It sorts indexes, not members, in c.order.
func (c *canonicalizer) appendSortedMembers(dst, ms []canonMember) []canonMember {
	sorted := true
	for i := 1; i < len(ms); i++ {
		if bytes.Compare(ms[i-1].name, ms[i].name) >= 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return append(dst, ms...)
	}
	order := c.order[:0]
	for i := range ms {
		order = append(order, int32(i))
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := bytes.Compare(ms[a].name, ms[b].name); c != 0 {
			return c
		}
		return int(a - b)
	})
	for i, o := range order {
		if i+1 < len(order) && bytes.Equal(ms[o].name, ms[order[i+1]].name) {
			continue // a later member of the same name wins
		}
		dst = append(dst, ms[o])
	}
	c.order = order
	return dst
}

// scanString validates the string starting at the quote at c.pos and moves
// past its closing quote. plain reports that the string has no escapes and
// is valid UTF-8, so its raw bytes are its decoded value.
func (c *canonicalizer) scanString() (plain bool, err error) {
	in := c.in
	i := c.pos + 1
	plain = true
	ascii := true
	start := i
	for {
		if i >= len(in) {
			c.pos = i
			return false, c.syntaxError("in string literal")
		}
		b := in[i]
		switch {
		case b == '"':
			if plain && !ascii {
				plain = utf8.Valid(in[start:i])
			}
			c.pos = i + 1
			return plain, nil
		case b == '\\':
			plain = false
			if i+1 >= len(in) {
				c.pos = i + 1
				return false, c.syntaxError("in string escape code")
			}
			switch in[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(in) || unhex(in[j]) < 0 {
						c.pos = j
						return false, c.syntaxError("in \\u hexadecimal character escape")
					}
				}
				i += 6
			default:
				c.pos = i + 1
				return false, c.syntaxError("in string escape code")
			}
		case b < 0x20:
			c.pos = i
			return false, c.syntaxError("in string literal")
		default:
			if b >= utf8.RuneSelf {
				ascii = false
			}
			i++
		}
	}
}

func unhex(b byte) rune {
	switch {
	case '0' <= b && b <= '9':
		return rune(b - '0')
	case 'a' <= b && b <= 'f':
		return rune(b - 'a' + 10)
	case 'A' <= b && b <= 'F':
		return rune(b - 'A' + 10)
	}
	return -1
}

// hex4 decodes the four hex digits of a validated \u escape.
func hex4(s []byte) rune {
	return unhex(s[0])<<12 | unhex(s[1])<<8 | unhex(s[2])<<4 | unhex(s[3])
}

// nextEscapedRune decodes the escape at s[i] (s[i] == '\\', validated) the
// way encoding/json does: a \u surrogate pair becomes one rune, a lone
// surrogate U+FFFD. It returns the rune and the bytes consumed.
func nextEscapedRune(s []byte, i int) (rune, int) {
	switch s[i+1] {
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r := hex4(s[i+2 : i+6])
		if !utf16.IsSurrogate(r) {
			return r, 6
		}
		if j := i + 6; j+6 <= len(s) && s[j] == '\\' && s[j+1] == 'u' {
			if d := utf16.DecodeRune(r, hex4(s[j+2:j+6])); d != utf8.RuneError {
				return d, 12
			}
		}
		return utf8.RuneError, 6
	default: // '"', '\\', '/'
		return rune(s[i+1]), 2
	}
}

// appendUnquoted appends the decoded value of the validated string content
// s, as encoding/json decodes it: invalid UTF-8 becomes U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		switch b := s[i]; {
		case b == '\\':
			r, n := nextEscapedRune(s, i)
			dst = utf8.AppendRune(dst, r)
			i += n
		case b < utf8.RuneSelf:
			dst = append(dst, b)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendCanonicalString appends the validated string content s (between its
// quotes) decoded and re-encoded as encoding/json encodes a string with
// HTML escaping off: \" \\ \b \f \n \r \t, other control characters as
// \u00XX, U+2028 and U+2029 escaped, invalid UTF-8 and unpaired surrogates
// as U+FFFD, everything else as is.
func appendCanonicalString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b != '\\' { // a raw '"' or control character does not validate
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			r, n := nextEscapedRune(s, i)
			dst = appendEncodedRune(dst, r)
			i += n
			start = i
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += n
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEncodedRune appends r as encoding/json writes it inside a string.
func appendEncodedRune(dst []byte, r rune) []byte {
	switch {
	case r == '"' || r == '\\':
		return append(dst, '\\', byte(r))
	case r == '\b':
		return append(dst, '\\', 'b')
	case r == '\f':
		return append(dst, '\\', 'f')
	case r == '\n':
		return append(dst, '\\', 'n')
	case r == '\r':
		return append(dst, '\\', 'r')
	case r == '\t':
		return append(dst, '\\', 't')
	case r < 0x20:
		return append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
	case r < utf8.RuneSelf:
		return append(dst, byte(r))
	case r == '\u2028' || r == '\u2029':
		return append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
	}
	return utf8.AppendRune(dst, r)
}

// emit appends the canonical bytes of value v.
func (c *canonicalizer) emit(dst []byte, v int) ([]byte, error) {
	val := c.vals[v]
	var err error
	switch val.kind {
	case kindObject:
		dst = append(dst, '{')
		for i := val.lo; i < val.hi; i++ {
			if i > val.lo {
				dst = append(dst, ',')
			}
			m := &c.mems[i]
			dst = appendCanonicalString(dst, c.in[m.rawLo:m.rawHi])
			dst = append(dst, ':')
			if dst, err = c.emit(dst, m.value); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case kindArray:
		dst = append(dst, '[')
		for i := val.lo; i < val.hi; i++ {
			if i > val.lo {
				dst = append(dst, ',')
			}
			if dst, err = c.emit(dst, c.kids[i]); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case kindString:
		return appendCanonicalString(dst, c.in[val.lo+1:val.hi-1]), nil
	case kindNumber:
		return appendCanonicalNumber(dst, c.in[val.lo:val.hi])
	default:
		return append(dst, c.in[val.lo:val.hi]...), nil
	}
}
