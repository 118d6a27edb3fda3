package reads

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/textlimit"
)

// ErrUnauthenticated: a read API request carries no credentials the
// access policy knows (401).
var ErrUnauthenticated = errors.New("not authenticated")

// AllClients in a caller's clients grants reads of every client.
const AllClients = "*"

// minTokenBytes is the shortest plain token an access file may hold.
const minTokenBytes = 24

// AccessPolicy authenticates read API requests. ReadAccess and
// ReadAccessFile implement it.
type AccessPolicy interface {
	// Authenticate returns the caller a request comes from, or an error
	// matching ErrUnauthenticated.
	Authenticate(r *http.Request) (*Caller, error)
}

// Caller is an authenticated client of the read API and what it may do.
type Caller struct {
	// Name identifies the caller in logs.
	Name string
	// Admin grants the admin routes (/v1/_mismatches).
	Admin   bool
	all     bool
	clients map[string]struct{}
}

// MayRead reports whether the caller may read client's records.
func (c *Caller) MayRead(client string) bool {
	if c.all {
		return true
	}
	_, ok := c.clients[client]
	return ok
}

// accessFile is the JSON form of an access policy.
type accessFile struct {
	Callers []callerEntry `json:"callers"`
}

// callerEntry is one caller of an access file: a name, exactly one
// credential (token, token_sha256 or cert) and its scope.
type callerEntry struct {
	Name string `json:"name"`
	// Token is a bearer token in clear; TokenSHA256 the hex SHA-256 of one,
	// so the file need not hold the token itself.
	Token       string `json:"token,omitempty"`
	TokenSHA256 string `json:"token_sha256,omitempty"`
	// Cert is a name of the caller's TLS client certificate: its subject
	// common name, a DNS, URI or e-mail subject alternative name.
	Cert string `json:"cert,omitempty"`
	// Clients the caller may read; "*" is every client.
	Clients []string `json:"clients"`
	Admin   bool     `json:"admin,omitempty"`
}

// ReadAccess is an immutable access policy: bearer tokens (kept only as
// SHA-256 hashes) and client certificate names, each mapped to a caller.
type ReadAccess struct {
	tokens []tokenCaller
	certs  map[string]*Caller
}

type tokenCaller struct {
	hash   [sha256.Size]byte
	caller *Caller
}

// ParseReadAccess parses an access file:
//
//	{"callers": [
//	  {"name": "billing", "token_sha256": "<hex>", "clients": ["acme", "initech"]},
//	  {"name": "support", "token": "<at least 24 bytes>", "clients": ["*"], "admin": true},
//	  {"name": "orders", "cert": "orders.prod.svc", "clients": ["*"]}
//	]}
//
// Every caller needs a unique name, exactly one credential, and at least
// one client unless it is admin. Unknown fields are refused, so a typo
// cannot silently widen or narrow a scope. Errors are *InvalidError naming
// the caller and field.
func ParseReadAccess(data []byte) (*ReadAccess, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f accessFile
	if err := dec.Decode(&f); err != nil {
		return nil, invalid("access file", "is not valid JSON of the form {\"callers\": [...]}: %v", err)
	}
	if dec.More() {
		return nil, invalid("access file", "holds more than one JSON value")
	}
	if len(f.Callers) == 0 {
		return nil, invalid("callers", "is empty: nobody could read")
	}
	a := &ReadAccess{certs: map[string]*Caller{}}
	names := map[string]bool{}
	for i, e := range f.Callers {
		c, err := a.add(e, names)
		if err != nil {
			var ie *flags.InvalidError
			if errors.As(err, &ie) {
				ie.Field = fmt.Sprintf("callers[%d] (%s).%s", i, truncate(e.Name, 64), ie.Field)
			}
			return nil, err
		}
		names[c.Name] = true
	}
	return a, nil
}

