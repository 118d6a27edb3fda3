package reads_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/reads"
)

// testCA issues client certificates for the mutual TLS test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) client(t *testing.T, cn string, dns ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// A caller named by its client certificate reads its clients; a
// certificate no caller names is not a caller.
func TestReadAPIClientCertificates(t *testing.T) {
	env := newRouterEnv(t)
	put(t, env.legacy, "acme", "a1", `{"n":1}`, 1)
	r := env.router(t, reads.RouterConfig{})
	access, err := reads.ParseReadAccess([]byte(`{"callers": [{"name": "orders", "cert": "orders.prod.svc", "clients": ["acme"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !access.UsesCerts() {
		t.Fatal("UsesCerts is false for a cert caller")
	}
	h, err := reads.NewReadAPI(reads.ReadAPIConfig{Router: r, Access: access})
	if err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	get := func(path string, certs ...tls.Certificate) int {
		t.Helper()
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = certs
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	orders := ca.client(t, "orders", "orders.prod.svc")
	for _, tc := range []struct {
		name  string
		path  string
		certs []tls.Certificate
		want  int
	}{
		{"named by a DNS name", "/v1/orders/a1?client=acme", []tls.Certificate{orders}, 200},
		{"named by the common name", "/v1/orders/a1?client=acme", []tls.Certificate{ca.client(t, "orders.prod.svc")}, 200},
		{"another client", "/v1/orders/a1?client=initech", []tls.Certificate{orders}, 403},
		{"admin route", "/v1/_mismatches", []tls.Certificate{orders}, 403},
		{"unknown name", "/v1/orders/a1?client=acme", []tls.Certificate{ca.client(t, "intruder", "intruder.svc")}, 401},
		{"no certificate", "/v1/orders/a1?client=acme", nil, 401},
	} {
		if got := get(tc.path, tc.certs...); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// The access file is read again when it changes; a broken version keeps
// the callers in force.
func TestReadAccessFileReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.json")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"callers": [{"name": "app", "token": "` + allToken + `", "clients": ["acme"]}]}`)
	f, err := reads.LoadReadAccess(path)
	if err != nil {
		t.Fatal(err)
	}
	caller := func(token string) *reads.Caller {
		req, _ := http.NewRequest(http.MethodGet, "/v1/orders/k?client=acme", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		c, _ := f.Authenticate(req)
		return c
	}
	if c := caller(allToken); c == nil || !c.MayRead("acme") || c.MayRead("initech") {
		t.Fatalf("caller = %+v", c)
	}
	if changed, err := f.Reload(); changed || err != nil {
		t.Fatalf("unchanged file reloaded: %v %v", changed, err)
	}
	write(`{"callers": [{"name": "app", "token": "` + acmeToken + `", "clients": ["*"]}]}`)
	if changed, err := f.Reload(); !changed || err != nil {
		t.Fatalf("changed file: %v %v", changed, err)
	}
	if caller(allToken) != nil || caller(acmeToken) == nil || !caller(acmeToken).MayRead("initech") {
		t.Fatal("the new callers are not in force")
	}
	write(`{"callers": [`)
	if _, err := f.Reload(); err == nil {
		t.Fatal("a broken file was accepted")
	}
	if caller(acmeToken) == nil {
		t.Fatal("a broken file dropped the callers in force")
	}
}
