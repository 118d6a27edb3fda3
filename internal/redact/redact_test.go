package redact

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
	cases := map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=disable":    "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"sqlserver://sa:pw@h:1433?database=x":              "sqlserver://sa:xxxxx@h:1433?database=x",
		"postgres://h/db?password=secret&x=1":              "postgres://h/db?password=xxxxx&x=1",
		"sqlite:/tmp/a.db":                                 "sqlite:/tmp/a.db",
		"sqlite:/tmp/a.db?_pragma=busy_timeout(5000)":      "sqlite:/tmp/a.db?_pragma=busy_timeout(5000)",
		"postgres://u:${env:PGPASSWORD}@h/db":              "postgres://u:xxxxx@h/db",
		"postgres://u:S3cret/x@h/db":                       "postgres://u:xxxxx@h/db",
		"postgres://u:S3c#ret@h/db":                        "postgres://u:xxxxx@h/db",
		"postgres://u:S3c?ret@h/db":                        "postgres://u:xxxxx@h/db",
		"postgres://u:S3c%zzret@h/db":                      "postgres://u:xxxxx@h/db",
		"postgres://u:p@ss@h/db":                           "postgres://u:xxxxx@h/db",
		"postgres://u:pw@h/db?x=%zz":                       "postgres://u:xxxxx@h/db?x=%zz",
		"postgres://u:pw@h:port/db":                        "postgres://" + Unparseable,
		"postgres://h/db?password=a&b":                     "postgres://" + Unparseable,
		"host=db password=S3cret user=app":                 "host=db password=xxxxx user=app",
		"host=db password='S3 c\\'ret' dbname=x":           "host=db password=xxxxx dbname=x",
		"server=db;user id=sa;password=S3cret;database=x":  "server=db;user id=sa;password=xxxxx;database=x",
		"server=db;user id=sa;Password={S3;c}}ret};app=x":  "server=db;user id=sa;Password=xxxxx;app=x",
		"server=db;user id=sa;password=S3;cret;database=x": Unparseable,
		"host=db password='unterminated":                   Unparseable,
		"mystery text":                                     Unparseable,
		"weird+scheme:opaque#frag":                         "weird+scheme:opaque",
	}
	for in, want := range cases {
		if got := DSN(in); got != want {
			t.Errorf("DSN(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactURL: NATS URLs hide the whole user information, since NATS
// takes a token as the user name.
func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"nats://127.0.0.1:4222":                         "nats://127.0.0.1:4222",
		"nats://tok3n@h:4222":                           "nats://xxxxx@h:4222",
		"nats://u:S3cret@h:4222,nats://u:S3cret@g:4222": "nats://xxxxx@h:4222,nats://xxxxx@g:4222",
		"nats://u:S3cret/x@h:4222":                      "nats://xxxxx@h:4222",
		"tls://u:S3#cret@h":                             "tls://xxxxx@h",
		"nats://u:pw@h:bad":                             "nats://" + Unparseable,
		"h:4222":                                        "h:4222",
		"u:S3cret@h":                                    "u:" + Unparseable,
	}
	for in, want := range cases {
		if got := URLs(in); got != want {
			t.Errorf("URLs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWrapScrubsParserErrors(t *testing.T) {
	dsn := "postgres://u:S3cret/x@h/db"
	_, perr := url.Parse(dsn)
	if perr == nil || !strings.Contains(perr.Error(), "S3cret") {
		t.Fatalf("the parser error should quote the password for this test to mean anything: %v", perr)
	}
	err := WrapDSN(perr, "store", dsn)
	if strings.Contains(err.Error(), "S3cret") {
		t.Errorf("wrapped error shows the password: %v", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("the wrapped error lost its chain: %v", err)
	}
	nerr := WrapURLs(errors.New(`parse "nats://tok3nvalue@h": bad`), "NATS at", "nats://tok3nvalue@h")
	if strings.Contains(nerr.Error(), "tok3nvalue") {
		t.Errorf("wrapped NATS error shows the token: %v", nerr)
	}
}
