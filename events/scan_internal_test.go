package events

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// FuzzSkipContainer holds the one-pass validator of data documents to
// encoding/json: it accepts an object or array exactly when json.Valid
// does, and then stops right after it.
func FuzzSkipContainer(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"a":[1,{"b":null}],"c":"\u00e9\ud83d\ude00"}`, `[1,2,]`, `{"a":1,}`, `{"a" 1}`, `[01]`, `[-]`,
		`[1.]`, `[1e]`, `[1e+5, -0.5E-3, true, false, null]`, `{"a":"\x"}`, `["\u12"]`, `[tru]`, `{,}`, `[[[[]]]]`,
		`[[[]]`, `{"a":{}}}`, "[\"\x01\"]", "[\"\xff\"]", ` [ 1 , 2 ] `, `{"":""}`, `[1 2]`, `{"a":1 "b":2}`, `[1}`, `{"a":[1}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) == 0 || (doc[0] != '{' && doc[0] != '[') {
			return
		}
		s := scanner{buf: doc}
		err := s.skipContainer()
		want := json.Valid(doc)
		if err == nil {
			rest := scanner{buf: doc, i: s.i}
			rest.skipSpace()
			if got := rest.i == len(doc); got != want {
				t.Fatalf("%q: skipContainer stopped at %d (whole document: %v), json.Valid says %v", doc, s.i, got, want)
			}
			if !json.Valid(doc[:s.i]) {
				t.Fatalf("%q: skipContainer accepted %q, which json.Valid refuses", doc, doc[:s.i])
			}
		} else if want {
			t.Fatalf("%q: skipContainer refused a valid document: %v", doc, err)
		}
	})
}

func TestSkipContainerDepth(t *testing.T) {
	for _, depth := range []int{maxNesting, maxNesting + 1} {
		doc := make([]byte, 0, 2*depth)
		for range depth {
			doc = append(doc, '[')
		}
		for range depth {
			doc = append(doc, ']')
		}
		s := scanner{buf: doc}
		if err := s.skipContainer(); (err == nil) != (depth <= maxNesting) || (err == nil) != json.Valid(doc) {
			t.Errorf("depth %d: skipContainer: %v, json.Valid: %v", depth, err, json.Valid(doc))
		}
	}
}

// FuzzValidObject holds ValidObject to encoding/json: valid JSON whose
// first non-space byte is '{'.
func FuzzValidObject(f *testing.F) {
	for _, seed := range []string{`{}`, ` {"a":1} `, `[]`, `{"a":1}x`, `"s"`, ``, " \t{}\n", "\v{}", `{"a":[1,}`, `{}{}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		trimmed := bytes.TrimLeft(doc, " \t\r\n")
		want := json.Valid(doc) && len(trimmed) > 0 && trimmed[0] == '{'
		if got := ValidObject(doc); got != want {
			t.Fatalf("ValidObject(%q) = %v, encoding/json says %v", doc, got, want)
		}
	})
}

// TestStringSpecial checks the eight-byte test against the byte rule: every
// byte value at every position, among plain neighbours and among bytes that
// make the subtraction borrow (0x00, 0x80, 0xff).
func TestStringSpecial(t *testing.T) {
	special := func(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }
	for _, fill := range []byte{'a', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xc3, 0xff} {
		for pos := range 8 {
			for c := range 256 {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(c)
				want := special(byte(c)) || special(fill)
				if got := stringSpecial(binary.LittleEndian.Uint64(b[:])); got != want {
					t.Fatalf("stringSpecial(% x) = %v, want %v", b, got, want)
				}
			}
		}
	}
}
