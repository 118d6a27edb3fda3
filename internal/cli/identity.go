package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os/user"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// userInfoSubject answers a connection with the identity the server
// authenticated it as (nats-server 2.10 and later).
const userInfoSubject = "$SYS.REQ.USER.INFO"

// ErrNoIdentity: neither the NATS credentials nor the operating system name
// who runs the command.
var ErrNoIdentity = errors.New("no identity: the NATS connection is anonymous and the operating system user is unknown")

// Identity says who a command acts as, for audit records. It is the user the
// NATS server authenticated the connection as (the user name, the nkey or
// the JWT's user, with its account), asked from the server so it cannot be
// claimed; for an anonymous connection, the user name in the server URL,
// else the operating system user. The result reads "nats:NAME",
// "nats:NAME@ACCOUNT" or "os:NAME".
func Identity(ctx context.Context, nc *nats.Conn, urls string) (string, error) {
	if id := serverIdentity(ctx, nc); id != "" {
		return "nats:" + id, nil
	}
	for _, u := range strings.Split(urls, ",") {
		if p, err := url.Parse(strings.TrimSpace(u)); err == nil && p.User != nil {
			if _, hasPassword := p.User.Password(); hasPassword && p.User.Username() != "" {
				return "nats:" + p.User.Username(), nil // a user name, not a token
			}
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os:" + u.Username, nil
	}
	return "", ErrNoIdentity
}

// serverIdentity asks the server who this connection is; "" when the
// server does not say (anonymous, older server, or no permission).
func serverIdentity(ctx context.Context, nc *nats.Conn) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	msg, err := nc.RequestWithContext(ctx, userInfoSubject, nil)
	if err != nil {
		return ""
	}
	var resp struct {
		Data *struct {
			User        string `json:"user"`
			UserName    string `json:"user_name"`
			Account     string `json:"account"`
			AccountName string `json:"account_name"`
		} `json:"data"`
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if json.Unmarshal(msg.Data, &resp) != nil || resp.Data == nil || resp.Error != nil {
		return ""
	}
	d := resp.Data
	name := d.UserName
	if name == "" {
		name = d.User
	}
	if name == "" {
		return ""
	}
	account := d.AccountName
	if account == "" {
		account = d.Account
	}
	if account != "" && account != "$G" {
		return fmt.Sprintf("%s@%s", name, account)
	}
	return name
}
