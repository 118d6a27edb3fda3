package console

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultShutdownGrace is how long open requests may finish at shutdown
// unless told otherwise.
const DefaultShutdownGrace = 10 * time.Second

// Serve serves srv.Handler on ln until ctx ends, then shuts down
// gracefully, giving open requests up to grace to finish. It serves TLS when
// srv.TLSConfig holds certificates. Zero timeouts on srv are set to
// conservative defaults (5 s to read headers, 15 s to read a request, 30 s
// to write a response, 2 min idle, 64 KiB of headers). It returns nil after
// a clean shutdown and the server's error otherwise.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = 5 * time.Second
	}
	if srv.ReadTimeout == 0 {
		srv.ReadTimeout = 15 * time.Second
	}
	if srv.WriteTimeout == 0 {
		srv.WriteTimeout = 30 * time.Second
	}
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = 2 * time.Minute
	}
	if srv.MaxHeaderBytes == 0 {
		srv.MaxHeaderBytes = 64 << 10
	}
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil && (len(srv.TLSConfig.Certificates) > 0 || srv.TLSConfig.GetCertificate != nil) {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("console server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("console server: %w", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("console shutdown: %w", shutdownErr)
	}
	return nil
}
