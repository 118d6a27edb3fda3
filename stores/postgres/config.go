package postgres

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// parseDSN splits the adapter's own "schema" parameter off a DSN and
// parses the rest as a pgxpool configuration. Other query parameters pgx
// does not know (search_path, application_name, ...) become run-time
// parameters of every connection.
func parseDSN(dsn string) (*pgxpool.Config, string, error) {
	scheme := strings.ToLower(dsn[:strings.IndexByte(dsn, ':')+1])
	if scheme != "postgres:" && scheme != "postgresql:" {
		return nil, "", fmt.Errorf("postgres DSN must start with postgres:// or postgresql://")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("postgres DSN: %w", err)
	}
	q := u.Query()
	schema := q.Get("schema")
	if q.Has("schema") && schema == "" {
		return nil, "", fmt.Errorf("postgres DSN: schema parameter is empty")
	}
	q.Del("schema")
	u.RawQuery = q.Encode()
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, "", fmt.Errorf("postgres DSN: %w", err)
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "switchyard"
	}
	return cfg, schema, nil
}
