package flags_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/flags"
)

func TestReadAPI(t *testing.T) {
	env := newRouterEnv(t)
	put(t, env.legacy, "acme", "o/1", `{"n":1}`, 1)
	put(t, env.legacy, "acme", "o2", `{"n":2}`, 1)
	put(t, env.legacy, "other", "o3", `{"n":3}`, 1)
	put(t, env.target, "acme", "o/1", `{"n":1}`, 1)
	r := env.router(t, flags.RouterConfig{})
	h, err := flags.NewReadAPI(flags.ReadAPIConfig{Router: r})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	get := func(path string) (*http.Response, map[string]any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
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

	resp, body := get("/v1/orders/" + url.PathEscape("o/1") + "?client=acme")
	if resp.StatusCode != 200 || resp.Header.Get(flags.HeaderServedBy) != "legacy" || resp.Header.Get(flags.HeaderStage) != "legacy" {
		t.Fatalf("get: %d %v %v", resp.StatusCode, resp.Header, body)
	}
	if body["key"] != "o/1" || body["data"].(map[string]any)["n"] != float64(1) {
		t.Fatalf("get body = %v", body)
	}
	env.setStage(t, "acme", flags.StageTarget)
	resp, body = get("/v1/orders?client=acme&limit=10")
	if resp.StatusCode != 200 || resp.Header.Get(flags.HeaderServedBy) != "target" || len(body["records"].([]any)) != 1 {
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
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var perr map[string]any
	if resp.StatusCode != http.StatusMethodNotAllowed || json.NewDecoder(resp.Body).Decode(&perr) != nil || perr["error"] == "" {
		t.Fatalf("POST: %d %v", resp.StatusCode, perr)
	}
}
