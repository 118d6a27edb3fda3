package cli

import (
	"strings"
	"testing"
)

// TestRedactURL: NATS URLs never print their user information, whatever
// characters the password holds, and a value that does not parse prints
// as its scheme and <unparseable>.
func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"nats://127.0.0.1:4222":                   "nats://127.0.0.1:4222",
		"nats://app:S3cret@h:4222":                "nats://xxxxx@h:4222",
		"nats://app:S3cret/x@h:4222":              "nats://xxxxx@h:4222",
		"nats://app:S3#cret@h:4222,nats://g:4222": "nats://xxxxx@h:4222,nats://g:4222",
		"nats://app:S3?cret@h:4222":               "nats://xxxxx@h:4222",
		"nats://app:S3%zzcret@h:4222":             "nats://xxxxx@h:4222",
		"nats://S3cretToken@h:4222":               "nats://xxxxx@h:4222",
		"nats://app:S3cret@h:bad":                 "nats://<unparseable>",
		"app:S3cret@h":                            "app:<unparseable>",
	}
	for in, want := range cases {
		got := RedactURL(in)
		if got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "S3") {
			t.Errorf("RedactURL(%q) = %q shows the secret", in, got)
		}
	}
}
