package testenv

import (
	"bytes"
	"sync"
)

// Buffer collects output written by another goroutine or a subprocess, so a
// test can read it while the writer runs (a bytes.Buffer is not safe for
// that).
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
