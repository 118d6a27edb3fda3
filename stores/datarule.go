package stores

import (
	"bytes"
	"unicode/utf8"
)

// dataProblem is the one rule for the text inside a document, the same in
// every store: the data must be valid UTF-8, and no string (value or field
// name) may hold U+0000 (the escape \u0000) or an unpaired UTF-16
// surrogate escape. PostgreSQL's jsonb cannot store either, and a
// document one store holds and another refuses could never be verified
// equal; so every store refuses them, with this reason, before writing.
// Other control characters (\u0001, \n, ...) are data like any other.
func dataProblem(doc []byte) string {
	if !utf8.Valid(doc) {
		return "data is not valid UTF-8"
	}
	// doc is valid JSON (validateWrite checked it), where a backslash only
	// occurs inside strings and every \u has four hex digits, so a byte
	// scan finds every escape.
	for i := 0; i < len(doc); i++ {
		next := bytes.IndexByte(doc[i:], '\\')
		if next < 0 {
			break
		}
		i += next + 1 // the escaped character
		if i >= len(doc) || doc[i] != 'u' {
			continue
		}
		cp := hex4(doc[i+1 : i+5])
		i += 4
		switch {
		case cp == 0:
			return "data holds U+0000 (\\u0000), which no store keeps alike (PostgreSQL refuses it)"
		case cp >= 0xDC00 && cp <= 0xDFFF:
			return "data holds an unpaired UTF-16 low surrogate escape"
		case cp >= 0xD800 && cp <= 0xDBFF:
			if i+2 >= len(doc) || doc[i+1] != '\\' || doc[i+2] != 'u' {
				return "data holds an unpaired UTF-16 high surrogate escape"
			}
			if low := hex4(doc[i+3 : i+7]); low < 0xDC00 || low > 0xDFFF {
				return "data holds an unpaired UTF-16 high surrogate escape"
			}
			i += 6
		}
	}
	return ""
}
