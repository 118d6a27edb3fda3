package console

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
)

// ServerConfig is how the console's HTTP server is reached: its TLS
// certificate and the reverse proxies it trusts.
type ServerConfig struct {
	// TLSCert and TLSKey are PEM files of the HTTPS certificate and its
	// key; both empty serve plain HTTP.
	TLSCert, TLSKey string
	// TrustedProxies are the CIDRs of the reverse proxies whose
	// X-Forwarded-For header is trusted (see Options.TrustedProxies).
	TrustedProxies []string
}

// ServerConfigError is a ServerConfig the console cannot serve with. Its
// text names the settings as their command-line flags do, without the
// leading dashes.
type ServerConfigError struct {
	// Setting is the first setting at fault, such as "trusted-proxy".
	Setting string
	msg     string
}

func (e *ServerConfigError) Error() string { return e.msg }

// Validate parses the trusted proxies and checks the TLS files come
// together; the errors are *ServerConfigError.
func (c ServerConfig) Validate() ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, p := range c.TrustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, &ServerConfigError{"trusted-proxy", fmt.Sprintf("trusted-proxy %q is not a CIDR such as 10.0.0.0/8: %v", p, err)}
		}
		prefixes = append(prefixes, prefix)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, &ServerConfigError{"tls-cert", "tls-cert and --tls-key go together"}
	}
	return prefixes, nil
}

// Build validates c, adds its trusted proxies to opts and returns the HTTP
// server, without its handler, logging through log. Serving plain HTTP
// with Secure cookies is allowed (behind an HTTPS proxy) but warned about.
func (c ServerConfig) Build(opts *Options, log *slog.Logger) (*http.Server, error) {
	prefixes, err := c.Validate()
	if err != nil {
		return nil, err
	}
	opts.TrustedProxies = append(opts.TrustedProxies, prefixes...)
	srv := &http.Server{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, &ServerConfigError{"tls-cert", fmt.Sprintf("tls-cert/--tls-key: %v", err)}
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	} else if !opts.InsecureCookies {
		log.Warn("serving plain HTTP with Secure cookies: browsers only keep them behind an HTTPS proxy; use --insecure-cookies for local use")
	}
	return srv, nil
}
