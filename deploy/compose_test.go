package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// composeFile is the part of the Compose specification the stack uses;
// strict decoding rejects any other key, so a typo fails the test.
type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]any            `json:"volumes"`
	// Extension fields (x-…) hold the anchors the services merge.
	XSwitchyard  map[string]any    `json:"x-switchyard"`
	XSetup       map[string]any    `json:"x-switchyard-setup"`
	XEnv         map[string]any    `json:"x-switchyard-env"`
	XPasswords   map[string]string `json:"x-nats-passwords"`
	XHealthcheck map[string]any    `json:"x-healthcheck-timing"`
}

type composeService struct {
	Image           string            `json:"image"`
	Build           *composeBuild     `json:"build"`
	Command         []string          `json:"command"`
	Environment     map[string]string `json:"environment"`
	Ports           []string          `json:"ports"`
	Volumes         []string          `json:"volumes"`
	DependsOn       any               `json:"depends_on"`
	Healthcheck     *composeHealth    `json:"healthcheck"`
	Deploy          *composeDeploy    `json:"deploy"`
	Restart         string            `json:"restart"`
	StopGracePeriod string            `json:"stop_grace_period"`
	Profiles        []string          `json:"profiles"`
	Entrypoint      []string          `json:"entrypoint"`
	Tmpfs           []string          `json:"tmpfs"`
}

type composeBuild struct {
	Context    string `json:"context"`
	Dockerfile string `json:"dockerfile"`
}

type composeHealth struct {
	Test        []string `json:"test"`
	Interval    string   `json:"interval"`
	Timeout     string   `json:"timeout"`
	Retries     int      `json:"retries"`
	StartPeriod string   `json:"start_period"`
}

type composeDeploy struct {
	Replicas int `json:"replicas"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		t.Fatalf("compose.yaml does not parse as the Compose subset the stack uses: %v", err)
	}
	return c
}

func TestComposeStack(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"nats", "rethinkdb", "mssql", "worker-legacy", "worker-target", "read-api", "backfill", "verify", "console", "prometheus", "switchyard"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("compose.yaml has no service %q", name)
		}
	}
	images := map[string]string{"rethinkdb": "rethinkdb:2.4", "mssql": "mcr.microsoft.com/mssql/server:2022-latest"}
	for svc, img := range images {
		if got := c.Services[svc].Image; got != img {
			t.Errorf("service %s image = %q, want %q", svc, got, img)
		}
	}
	if !strings.Contains(strings.Join(c.Services["nats"].Command, " "), "--jetstream") {
		t.Error("nats must run with JetStream")
	}
	for name, svc := range c.Services {
		for _, dep := range dependencies(t, name, svc.DependsOn) {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on undefined service %q", name, dep)
			}
		}
		for _, v := range svc.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("service %s mounts %s, which does not exist: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("service %s uses undeclared volume %q", name, src)
			}
		}
		for _, p := range svc.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %s beyond loopback", name, p)
			}
		}
		if svc.Build != nil {
			if _, err := os.Stat(filepath.Join(svc.Build.Context, svc.Build.Dockerfile)); err != nil {
				t.Errorf("service %s builds from a missing Dockerfile: %v", name, err)
			}
		}
	}
	for _, w := range []string{"worker-legacy", "worker-target"} {
		svc := c.Services[w]
		if svc.Deploy == nil || svc.Deploy.Replicas != 2 {
			t.Errorf("%s must run 2 replicas, got %+v", w, svc.Deploy)
		}
		if len(svc.Command) == 0 || svc.Command[0] != "worker" {
			t.Errorf("%s command = %v, want the worker subcommand", w, svc.Command)
		}
		if svc.Environment["SWITCHYARD_SINK"] == "" || svc.Environment["SWITCHYARD_NATS"] == "" {
			t.Errorf("%s lacks its sink or NATS URL: %v", w, svc.Environment)
		}
		if svc.Healthcheck == nil || !strings.Contains(strings.Join(svc.Healthcheck.Test, " "), "/readyz") {
			t.Errorf("%s healthcheck must probe /readyz, got %+v", w, svc.Healthcheck)
		}
	}
	if !strings.HasPrefix(c.Services["worker-target"].Environment["SWITCHYARD_SINK"], "sqlserver://") ||
		!strings.HasPrefix(c.Services["worker-legacy"].Environment["SWITCHYARD_SINK"], "rethinkdb://") {
		t.Error("the target workers must write SQL Server and the legacy workers RethinkDB")
	}
}

// TestPrometheusScrapesWhatServesMetrics checks the compose stack's
// Prometheus: it scrapes every worker replica, the read API, the backfill
// and the verify on the ports they serve /metrics on, not the console
// (which serves none), and loads the shipped alert rules.
func TestPrometheusScrapesWhatServesMetrics(t *testing.T) {
	b, err := os.ReadFile("prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Global        map[string]any `json:"global"`
		RuleFiles     []string       `json:"rule_files"`
		ScrapeConfigs []struct {
			JobName      string `json:"job_name"`
			DNSSDConfigs []struct {
				Names []string `json:"names"`
				Type  string   `json:"type"`
				Port  int      `json:"port"`
			} `json:"dns_sd_configs"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	compose := loadCompose(t)
	scraped := map[string]int{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				scraped[n] = d.Port
				svc, ok := compose.Services[n]
				if !ok {
					t.Errorf("prometheus scrapes %s, which is not a compose service", n)
					continue
				}
				cmd := strings.Join(append(append([]string{}, svc.Entrypoint...), svc.Command...), " ")
				if !strings.Contains(cmd, fmt.Sprintf(":%d", d.Port)) {
					t.Errorf("prometheus scrapes %s on port %d, but it serves on: %s", n, d.Port, cmd)
				}
			}
		}
	}
	for _, want := range []string{"worker-legacy", "worker-target", "read-api", "backfill", "verify"} {
		if scraped[want] == 0 {
			t.Errorf("prometheus does not scrape %s (scrapes %v)", want, scraped)
		}
	}
	if _, ok := scraped["console"]; ok {
		t.Error("prometheus scrapes the console, which serves no /metrics")
	}
	mounted := false
	for _, v := range compose.Services["prometheus"].Volumes {
		src, dst, _ := strings.Cut(v, ":")
		dst = strings.TrimSuffix(dst, ":ro")
		if src == "./"+alertsFile && len(cfg.RuleFiles) == 1 && cfg.RuleFiles[0] == dst {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("prometheus does not load %s: rule_files %v, volumes %v", alertsFile, cfg.RuleFiles, compose.Services["prometheus"].Volumes)
	}
}

func dependencies(t *testing.T, service string, v any) []string {
	switch d := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(d))
		for _, x := range d {
			out = append(out, x.(string))
		}
		return out
	case map[string]any:
		out := make([]string, 0, len(d))
		for k := range d {
			out = append(out, k)
		}
		return out
	}
	t.Fatalf("service %s: depends_on of unexpected shape %T", service, v)
	return nil
}
