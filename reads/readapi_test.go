package reads_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/reads"
)

// Tokens of the test access policy: one for every client, one for acme
// only, one admin that reads no client.
const (
	allToken   = "all-clients-token-0123456789abcdef"
	acmeToken  = "acme-only-token-0123456789abcdef"
	adminToken = "admin-token-0123456789abcdefghij"
)

func testAccess(t testing.TB) *reads.ReadAccess {
	t.Helper()
	adminHash := sha256.Sum256([]byte(adminToken))
	a, err := reads.ParseReadAccess([]byte(`{"callers": [
		{"name": "app", "token": "` + allToken + `", "clients": ["*"]},
		{"name": "acme-app", "token": "` + acmeToken + `", "clients": ["acme"]},
		{"name": "ops", "token_sha256": "` + hex.EncodeToString(adminHash[:]) + `", "admin": true}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func readAPIServer(t testing.TB, r *reads.Router) *httptest.Server {
	t.Helper()
	h, err := reads.NewReadAPI(reads.ReadAPIConfig{Router: r, Access: testAccess(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func authGet(u, token string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return http.DefaultClient.Do(req)
}

// getJSON reads base+path with token and decodes the body, which every
// answer of the read API, errors included, must be: a JSON object.
func getJSON(t *testing.T, base, path, token string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := authGet(base+path, token)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: body is not JSON: %v", path, err)
	}
	return resp, body
}

func TestReadAPI(t *testing.T) {
	env := newRouterEnv(t)
	put(t, env.legacy, "acme", "o/1", `{"n":1}`, 1)
	put(t, env.legacy, "acme", "o2", `{"n":2}`, 1)
	put(t, env.legacy, "other", "o3", `{"n":3}`, 1)
	put(t, env.target, "acme", "o/1", `{"n":1}`, 1)
	r := env.router(t, reads.RouterConfig{})
	srv := readAPIServer(t, r)

	get := func(path string) (*http.Response, map[string]any) {
		t.Helper()
		return getJSON(t, srv.URL, path, allToken)
	}

	resp, body := get("/v1/orders/" + url.PathEscape("o/1") + "?client=acme")
	if resp.StatusCode != 200 || resp.Header.Get("X-Switchyard-Served-By") != "legacy" || resp.Header.Get("X-Switchyard-Stage") != "legacy" {
		t.Fatalf("get: %d %v %v", resp.StatusCode, resp.Header, body)
	}
	if body["key"] != "o/1" || body["data"].(map[string]any)["n"] != float64(1) {
		t.Fatalf("get body = %v", body)
	}
	env.setStage(t, "acme", flags.StageTarget)
	resp, body = get("/v1/orders?client=acme&limit=10")
	if resp.StatusCode != 200 || resp.Header.Get(reads.HeaderServedBy) != "target" || len(body["records"].([]any)) != 1 {
		t.Fatalf("list from target: %d %v", resp.StatusCode, body)
	}

	bad := []struct {
		path, field string
		status      int
	}{
		{"/v1/orders/o2", "client", 400},
		{"/v1/orders/o2?client=", "client", 400},
		{"/v1/orders/o2?client=a&client=b", "client", 400},
		{"/v1/orders/o2?client=" + url.QueryEscape("bad\x01id"), "client", 400},
		{"/v1/orders/o2?client=" + strings.Repeat("x", 256), "client", 400},
		{"/v1/Orders/o2?client=acme", "entity", 400},
		{"/v1/orders/" + strings.Repeat("k", 256) + "?client=acme", "key", 400},
		{"/v1/orders?client=acme&limit=0", "limit", 400},
		{"/v1/orders?client=acme&limit=abc", "limit", 400},
		{"/v1/orders?client=acme&limit=1001", "limit", 400},
		{"/v1/orders?client=acme&after=" + strings.Repeat("a", 256), "after", 400},
		{"/v1/orders/missing?client=other", "", 404},
		{"/v1/orders/o3?client=acme", "", 404}, // another client's record
		{"/nope", "", 404},
	}
	for _, tc := range bad {
		resp, body := get(tc.path)
		if resp.StatusCode != tc.status || (tc.field != "" && body["field"] != tc.field) || body["error"] == "" {
			t.Errorf("%s: %d %v, want %d naming %q", tc.path, resp.StatusCode, body, tc.status, tc.field)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/orders/o2?client=acme", nil)
	req.Header.Set("Authorization", "Bearer "+allToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var perr map[string]any
	if resp.StatusCode != http.StatusMethodNotAllowed || json.NewDecoder(resp.Body).Decode(&perr) != nil || perr["error"] == "" {
		t.Fatalf("POST: %d %v", resp.StatusCode, perr)
	}
}

func TestReadAPIAuthenticatesAndScopesCallers(t *testing.T) {
	env := newRouterEnv(t)
	put(t, env.legacy, "acme", "a1", `{"n":1}`, 1)
	put(t, env.legacy, "initech", "i1", `{"n":2}`, 1)
	r := env.router(t, reads.RouterConfig{})
	srv := readAPIServer(t, r)

	status := func(path, token string) (int, http.Header) {
		t.Helper()
		resp, _ := getJSON(t, srv.URL, path, token)
		return resp.StatusCode, resp.Header
	}
	cases := []struct {
		name, path, token string
		want              int
	}{
		{"no token", "/v1/orders/a1?client=acme", "", 401},
		{"no token, list", "/v1/orders?client=acme", "", 401},
		{"no token, unknown path", "/nope", "", 401},
		{"wrong token", "/v1/orders/a1?client=acme", "not-a-known-token-0123456789abcdef", 401},
		{"token of acme reads acme", "/v1/orders/a1?client=acme", acmeToken, 200},
		{"token of acme reads another client", "/v1/orders/i1?client=initech", acmeToken, 403},
		{"token of acme lists another client", "/v1/orders?client=initech", acmeToken, 403},
		{"token for all reads initech", "/v1/orders/i1?client=initech", allToken, 200},
		{"admin route without token", "/v1/_mismatches", "", 401},
		{"admin route without admin scope", "/v1/_mismatches", allToken, 403},
		{"admin route with admin scope", "/v1/_mismatches", adminToken, 200},
		{"admin without client scope", "/v1/orders/a1?client=acme", adminToken, 403},
	}
	for _, tc := range cases {
		got, h := status(tc.path, tc.token)
		if got != tc.want {
			t.Errorf("%s: %s got %d, want %d", tc.name, tc.path, got, tc.want)
		}
		if got == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: 401 without a Bearer challenge: %v", tc.name, h)
		}
	}
	// Another scheme is not a token.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/orders/a1?client=acme", nil)
	req.SetBasicAuth("app", allToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("basic auth: %d, want 401", resp.StatusCode)
	}
	if _, err := reads.NewReadAPI(reads.ReadAPIConfig{Router: r}); err == nil {
		t.Fatal("a read API without an access policy was built")
	}
}

func TestParseReadAccessRefusesBadFiles(t *testing.T) {
	bad := map[string]string{
		"empty":          `{"callers": []}`,
		"unknown field":  `{"callers": [{"name": "a", "token": "` + allToken + `", "client": ["acme"]}]}`,
		"no scope":       `{"callers": [{"name": "a", "token": "` + allToken + `"}]}`,
		"short token":    `{"callers": [{"name": "a", "token": "short", "clients": ["*"]}]}`,
		"two creds":      `{"callers": [{"name": "a", "token": "` + allToken + `", "cert": "x", "clients": ["*"]}]}`,
		"no cred":        `{"callers": [{"name": "a", "clients": ["*"]}]}`,
		"bad hash":       `{"callers": [{"name": "a", "token_sha256": "abc", "clients": ["*"]}]}`,
		"duplicate name": `{"callers": [{"name": "a", "token": "` + allToken + `", "clients": ["*"]}, {"name": "a", "token": "` + acmeToken + `", "clients": ["*"]}]}`,
		"shared token":   `{"callers": [{"name": "a", "token": "` + allToken + `", "clients": ["*"]}, {"name": "b", "token": "` + allToken + `", "clients": ["x"]}]}`,
		"bad client":     `{"callers": [{"name": "a", "token": "` + allToken + `", "clients": ["bad\u0001"]}]}`,
		"not json":       `callers: a`,
	}
	for name, doc := range bad {
		if _, err := reads.ParseReadAccess([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "callers") && !strings.Contains(err.Error(), "access file") {
			t.Errorf("%s: error %q does not say where", name, err)
		}
	}
}
