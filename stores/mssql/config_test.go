package mssql

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	d, err := ParseDSN("sqlserver://sa:s3cret@db:1433?database=app&schema=mig&project=task.title:nvarchar(200):index,task.owner.id:bigint&project=note.pinned:bit&pool=4&deadlock_retries=5&encrypt=true")
	if err != nil {
		t.Fatal(err)
	}
	if d.DriverName != "sqlserver" || d.PoolSize != 4 || d.Config.Schema != "mig" || d.Config.DeadlockRetries != 5 {
		t.Fatalf("parsed %+v", d)
	}
	if d.Driver != "sqlserver://sa:s3cret@db:1433?database=app&encrypt=true" {
		t.Fatalf("driver DSN = %q", d.Driver)
	}
	task := d.Config.Projections["task"]
	if len(task) != 2 || task[0].Column != "owner_id" || task[0].Type != "BIGINT" || task[1].Column != "title" || task[1].Type != "NVARCHAR(200)" || !task[1].Index {
		t.Fatalf("task projections = %+v", task)
	}
	if p := d.Config.Projections["note"]; len(p) != 1 || p[0].Type != "BIT" || p[0].Index {
		t.Fatalf("note projections = %+v", p)
	}

	d, err = ParseDSN("sqlserver://db.example.net?database=app&fedauth=ActiveDirectoryDefault")
	if err != nil || d.DriverName != azureDriverName || d.Config.Schema != DefaultSchema || d.PoolSize != DefaultPoolSize {
		t.Fatalf("fedauth DSN = %+v, %v", d, err)
	}
	if d, err = ParseDSN("sqlserver://h?deadlock_retries=0"); err != nil || d.Config.deadlockRetries() != 0 {
		t.Fatalf("deadlock_retries=0 = %+v, %v", d, err)
	}
}

func TestParseDSNErrorsNameTheProblem(t *testing.T) {
	cases := map[string]string{
		"postgres://h/db":                                        "scheme",
		"sqlserver://?database=x":                                "no host",
		"sqlserver://sa:pw@h?schema=dbo;drop":                    "semicolon",
		"sqlserver://sa:pw@h?project=task.title":                 "entity.field:type",
		"sqlserver://sa:pw@h?project=task.title:text":            `type "text"`,
		"sqlserver://sa:pw@h?project=task.title:int:uniq":        "third part",
		"sqlserver://sa:pw@h?project=Task.title:int":             "entity",
		"sqlserver://sa:pw@h?project=task.ti-tle:int":            "field name",
		"sqlserver://sa:pw@h?project=task.version:int":           "reserved",
		"sqlserver://sa:pw@h?project=task.t:nvarchar(900):index": "at most 850",
		"sqlserver://sa:pw@h?project=task.t:nvarchar(0)":         "1 to 4000",
		"sqlserver://sa:pw@h?project=task.t:decimal(4,5)":        "decimal",
		"sqlserver://sa:pw@h?project=task.t:int,task.t:bigint":   "projected twice",
		"sqlserver://sa:pw@h?pool=0":                             "pool=",
		"sqlserver://sa:pw@h?deadlock_retries=x":                 "deadlock_retries=",
	}
	for dsn, want := range cases {
		_, err := ParseDSN(dsn)
		if !errors.Is(err, ErrBadDSN) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDSN(%q) = %v, want ErrBadDSN mentioning %q", dsn, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("ParseDSN(%q) leaks the password: %v", dsn, err)
		}
	}
}

func TestProjectionExpression(t *testing.T) {
	_, p, err := ParseProjection("task.price:decimal(10,2)")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.expression(); got != "TRY_CONVERT(DECIMAL(10,2), JSON_VALUE([data], N'$.price'))" {
		t.Fatalf("expression = %s", got)
	}
}
