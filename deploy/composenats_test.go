package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/internal/testenv"
)

// composeNATSUsers is the user of deploy/nats/switchyard.conf each compose
// service that talks to NATS logs in as.
var composeNATSUsers = map[string]string{
	"flags-init":    "flags_cli",
	"ensure-legacy": "admin",
	"ensure-target": "admin",
	"worker-legacy": "worker",
	"worker-target": "worker",
	"read-api":      "read_api",
	"backfill":      "backfill",
	"verify":        "verify",
	"console":       "console",
	"switchyard":    "admin",
}

// passwordVar is the variable the NATS configuration reads user's password from.
func passwordVar(user string) string {
	return "SWITCHYARD_NATS_" + strings.ToUpper(user) + "_PASSWORD"
}

var composeDefault = regexp.MustCompile(`^\$\{([A-Z0-9_]+):-([^}]+)\}$`)

// TestComposeServicesLogInAsTheirRole: every compose service that talks to
// NATS sends its role's user, and the password the NATS service reads for
// that user (same variable, same development default); the NATS service
// loads the open configuration unless SWITCHYARD_NATS_CONFIG names the
// per-role one; setup runs before the services that need it.
func TestComposeServicesLogInAsTheirRole(t *testing.T) {
	c := loadCompose(t)
	natsSvc := c.Services["nats"]
	defaults := map[string]string{} // password variable -> development default
	for name, svc := range c.Services {
		if svc.Environment["SWITCHYARD_NATS"] == "" {
			if _, ok := composeNATSUsers[name]; ok {
				t.Errorf("service %s does not connect to NATS", name)
			}
			continue
		}
		want, ok := composeNATSUsers[name]
		if !ok {
			t.Errorf("service %s connects to NATS as no known role", name)
			continue
		}
		if got := svc.Environment["SWITCHYARD_NATS_USER"]; got != want {
			t.Errorf("service %s logs in as %q, want %q", name, got, want)
		}
		pw := svc.Environment["SWITCHYARD_NATS_PASSWORD"]
		m := composeDefault.FindStringSubmatch(pw)
		if m == nil || m[1] != passwordVar(want) {
			t.Errorf("service %s: SWITCHYARD_NATS_PASSWORD = %q, want ${%s:-<development default>}", name, pw, passwordVar(want))
			continue
		}
		if server := natsSvc.Environment[m[1]]; server != pw {
			t.Errorf("service %s sends %s, but the NATS service reads %q for %s", name, pw, server, want)
		}
		defaults[m[1]] = m[2]
		for _, a := range append(append([]string{}, svc.Entrypoint...), svc.Command...) {
			if a == "--ensure" {
				t.Errorf("service %s declares subscriptions itself; the ensure services do, as admin", name)
			}
		}
	}
	for svc, setup := range map[string]string{"worker-legacy": "ensure-legacy", "worker-target": "ensure-target", "console": "flags-init", "read-api": "flags-init"} {
		deps, _ := c.Services[svc].DependsOn.(map[string]any)
		cond, _ := deps[setup].(map[string]any)
		if cond["condition"] != "service_completed_successfully" {
			t.Errorf("service %s does not wait for %s to complete: %v", svc, setup, c.Services[svc].DependsOn)
		}
	}

	// The NATS service: the configuration is chosen by SWITCHYARD_NATS_CONFIG
	// from the mounted deploy/nats, and it reads every user's password.
	cmd := strings.Join(natsSvc.Command, " ")
	if !strings.Contains(cmd, "--config /etc/nats/${SWITCHYARD_NATS_CONFIG:-open.conf}") || !contains(natsSvc.Volumes, "./nats:/etc/nats:ro") {
		t.Errorf("the NATS service does not load deploy/nats/${SWITCHYARD_NATS_CONFIG:-open.conf}: %s, %v", cmd, natsSvc.Volumes)
	}
	conf, err := os.ReadFile("nats/switchyard.conf")
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, m := range regexp.MustCompile(`(?m)^\s*user: (\w+)\s*\n\s*password: \$(\w+)`).FindAllStringSubmatch(string(conf), -1) {
		users = append(users, m[1])
		if m[2] != passwordVar(m[1]) {
			t.Errorf("switchyard.conf reads the password of %s from %s", m[1], m[2])
		}
		if natsSvc.Environment[m[2]] == "" {
			t.Errorf("the NATS service does not set %s, so the server would not start with switchyard.conf", m[2])
		}
	}
	if len(users) != len(natsRoles)+1 {
		t.Fatalf("found users %v in switchyard.conf, want admin and %v", users, natsRoles)
	}

	// With the per-role configuration and the development defaults, every
	// service's login is accepted; the open configuration accepts them too.
	for _, v := range users {
		m := composeDefault.FindStringSubmatch(natsSvc.Environment[passwordVar(v)])
		if m == nil {
			t.Fatalf("the NATS service's %s has no development default", passwordVar(v))
		}
		t.Setenv(passwordVar(v), m[2])
	}
	for _, confFile := range []string{"nats/switchyard.conf", "nats/open.conf"} {
		srv := testenv.NATSWithConfig(t, confFile)
		for name, user := range composeNATSUsers {
			nc, err := nats.Connect(srv.URL, nats.UserInfo(user, defaults[passwordVar(user)]))
			if err != nil {
				t.Errorf("%s: service %s cannot log in as %s: %v", confFile, name, user, err)
				continue
			}
			nc.Close()
		}
		if confFile == "nats/switchyard.conf" {
			if nc, err := nats.Connect(srv.URL); err == nil {
				nc.Close()
				t.Error("switchyard.conf let a client in without a login")
			}
		}
	}
}
