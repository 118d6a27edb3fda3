package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// checkMembers scans a JSON document and refuses what encoding/json would
// silently accept: a member given twice (the last one would win), and a
// member name that is not exactly one of the request's fields (encoding/json
// matches names case-insensitively, so "Reason" or "REASON" would count as
// "reason" and two spellings could carry two values). fields are the exact
// member names of the top-level object. Syntax errors are left to the
// decoder.
func checkMembers(data []byte, fields map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return scanValue(dec, fields, true)
}

func scanValue(dec *json.Decoder, fields map[string]bool, top bool) error {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return nil // the decoder reports syntax errors with their offset
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]string{} // folded name -> name as sent
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return nil
			}
			key, _ := keyTok.(string)
			folded := strings.ToLower(key)
			if prev, dup := seen[folded]; dup {
				if prev == key {
					return &InputError{Field: truncateForMessage(key), Msg: "appears twice in the JSON object"}
				}
				return &InputError{Field: truncateForMessage(key), Msg: fmt.Sprintf("appears twice in the JSON object, also spelt %q", truncateForMessage(prev))}
			}
			for other, prev := range seen {
				if strings.EqualFold(other, folded) {
					return &InputError{Field: truncateForMessage(key), Msg: fmt.Sprintf("appears twice in the JSON object, also spelt %q", truncateForMessage(prev))}
				}
			}
			seen[folded] = key
			if top && !fields[key] {
				for f := range fields {
					if strings.EqualFold(f, key) {
						return &InputError{Field: truncateForMessage(key), Msg: fmt.Sprintf("is not a member: names are case-sensitive, did you mean %q?", f)}
					}
				}
				return &InputError{Field: truncateForMessage(key), Msg: "is not a member of this request"}
			}
			if err := scanValue(dec, nil, false); err != nil {
				return err
			}
		}
		_, _ = dec.Token() // '}'
	case json.Delim('['):
		for dec.More() {
			if err := scanValue(dec, nil, false); err != nil {
				return err
			}
		}
		_, _ = dec.Token() // ']'
	}
	return nil
}

// jsonFields returns the member names of the struct v points to.
func jsonFields(v any) map[string]bool {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = true
	}
	return out
}
