package rethinkdb

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// Defaults applied by ParseDSN and New when a setting is left empty.
const (
	DefaultPort        = "28015"
	DefaultKeyField    = "id"
	DefaultClientField = "client"
	// The bookkeeping fields are namespaced, so that an application's own
	// "version" or "deleted" field (an optimistic-lock counter, a soft-delete
	// flag) is data like any other and migrates exactly.
	DefaultVersionField = "_switchyard_version"
	DefaultDeletedField = "_switchyard_deleted"
	// DefaultUpdatedField holds the server time of the last write.
	DefaultUpdatedField = "_switchyard_updated_at"
	// DefaultAddedField lists the fields Switchyard added to a document
	// because the written data lacked them (the key and the client).
	DefaultAddedField = "_switchyard_added"
	DefaultPoolSize   = 8
	DefaultChunkSize  = 1000
	DefaultTimeout    = 10 * time.Second
	// DefaultWaitTimeout bounds how long a writer waits for a table or
	// index it created (or found) to become ready.
	DefaultWaitTimeout = 60 * time.Second
	// DefaultSampleSize is how many documents per table a source samples
	// at open for bookkeeping-field collisions.
	DefaultSampleSize = 100
)

// ErrBadDSN matches every error ParseDSN returns.
var ErrBadDSN = errors.New("invalid rethinkdb DSN")

var (
	fieldPattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	databasePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
)

// Config says where records live inside RethinkDB documents.
type Config struct {
	// Database holds the entity tables and the ledger. Required.
	Database string
	// KeyField is the tables' primary key; "" means DefaultKeyField.
	KeyField string
	// ClientField holds the client id; "" means DefaultClientField.
	ClientField string
	// VersionField holds the version Switchyard writes; a document without
	// it counts as version 0. "" means DefaultVersionField.
	VersionField string
	// DeletedField marks tombstones; "" means DefaultDeletedField.
	DeletedField string
	// UpdatedField holds the server time of the last write; "" means
	// DefaultUpdatedField.
	UpdatedField string
	// AddedField lists fields Switchyard added; "" means DefaultAddedField.
	AddedField string
	// ChunkSize is how many documents one scan query fetches; 0 means
	// DefaultChunkSize.
	ChunkSize int
	// WaitTimeout bounds a writer's wait for the tables and the index it
	// needs to become ready; 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
	// Role says how the store is used. A source (stores.RoleSource) writes
	// nothing, not even the database or the ledger, works with read-only
	// credentials, and refuses to open when sampled documents already hold
	// a bookkeeping field that was not named explicitly. "" means
	// stores.RoleTarget, a writer that creates what it needs.
	Role stores.Role

	// named records which bookkeeping fields the operator named explicitly
	// (set by withDefaults before it fills the defaults).
	named     []string
	defaulted bool
}

// bookkeeping lists the fields the store writes into documents for itself.
func (c Config) bookkeeping() []string {
	return []string{c.VersionField, c.DeletedField, c.UpdatedField, c.AddedField}
}

// unnamedBookkeeping lists the bookkeeping fields left at their defaults.
func (c Config) unnamedBookkeeping() []string {
	var out []string
	for _, f := range c.bookkeeping() {
		if !slices.Contains(c.named, f) {
			out = append(out, f)
		}
	}
	return out
}

// withDefaults fills empty settings and validates the field names: each must
// match ^[A-Za-z_][A-Za-z0-9_]{0,63}$ and all must differ.
func (c Config) withDefaults() (Config, error) {
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	if !c.defaulted {
		// ParseDSN and New both call withDefaults: only the first sees
		// which fields were left empty.
		c.defaulted = true
		for _, f := range c.bookkeeping() {
			if f != "" {
				c.named = append(c.named, f)
			}
		}
	}
	set(&c.KeyField, DefaultKeyField)
	set(&c.ClientField, DefaultClientField)
	set(&c.VersionField, DefaultVersionField)
	set(&c.DeletedField, DefaultDeletedField)
	set(&c.UpdatedField, DefaultUpdatedField)
	set(&c.AddedField, DefaultAddedField)
	if c.ChunkSize <= 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.WaitTimeout <= 0 {
		c.WaitTimeout = DefaultWaitTimeout
	}
	switch c.Role {
	case "":
		c.Role = stores.RoleTarget
	case stores.RoleSource, stores.RoleTarget:
	default:
		return c, fmt.Errorf("%w: role %q must be %s or %s", ErrBadDSN, c.Role, stores.RoleSource, stores.RoleTarget)
	}
	if !databasePattern.MatchString(c.Database) {
		return c, fmt.Errorf("%w: database %q must match ^[A-Za-z0-9_]{1,64}$", ErrBadDSN, c.Database)
	}
	seen := map[string]string{}
	for _, f := range []struct{ param, value string }{
		{"key_field", c.KeyField}, {"client_field", c.ClientField}, {"version_field", c.VersionField},
		{"deleted_field", c.DeletedField}, {"updated_field", c.UpdatedField}, {"added_field", c.AddedField},
	} {
		if !fieldPattern.MatchString(f.value) {
			return c, fmt.Errorf("%w: %s=%q must match ^[A-Za-z_][A-Za-z0-9_]{0,63}$", ErrBadDSN, f.param, f.value)
		}
		if other, dup := seen[f.value]; dup {
			return c, fmt.Errorf("%w: %s and %s both name the field %q", ErrBadDSN, other, f.param, f.value)
		}
		seen[f.value] = f.param
	}
	return c, nil
}

