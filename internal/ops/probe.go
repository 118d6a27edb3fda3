package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/switchyard/switchyard/internal/kinderr"
	"github.com/switchyard/switchyard/internal/redact"
)

// ErrProbeURL matches Probe's errors for a URL it cannot ask: nothing was
// sent.
var ErrProbeURL = errors.New("probe URL")

// StatusError is an answer outside 2xx: the endpoint is up and says it is
// not healthy (or not ready).
type StatusError struct {
	// URL is the probed URL, redacted; Body the first 512 bytes.
	URL, Status string
	Body        []byte
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s: %s: %s", e.URL, e.Status, e.Body) }

// Probe GETs rawURL within timeout, as a container healthcheck does, and
// returns the redacted URL and the status of a 2xx answer, such as
// "http://127.0.0.1:9090/readyz 200 OK". A URL that is not http(s) fails
// with an error matching ErrProbeURL, an answer outside 2xx with a
// *StatusError; no answer fails with the cause, the URL's secrets redacted.
func Probe(ctx context.Context, rawURL string, timeout time.Duration) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", kinderr.New(ErrProbeURL, redact.DSN(rawURL)+" is not an http(s) URL")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", kinderr.New(ErrProbeURL, err.Error())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", redact.WrapDSN(err, "probe", u.String())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return "", &StatusError{URL: redact.DSN(u.String()), Status: resp.Status, Body: body}
	}
	return redact.DSN(u.String()) + " " + resp.Status, nil
}