func (a *ReadAccess) add(e callerEntry, names map[string]bool) (*Caller, error) {
	if !textlimit.IsName(e.Name) {
		return nil, invalid("name", "%q must be 1 to 64 letters, digits, '-' or '_'", truncate(e.Name, 64))
	}
	if names[e.Name] {
		return nil, invalid("name", "is used by another caller")
	}
	c := &Caller{Name: e.Name, Admin: e.Admin, clients: map[string]struct{}{}}
	for _, cl := range e.Clients {
		if cl == AllClients {
			c.all = true
			continue
		}
		if err := flags.ValidateClient(cl); err != nil {
			return nil, err
		}
		c.clients[cl] = struct{}{}
	}
	if !c.all && len(c.clients) == 0 && !c.Admin {
		return nil, invalid("clients", "is empty: list the clients it may read, or \"*\" for all")
	}
	creds := 0
	for _, s := range []string{e.Token, e.TokenSHA256, e.Cert} {
		if s != "" {
			creds++
		}
	}
	if creds != 1 {
		return nil, invalid("credential", "give exactly one of token, token_sha256 or cert")
	}
	switch {
	case e.Token != "":
		if len(e.Token) < minTokenBytes {
			return nil, invalid("token", "is %d bytes; use at least %d random bytes", len(e.Token), minTokenBytes)
		}
		return c, a.addToken(sha256.Sum256([]byte(e.Token)), c)
	case e.TokenSHA256 != "":
		b, err := hex.DecodeString(e.TokenSHA256)
		if err != nil || len(b) != sha256.Size {
			return nil, invalid("token_sha256", "is not 64 hex digits")
		}
		return c, a.addToken([sha256.Size]byte(b), c)
	}
	if _, dup := a.certs[e.Cert]; dup {
		return nil, invalid("cert", "%q is given to another caller", truncate(e.Cert, 64))
	}
	a.certs[e.Cert] = c
	return c, nil
}

func (a *ReadAccess) addToken(h [sha256.Size]byte, c *Caller) error {
	for _, t := range a.tokens {
		if t.hash == h {
			return invalid("token", "is given to caller %s as well", t.caller.Name)
		}
	}
	a.tokens = append(a.tokens, tokenCaller{hash: h, caller: c})
	return nil
}

// UsesCerts reports whether any caller authenticates with a client
// certificate.
func (a *ReadAccess) UsesCerts() bool { return len(a.certs) > 0 }

// Authenticate implements AccessPolicy. A bearer token in the
// Authorization header is compared, as a SHA-256 hash, with every known
// token in constant time; without one, a verified TLS client certificate
// is matched by its common name and subject alternative names.
func (a *ReadAccess) Authenticate(r *http.Request) (*Caller, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return nil, fmt.Errorf("%w: the Authorization header must be \"Bearer <token>\"", ErrUnauthenticated)
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		var found *Caller
		for _, t := range a.tokens {
			// Every hash is compared, so the time taken tells nothing.
			if subtle.ConstantTimeCompare(sum[:], t.hash[:]) == 1 {
				found = t.caller
			}
		}
		if found == nil {
			return nil, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
		}
		return found, nil
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		leaf := r.TLS.VerifiedChains[0][0]
		names := append([]string{leaf.Subject.CommonName}, leaf.DNSNames...)
		names = append(names, leaf.EmailAddresses...)
		for _, u := range leaf.URIs {
			names = append(names, u.String())
		}
		for _, n := range names {
			if c, ok := a.certs[n]; ok && n != "" {
				return c, nil
			}
		}
		return nil, fmt.Errorf("%w: client certificate %q is not a known caller", ErrUnauthenticated, truncate(leaf.Subject.CommonName, 64))
	}
	return nil, fmt.Errorf("%w: send \"Authorization: Bearer <token>\" or a client certificate", ErrUnauthenticated)
}

// ReadAccessFile is an access policy read from a file, such as a mounted
// Kubernetes secret, that Reload reads again when its content changed.
type ReadAccessFile struct {
	path    string
	current atomic.Pointer[ReadAccess]
	mu      sync.Mutex // serializes Reload
	last    [sha256.Size]byte
}

// LoadReadAccess reads and parses the access file at path.
func LoadReadAccess(path string) (*ReadAccessFile, error) {
	f := &ReadAccessFile{path: path}
	if _, err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Reload reads the file again and, when its content changed and parses,
// serves the new policy; changed reports that. On error the previous
// policy stays in force.
func (f *ReadAccessFile) Reload() (changed bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false, fmt.Errorf("access file: %w", err)
	}
	sum := sha256.Sum256(data)
	if f.current.Load() != nil && sum == f.last {
		return false, nil
	}
	a, err := ParseReadAccess(data)
	if err != nil {
		return false, fmt.Errorf("access file %s: %w", f.path, err)
	}
	f.current.Store(a)
	f.last = sum
	return true, nil
}

// Policy returns the policy in force.
func (f *ReadAccessFile) Policy() *ReadAccess { return f.current.Load() }

// Authenticate implements AccessPolicy with the policy in force.
func (f *ReadAccessFile) Authenticate(r *http.Request) (*Caller, error) {
	return f.current.Load().Authenticate(r)
}