// DSN is a parsed rethinkdb:// DSN.
type DSN struct {
	Connect r.ConnectOpts
	Config  Config
}

// ParseDSN parses
//
//	rethinkdb://[user[:password]@]host[:port][,host[:port]...]/database?params
//
// with the parameters tls (true/false), ca (a PEM file of trusted CAs;
// implies tls), pool (connections per host, default 8), timeout (dial
// timeout, default 10s), chunk (scan chunk size, default 1000), wait (how
// long a writer waits for a table it needs to become ready, default 60s),
// role (source or target, default target; stores.Adapters.OpenRole sets it), and
// key_field, client_field, version_field, deleted_field, updated_field,
// added_field. The port defaults to 28015. Errors match ErrBadDSN, name the parameter and
// never contain the password.
func ParseDSN(dsn string) (DSN, error) {
	rest, ok := strings.CutPrefix(dsn, "rethinkdb://")
	if !ok {
		return DSN{}, fmt.Errorf("%w: want rethinkdb://host:port/database", ErrBadDSN)
	}
	rawQuery := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, rawQuery = rest[:i], rest[i+1:]
	}
	authority, database, _ := strings.Cut(rest, "/")
	var out DSN
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		user, pass, hasPass := strings.Cut(authority[:i], ":")
		var err error
		if out.Connect.Username, err = url.PathUnescape(user); err != nil {
			return DSN{}, fmt.Errorf("%w: user name is not URL-encoded", ErrBadDSN)
		}
		if hasPass {
			if out.Connect.Password, err = url.PathUnescape(pass); err != nil {
				return DSN{}, fmt.Errorf("%w: password is not URL-encoded", ErrBadDSN)
			}
		}
		authority = authority[i+1:]
	}
	for _, host := range strings.Split(authority, ",") {
		if host == "" {
			return DSN{}, fmt.Errorf("%w: empty host in %q", ErrBadDSN, authority)
		}
		h, port, err := net.SplitHostPort(host)
		if err != nil {
			h, port = host, DefaultPort
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || h == "" {
			return DSN{}, fmt.Errorf("%w: host %q is not host[:port]", ErrBadDSN, host)
		}
		out.Connect.Addresses = append(out.Connect.Addresses, net.JoinHostPort(h, port))
	}
	var err error
	if out.Config.Database, err = url.PathUnescape(database); err != nil || database == "" {
		return DSN{}, fmt.Errorf("%w: no database (want rethinkdb://host:port/database)", ErrBadDSN)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return DSN{}, fmt.Errorf("%w: query parameters: %v", ErrBadDSN, err)
	}
	pool := DefaultPoolSize
	out.Connect.Timeout = DefaultTimeout
	useTLS := false
	for name, values := range q {
		v := values[len(values)-1]
		switch name {
		case "tls":
			if useTLS, err = strconv.ParseBool(v); err != nil {
				return DSN{}, fmt.Errorf("%w: tls=%q must be true or false", ErrBadDSN, v)
			}
		case "ca":
		case "pool":
			if pool, err = strconv.Atoi(v); err != nil || pool < 1 || pool > 1000 {
				return DSN{}, fmt.Errorf("%w: pool=%q must be an integer from 1 to 1000", ErrBadDSN, v)
			}
		case "timeout":
			if out.Connect.Timeout, err = time.ParseDuration(v); err != nil || out.Connect.Timeout <= 0 {
				return DSN{}, fmt.Errorf("%w: timeout=%q must be a positive duration such as 10s", ErrBadDSN, v)
			}
		case "chunk":
			if out.Config.ChunkSize, err = strconv.Atoi(v); err != nil || out.Config.ChunkSize < 1 || out.Config.ChunkSize > 100000 {
				return DSN{}, fmt.Errorf("%w: chunk=%q must be an integer from 1 to 100000", ErrBadDSN, v)
			}
		case "key_field":
			out.Config.KeyField = v
		case "client_field":
			out.Config.ClientField = v
		case "version_field":
			out.Config.VersionField = v
		case "deleted_field":
			out.Config.DeletedField = v
		case "updated_field":
			out.Config.UpdatedField = v
		case "added_field":
			out.Config.AddedField = v
		case "wait":
			if out.Config.WaitTimeout, err = time.ParseDuration(v); err != nil || out.Config.WaitTimeout <= 0 {
				return DSN{}, fmt.Errorf("%w: wait=%q must be a positive duration such as 60s", ErrBadDSN, v)
			}
		case "role":
			out.Config.Role = stores.Role(v)
		default:
			return DSN{}, fmt.Errorf("%w: unknown parameter %q", ErrBadDSN, name)
		}
	}
	if out.Config, err = out.Config.withDefaults(); err != nil {
		return DSN{}, err
	}
	if ca := q.Get("ca"); ca != "" || useTLS {
		host, _, _ := net.SplitHostPort(out.Connect.Addresses[0])
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
		if ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return DSN{}, fmt.Errorf("%w: ca: %v", ErrBadDSN, err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return DSN{}, fmt.Errorf("%w: ca=%q holds no PEM certificate", ErrBadDSN, ca)
			}
		}
		out.Connect.TLSConfig = cfg
	}
	// The driver opens a single connection unless told otherwise.
	out.Connect.InitialCap = min(pool, 2)
	out.Connect.MaxOpen = pool
	out.Connect.Database = out.Config.Database
	out.Connect.UseJSONNumber = true
	return out, nil
}
