package mssql

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/events"
)

// Defaults applied by ParseDSN and New when a setting is left at zero.
const (
	// DefaultSchema is the schema tables are created in.
	DefaultSchema = "dbo"
	// DefaultPoolSize caps the open connections of one store.
	DefaultPoolSize = 8
	// DefaultDeadlockRetries is how many times Apply re-runs a batch that
	// SQL Server chose as a deadlock victim before giving up.
	DefaultDeadlockRetries = 3
)

// ErrBadDSN matches every error ParseDSN returns.
var ErrBadDSN = errors.New("invalid sqlserver DSN")

// Config is what a store needs beyond the driver's connection string.
type Config struct {
	// Schema holds the entity tables and the ledger; "" means DefaultSchema.
	Schema string
	// Projections lists the computed columns to add, per entity.
	Projections map[string][]Projection
	// DeadlockRetries bounds the re-runs of a deadlocked batch; 0 means
	// DefaultDeadlockRetries, a negative value disables retries.
	DeadlockRetries int
}

func (c Config) schema() string {
	if c.Schema == "" {
		return DefaultSchema
	}
	return c.Schema
}

func (c Config) deadlockRetries() int {
	switch {
	case c.DeadlockRetries < 0:
		return 0
	case c.DeadlockRetries == 0:
		return DefaultDeadlockRetries
	}
	return c.DeadlockRetries
}

// Projection is one JSON field of an entity's documents exposed as a
// persisted computed column, so SQL users can filter and join on it.
type Projection struct {
	// Path is the field's path inside the document, as dot-separated names.
	Path []string
	// Column is the column name: the path joined with "_".
	Column string
	// Type is the column's SQL type, for example NVARCHAR(200) or BIGINT.
	Type string
	// Index asks for a nonclustered index on the column.
	Index bool
}

// expression is the computed column's definition. Character types use CAST,
// which truncates over-long values; other types use TRY_CONVERT so a value
// of the wrong type yields NULL instead of failing the write.
func (p Projection) expression() string {
	path := "N'$." + strings.Join(p.Path, ".") + "'"
	value := "JSON_VALUE([data], " + path + ")"
	if strings.HasPrefix(p.Type, "NVARCHAR") {
		return "CAST(" + value + " AS " + p.Type + ")"
	}
	return "TRY_CONVERT(" + p.Type + ", " + value + ")"
}

// reservedColumns are the columns every entity table has.
var reservedColumns = map[string]bool{"key": true, "client": true, "version": true, "deleted": true, "data": true, "updated_at": true}

var (
	fieldPattern   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	nvarcharType   = regexp.MustCompile(`^nvarchar\((\d{1,4})\)$`)
	decimalType    = regexp.MustCompile(`^decimal\((\d{1,2}),(\d{1,2})\)$`)
	plainTypes     = map[string]string{"int": "INT", "bigint": "BIGINT", "bit": "BIT", "float": "FLOAT"}
	maxIndexedChar = 850 // 1,700 bytes: the nonclustered index key limit
)

// maxColumnLength bounds projected column names so that the index name
// ix_<entity>_<column> stays within SQL Server's 128 characters.
const maxColumnLength = 60

