package textlimit

import "testing"

func TestTruncateCutsOnARuneBoundary(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"short", 10, "short"}, {"abcdef", 3, "abc…"}, {"ééé", 3, "é…"}} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestIsName(t *testing.T) {
	for s, want := range map[string]bool{"router-1_a": true, "": false, "a.b": false, "é": false, string(make([]byte, 65)): false} {
		if got := IsName(s); got != want {
			t.Errorf("IsName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"one line":                  "one line",
		"  driver:\n\tdeadlock\r\n": "driver: deadlock",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
