package redact

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// FuzzRedactNeverShowsThePassword embeds a password in every DSN and NATS
// URL form and checks that neither the redacted value nor a scrubbed parser
// error shows it. (cmd/switchyard's FuzzSecretsNeverPrint does the same
// through the commands.)
func FuzzRedactNeverShowsThePassword(f *testing.F) {
	for _, s := range []string{"S3cret/with#every?char", ":/?#[]@!$&'()*+,;=% \"{}\\", "bad%zzescape%", "p@ss:w,rd;}'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, secret string) {
		if secret == "" || strings.ContainsFunc(secret, unicode.IsControl) {
			return
		}
		pw := "Zq9" + secret + "Xw7"
		forms := []string{
			"postgres://app:" + pw + "@db:5432/app?sslmode=disable",
			"sqlserver://sa:" + pw + "@db:1433?database=x",
			"postgres://app@db/app?password=" + url.QueryEscape(pw) + "&sslmode=disable",
			"host=db user=app password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'",
			"server=db;user id=sa;password={" + strings.ReplaceAll(pw, "}", "}}") + "};database=x",
		}
		for _, v := range forms {
			if out := DSN(v); strings.Contains(out, pw) {
				t.Errorf("DSN(%q) = %q shows the password", v, out)
			}
			_, perr := url.Parse(v)
			if perr == nil {
				perr = errors.New("driver: cannot connect to " + v)
			}
			if msg := WrapDSN(perr, "store", v).Error(); strings.Contains(msg, pw) {
				t.Errorf("WrapDSN error %q shows the password", msg)
			}
		}
		for _, v := range []string{"nats://app:" + pw + "@h:4222", "nats://" + pw + "@h:4222", "nats://h:1,nats://app:" + pw + "@h:2"} {
			if out := URLs(v); strings.Contains(out, pw) {
				t.Errorf("URLs(%q) = %q shows the password", v, out)
			}
			_, perr := url.Parse(v)
			if perr == nil {
				perr = errors.New("nats: no servers available: " + v)
			}
			if msg := WrapURLs(perr, "NATS at", v).Error(); strings.Contains(msg, pw) {
				t.Errorf("WrapURLs error %q shows the password", msg)
			}
		}
	})
}