// ParseProjection parses "entity.field[.field...]:type[:index]", for
// example "task.title:nvarchar(200):index" or "task.owner.id:bigint". Types
// are nvarchar(1..4000), int, bigint, bit, float and decimal(p,s).
func ParseProjection(spec string) (entity string, p Projection, err error) {
	fail := func(format string, args ...any) (string, Projection, error) {
		return "", Projection{}, fmt.Errorf("%w: project=%q: %s", ErrBadDSN, spec, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return fail("want entity.field:type or entity.field:type:index")
	}
	if len(parts) == 3 {
		if parts[2] != "index" {
			return fail("the third part must be \"index\", got %q", parts[2])
		}
		p.Index = true
	}
	path := strings.Split(parts[0], ".")
	if len(path) < 2 {
		return fail("the field must be named as entity.field")
	}
	entity, p.Path = path[0], path[1:]
	if !events.ValidEntity(entity) {
		return fail("entity %q does not match ^[a-z][a-z0-9_]{0,62}$", entity)
	}
	for _, f := range p.Path {
		if !fieldPattern.MatchString(f) {
			return fail("field name %q must match ^[A-Za-z_][A-Za-z0-9_]*$", f)
		}
	}
	p.Column = strings.Join(p.Path, "_")
	if len(p.Column) > maxColumnLength || reservedColumns[strings.ToLower(p.Column)] {
		return fail("column name %q is reserved or longer than %d characters", p.Column, maxColumnLength)
	}
	typ := strings.ToLower(strings.ReplaceAll(parts[1], " ", ""))
	switch {
	case nvarcharType.MatchString(typ):
		n, _ := strconv.Atoi(nvarcharType.FindStringSubmatch(typ)[1])
		if n < 1 || n > 4000 {
			return fail("nvarchar length must be 1 to 4000, got %d", n)
		}
		if p.Index && n > maxIndexedChar {
			return fail("an indexed nvarchar column may be at most %d characters (the 1,700-byte index key limit), got %d", maxIndexedChar, n)
		}
		p.Type = fmt.Sprintf("NVARCHAR(%d)", n)
	case decimalType.MatchString(typ):
		m := decimalType.FindStringSubmatch(typ)
		prec, _ := strconv.Atoi(m[1])
		scale, _ := strconv.Atoi(m[2])
		if prec < 1 || prec > 38 || scale > prec {
			return fail("decimal(p,s) needs 1 <= p <= 38 and 0 <= s <= p, got decimal(%d,%d)", prec, scale)
		}
		p.Type = fmt.Sprintf("DECIMAL(%d,%d)", prec, scale)
	case plainTypes[typ] != "":
		p.Type = plainTypes[typ]
	default:
		return fail("type %q is not one of nvarchar(n), int, bigint, bit, float, decimal(p,s)", parts[1])
	}
	return entity, p, nil
}

// Options are the DSN parameters this package reads; the driver never sees
// them.
const (
	paramSchema          = "schema"
	paramProject         = "project"
	paramPool            = "pool"
	paramDeadlockRetries = "deadlock_retries"
	paramFedAuth         = "fedauth"
)

// DSN is a parsed sqlserver:// DSN.
type DSN struct {
	// Driver is the connection string for go-mssqldb, without the
	// parameters this package consumed.
	Driver string
	// DriverName is "sqlserver", or the azuread driver's name when the DSN
	// asks for Azure AD authentication (fedauth=...).
	DriverName string
	// PoolSize caps open connections; DefaultPoolSize unless pool= is set.
	PoolSize int
	// Config holds the schema, projections and retry bound.
	Config Config
}

// ParseDSN splits a sqlserver:// DSN into the driver's connection string and
// this package's settings: schema (default dbo), project (repeatable or
// comma-separated, see ParseProjection), pool (default 8) and
// deadlock_retries (default 3). fedauth selects the Azure AD driver. Errors
// match ErrBadDSN, name the parameter, and never contain the password.
func ParseDSN(dsn string) (DSN, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return DSN{}, fmt.Errorf("%w: not a URL", ErrBadDSN)
	}
	if u.Scheme != "sqlserver" {
		return DSN{}, fmt.Errorf("%w: scheme %q, want sqlserver", ErrBadDSN, u.Scheme)
	}
	if u.Host == "" {
		return DSN{}, fmt.Errorf("%w: no host", ErrBadDSN)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return DSN{}, fmt.Errorf("%w: query parameters: %v", ErrBadDSN, err)
	}
	out := DSN{DriverName: "sqlserver", PoolSize: DefaultPoolSize}
	out.Config.Schema = DefaultSchema
	if s := q.Get(paramSchema); s != "" {
		if !validIdentifier(s) {
			return DSN{}, fmt.Errorf("%w: schema=%q must match ^[A-Za-z_][A-Za-z0-9_]{0,127}$", ErrBadDSN, s)
		}
		out.Config.Schema = s
	}
	for _, list := range q[paramProject] {
		for _, spec := range strings.Split(list, ",") {
			if spec = strings.TrimSpace(spec); spec == "" {
				continue
			}
			entity, p, err := ParseProjection(spec)
			if err != nil {
				return DSN{}, err
			}
			if out.Config.Projections == nil {
				out.Config.Projections = map[string][]Projection{}
			}
			for _, have := range out.Config.Projections[entity] {
				if strings.EqualFold(have.Column, p.Column) {
					return DSN{}, fmt.Errorf("%w: project: column %q of entity %q is projected twice", ErrBadDSN, p.Column, entity)
				}
			}
			out.Config.Projections[entity] = append(out.Config.Projections[entity], p)
		}
	}
	for entity := range out.Config.Projections {
		ps := out.Config.Projections[entity]
		sort.Slice(ps, func(a, b int) bool { return ps[a].Column < ps[b].Column })
	}
	if s := q.Get(paramPool); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return DSN{}, fmt.Errorf("%w: pool=%q must be an integer from 1 to 1000", ErrBadDSN, s)
		}
		out.PoolSize = n
	}
	if s := q.Get(paramDeadlockRetries); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100 {
			return DSN{}, fmt.Errorf("%w: deadlock_retries=%q must be an integer from 0 to 100", ErrBadDSN, s)
		}
		out.Config.DeadlockRetries = n
		if n == 0 {
			out.Config.DeadlockRetries = -1
		}
	}
	if q.Get(paramFedAuth) != "" {
		out.DriverName = azureDriverName
	}
	for _, name := range []string{paramSchema, paramProject, paramPool, paramDeadlockRetries} {
		q.Del(name)
	}
	u.RawQuery = q.Encode()
	out.Driver = u.String()
	return out, nil
}
