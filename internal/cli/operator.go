package cli

import (
	"os"
	"os/user"
)

// Operator names who runs the command on which machine, "user@host", for
// records such as a forced cleanup's.
func Operator() string {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return name + "@" + host
}
