package console

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password rules.
const (
	// DefaultBcryptCost is the cost HashPassword uses when given 0.
	DefaultBcryptCost = 12
	// MinBcryptCost is the lowest cost HashPassword makes and the users
	// file may hold: cheaper hashes are refused, since they make offline
	// guessing cheap and let a login's timing tell users apart.
	MinBcryptCost = 10
	// MaxBcryptCost is bcrypt's highest cost.
	MaxBcryptCost = bcrypt.MaxCost
	// MinPasswordLength is the fewest characters HashPassword accepts.
	MinPasswordLength = 12
	// MaxPasswordBytes is bcrypt's limit; longer passwords are refused
	// rather than silently truncated.
	MaxPasswordBytes = 72
)

// HashPassword returns the bcrypt hash of password for a users file. cost
// 0 means DefaultBcryptCost. It fails with ErrWeakPassword when the password
// is shorter than MinPasswordLength characters, longer than
// MaxPasswordBytes bytes, or not valid UTF-8.
func HashPassword(password string, cost int) (string, error) {
	if !utf8.ValidString(password) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrWeakPassword)
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return "", fmt.Errorf("%w: %d characters, at least %d needed", ErrWeakPassword, n, MinPasswordLength)
	}
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("%w: %d bytes, at most %d allowed", ErrWeakPassword, len(password), MaxPasswordBytes)
	}
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	if cost < MinBcryptCost || cost > MaxBcryptCost {
		return "", fmt.Errorf("%w: bcrypt cost %d is outside %d..%d", ErrWeakHash, cost, MinBcryptCost, MaxBcryptCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// maxPasswordLine bounds what HashPasswordFrom reads: a line longer than
// this is cut and then refused as longer than MaxPasswordBytes.
const maxPasswordLine = 4096

// HashPasswordFrom hashes the password on the first line of r (without its
// line ending) as HashPassword does. It checks cost before reading, failing
// with ErrWeakHash, and fails with ErrNoPassword when the line is empty.
func HashPasswordFrom(r io.Reader, cost int) (string, error) {
	if cost < MinBcryptCost || cost > MaxBcryptCost {
		return "", fmt.Errorf("%w: bcrypt cost %d is outside %d..%d", ErrWeakHash, cost, MinBcryptCost, MaxBcryptCost)
	}
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordLine)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", ErrNoPassword
	}
	return HashPassword(password, cost)
}

// checkHash validates a stored hash and returns its cost. A hash cheaper
// than MinBcryptCost is refused rather than loaded with a warning: it would
// be the weakest account and the one a login's timing reveals.
func checkHash(hash string) (int, error) {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return 0, fmt.Errorf("password_hash is not a bcrypt hash (make one with switchyard console hash-password): %v", err)
	}
	if cost < MinBcryptCost {
		return 0, fmt.Errorf("password_hash has bcrypt cost %d, below the minimum of %d (make a new one with switchyard console hash-password)", cost, MinBcryptCost)
	}
	return cost, nil
}

// passwordMatches compares password with a bcrypt hash in constant time.
func passwordMatches(hash, password string) bool {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	return err == nil
}

// dummyHashFor returns a hash of a constant with the given cost. It is
// compared against for unknown users so that a login attempt takes as long
// whether or not the user exists.
func dummyHashFor(cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte("switchyard-console-no-such-user"), cost)
	if err != nil {
		return "", fmt.Errorf("dummy password hash: %w", err)
	}
	return string(h), nil
}
