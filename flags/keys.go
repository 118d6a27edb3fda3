package flags

import (
	"encoding/base64"
	"strings"
)

// Bucket keys. NATS key-value keys allow only [-/_=.a-zA-Z0-9] and treat '.'
// as a separator, while client ids may hold any UTF-8, so client ids are
// encoded with unpadded base64url, which stays inside the allowed set and
// is reversible.
const (
	configKey      = "config"
	overridePrefix = "client."
)

func encodeClient(client string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(client))
}

func decodeClient(enc string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	return string(b), true
}

func overrideKey(client string) string { return overridePrefix + encodeClient(client) }

// clientFromOverrideKey returns the client of an override key.
func clientFromOverrideKey(key string) (string, bool) {
	enc, ok := strings.CutPrefix(key, overridePrefix)
	if !ok {
		return "", false
	}
	return decodeClient(enc)
}
