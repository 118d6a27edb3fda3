package stores

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// canonicalSeeds are documents the unit test and the fuzz test compare
// against canonicalReference: nesting, escapes, unicode, numbers of every
// spelling, duplicate names, invalid JSON and trailing data.
var canonicalSeeds = []string{
	`{"name":"Ada","n":1,"tags":["x","y"]}`,
	`{"nested":{"z":1.5,"a":null},"ok":true}`,
	`{"text":"h\u00e9llo \"q\"","big":9007199254740991}`,
	`{}`, `[]`, `[[]]`, `{"a":{}}`, `[{},[],{"b":[{"c":{}}]}]`,
	"{\n\t\"deep\": {\"x\": null, \"y\": [1.00, {\"a\": false, \"b\": true}]}\n}",
	`{ "b" : 2 ,  "a" : 1 }`, `{"b":1,"a":2,"c":{"z":0,"y":[3,2,1]}}`,
	// duplicate names: the last wins
	`{"a":1,"a":2}`, `{"a":1,"b":0,"a":2}`, `{"a":{"x":1},"a":[2],"a":"3"}`,
	`{"a":1e99999999999,"a":1}`, `{"\u0061":1,"a":2}`, `{"a":2,"\u0061":1}`,
	// names are compared decoded
	`{"a\"":1,"a#":2}`, `{"a\u0000":1,"a":2}`, `{"\u00e9":1,"f":2,"\ud83d\ude00":3,"\uffff":4}`,
	`{"\ud800":1,"\ufffd":2}`, "{\"\xff\":1,\"\\ufffd\":2}", `{"\/":1,"/":2}`,
	// strings
	`"\b\f\n\r\t\/\\\""`, `"\u0000\u0001\u001f\u007f\u0080"`, `"<>&\u003c\u003e\u0026"`,
	`"\ud800"`, `"\ud800\udc00"`, `"\udc00\ud800"`, `"\ud800\u0041"`, `"\ud800\\u0041"`,
	`"\uD83D\uDE00x"`, `"\ud800\ud800\udc00"`, `"\u2028\u2029"`, "\"\u2028\u2029\"", `"é\u00e9"`,
	"\"\xff\"", "\"a\xe2\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x80\\n\"",
	"\"\xc3\"", "\"\x7f\"", `"\uFFFD\uffff\uFEFF"`,
	// numbers
	`0`, `-0`, `-0.0`, `0e5`, `-0.000e-7`, `1`, `1.0`, `1e0`, `1E+2`, `1e-2`, `0.1`, `1.5`,
	`-1.5e-7`, `0.1e1`, `10e-1`, `100e-2`, `1.50`, `12.3400e1`,
	`123456789012345678901234567890`, `-123456789012345678901234567890e-5`,
	`9007199254740993`, `9223372036854775807`, `9223372036854775808`, `-9223372036854775809`,
	`1e400`, `1.5e300`, `2e308`, `1.7976931348623157e308`, `1.7976931348623159e308`,
	`5e-324`, `2.4703282292062327e-324`, `2.4703282292062328e-324`, `1e-400`, `-1e-400`,
	`4.9406564584124654e-324`, `2.2250738585072011e-308`, `2.2250738585072012e-308`,
	`1.00000000000000011102230246251565404236316680908203125`,
	`1.000000000000000111022302462515654042363166809082031250000001`,
	`0.30000000000000004`, `3.0000000000000004e-1`, `123.456e-200`, `1e-180`, `1.2e-181`,
	`1e9999`, `1e-9999`, `1e99999999999`, `1e-99999999999`, `1E0000000000000000001`,
	`0.` + strings.Repeat("0", 300) + `1e301`, `1` + strings.Repeat("0", 300) + `e-300`,
	strings.Repeat("9", 154), strings.Repeat("9", 155), `1` + strings.Repeat("0", 153), `1e153`, `1e154`,
	`[1,1.0,1e0,10E-1,-0,0.5,5e-1,1e21,1e-7]`,
	// literals and white space
	`true`, `false`, `null`, ` [ true , false , null ] `, "\t\r\n{}\n",
	// trailing data, which a json.Decoder reading one value ignores
	`{}x`, `[1] 2`, `{"a":1}}`, `1 x`, `1x`, `1]`, `"a"x`, `"a" x`, `true x`, `truex`, `nullx`, ` 1 `, `1
`,
	// invalid
	``, ` `, `{`, `}`, `[`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{,}`, `[1,]`, `[,1]`, `{"a":1,}`, `[1 2]`,
	`{'a':1}`, `{a:1}`, `01`, `-01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e+`, `1.e5`, `NaN`, `Infinity`,
	"\"\x01\"", `"\a"`, `"\u12g4"`, `"\u12"`, `"\`, `"abc`, `tru`, `nul`, `fals`, `True`,
	"\xef\xbb\xbf{}", `[1,{"a":[2,{"b":}]}]`,
}

func TestCanonicalMatchesReference(t *testing.T) {
	for _, doc := range canonicalSeeds {
		compareCanonical(t, []byte(doc))
	}
}

func compareCanonical(t *testing.T, doc []byte) {
	t.Helper()
	want, wantErr := canonicalReference(doc)
	got, err := Canonical(doc)
	if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("Canonical(%q) = %q, %v; reference gives %q, %v", doc, got, err, want, wantErr)
	}
	// Appending to a buffer keeps what it held.
	var c canonicalizer
	prefix := []byte("prefix")
	out, err := c.appendCanonical(prefix, doc)
	if err == nil && (!bytes.HasPrefix(out, prefix) || !bytes.Equal(out[len(prefix):], want)) {
		t.Fatalf("appendCanonical(%q, %q) = %q", prefix, doc, out)
	}
}

func TestCanonicalSpellings(t *testing.T) {
	for doc, want := range map[string]string{
		`{ "b" : [1.0, 1e0, 10E-1, -0, 0.5] , "a" : "<\u00e9\/>" }`: `{"a":"<é/>","b":[1,1,1,0,0.5]}`,
		`{"a":1,"b":0,"a":2}`:              `{"a":2,"b":0}`,
		`"\ud83d\ude00\ud800\u2028\u0007"`: `"😀` + "\uFFFD" + `\u2028\u0007"`,
		"\"\xff\"":                         "\"\uFFFD\"",
		`[1e-400, 1.5e1, 0.1, -0.0, 1e2]`:  `[0,15,0.1,0,100]`,
	} {
		got, err := Canonical([]byte(doc))
		if err != nil || string(got) != want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", doc, got, err, want)
		}
	}
}

func TestCanonicalDepth(t *testing.T) {
	for _, open := range []string{"[", `{"a":`} {
		closer := map[string]string{"[": "]", `{"a":`: "}"}[open]
		for _, depth := range []int{maxCanonicalDepth, maxCanonicalDepth + 1} {
			doc := []byte(strings.Repeat(open, depth) + "1" + strings.Repeat(closer, depth))
			_, err := Canonical(doc)
			if (err == nil) != (depth <= maxCanonicalDepth) {
				t.Fatalf("depth %d of %q: error %v", depth, open, err)
			}
			compareCanonical(t, doc)
		}
	}
	// Far deeper than allowed fails fast and without exhausting the stack.
	if _, err := Canonical([]byte(strings.Repeat("[", 1<<20))); err == nil {
		t.Fatal("a million open brackets canonicalized")
	}
}

func TestSummerMatchesReference(t *testing.T) {
	rows := [][3]string{
		{"a", "c1", `{"name":"Ada","n":1,"tags":["x","y"]}`},
		{"b", "c2", `{"nested":{"z":1.5,"a":null},"ok":true}`},
		{"é", "c1", `{"text":"h\u00e9llo \"q\"","big":9007199254740991}`},
		{"\U0001F600", "c3", `{}`},
	}
	var s Summer
	var ref summerReference
	for _, r := range rows {
		if err := s.Add(r[0], r[1], []byte(r[2])); err != nil {
			t.Fatal(err)
		}
		if err := ref.Add(r[0], r[1], []byte(r[2])); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Checksum(); got.Digest != ref.digest() || got.Count != ref.count {
		t.Fatalf("Summer = %+v, reference digest %s count %d", got, ref.digest(), ref.count)
	}
	if err := s.Add("bad", "c1", []byte(`{"a":`)); err == nil {
		t.Fatal("Summer.Add accepted invalid JSON")
	}
	if s.Count() != int64(len(rows)) {
		t.Fatalf("a rejected row was counted: %d", s.Count())
	}
}

func TestSummerAddAllocations(t *testing.T) {
	var s Summer
	doc := []byte(benchDocument)
	if err := s.Add("key-0001", "client", doc); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.Add("key-0001", "client", doc) }); n != 0 {
		t.Fatalf("Summer.Add allocates %v times per row", n)
	}
}

// hugeExponent reports whether doc holds an exponent of 5 digits or more,
// whose integral value both implementations expand to that many digits
// through math/big: too slow for a fuzz iteration, and the same code path
// (CanonicalNumber) on both sides.
func hugeExponent(doc []byte) bool {
	for i := 0; i < len(doc); i++ {
		if doc[i] != 'e' && doc[i] != 'E' {
			continue
		}
		j := i + 1
		if j < len(doc) && (doc[j] == '+' || doc[j] == '-') {
			j++
		}
		for j < len(doc) && doc[j] == '0' {
			j++
		}
		k := skipDigits(doc, j)
		if k-j > 4 {
			return true
		}
	}
	return false
}

func FuzzCanonical(f *testing.F) {
	for _, doc := range canonicalSeeds {
		f.Add([]byte(doc))
	}
	f.Add([]byte(benchDocument))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if hugeExponent(doc) {
			t.Skip()
		}
		compareCanonical(t, doc)
	})
}

// benchDocument is a 300-byte record of the usual shape.
const benchDocument = `{"id":"4f1c2a9e-7b3d-4e8a-9c61-2d5e8f0a1b3c","name":"Ada Lovelace","email":"ada@example.com",` +
	`"age":36,"score":98.5,"active":true,"tags":["math","engines","poetry"],` +
	`"address":{"street":"12 St James's Square","city":"London","zip":"SW1Y 4JH"},` +
	`"created":"2026-11-24T23:45:00Z","balance":1234.56,"note":"caf\u00e9","manager":null}`

func BenchmarkCanonical(b *testing.B) {
	doc := []byte(benchDocument)
	for _, impl := range []struct {
		name string
		fn   func([]byte) ([]byte, error)
	}{{"reference", canonicalReference}, {"single-pass", Canonical}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := impl.fn(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSummerAdd(b *testing.B) {
	doc := []byte(benchDocument)
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		var s summerReference
		for b.Loop() {
			if err := s.Add("key-0001", "client", doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("single-pass", func(b *testing.B) {
		b.ReportAllocs()
		var s Summer
		for b.Loop() {
			if err := s.Add("key-0001", "client", doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestCanonicalNumberDoesNotExpandHugeExponents(t *testing.T) {
	cases := map[string]string{
		"1e999999999":                   "1e+999999999",
		"-12.50e+2000":                  "-1.25e+2001",
		"0.000123e-99999999":            "1.23e-100000003",
		"1000e998":                      "1e+1001",
		"1e151":                         "1e+151",
		"1e150":                         "1" + strings.Repeat("0", 150), // at the bound: expanded, exactly
		"1e-200":                        "1e-200",                       // a float64: its shortest form
		"-7" + strings.Repeat("0", 400): "-7e+400",                      // a literal spells like its exponent form
		"12" + strings.Repeat("0", 200): "1.2e+201",
		"12e200":                        "1.2e+201",
	}
	for in, want := range cases {
		done := make(chan string, 1)
		go func() {
			out, err := Canonical([]byte(`{"n":` + in + `}`))
			if err != nil {
				done <- "error: " + err.Error()
				return
			}
			done <- string(out)
		}()
		select {
		case got := <-done:
			if got != `{"n":`+want+`}` {
				t.Errorf("Canonical(%s) = %.80s, want {\"n\":%.60s}", in, got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Canonical(%s) did not finish in 10 s", in)
		}
	}
}
