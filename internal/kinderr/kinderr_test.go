package kinderr

import (
	"errors"
	"io"
	"testing"
)

var errKind = errors.New("kind")

func TestErrorMatchesItsKindAndWrapsItsCause(t *testing.T) {
	err := Errorf(errKind, io.EOF, "--flag %d is out of range", 3)
	if err.Error() != "--flag 3 is out of range" {
		t.Fatalf("message %q, want no sentinel text in it", err)
	}
	if !errors.Is(err, errKind) || !errors.Is(err, io.EOF) {
		t.Fatalf("%v does not match its kind and its cause", err)
	}
	plain := New(errKind, "no cause")
	if !errors.Is(plain, errKind) || errors.Is(plain, io.EOF) || errors.Unwrap(plain) != nil {
		t.Fatalf("%v: want its kind only", plain)
	}
	if errors.Is(New(io.EOF, "other"), errKind) {
		t.Fatal("an error of another kind matches errKind")
	}
}
