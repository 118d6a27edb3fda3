package deploy

import (
	"os"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// perRoleLogins gives every component the user of its role in
// nats/switchyard.conf, the hook an administrator's creds file, and leaves
// the legacy subscription on the shared login.
const perRoleLogins = `
nats:
  credsSecret: nats-shared-creds
  tokenSecret: nats-shared-token
  replicas: 3
ensure:
  nats: {credsSecret: nats-admin-creds}
  flagsInit:
    nats: {userSecret: nats-flags-cli}
subscriptions:
  - name: target
    role: target
    start: new
    sinkSecret: {name: target-dsn, key: dsn}
    autoscaling: {mode: none, minReplicas: 1, maxReplicas: 1}
    nats: {userSecret: nats-worker}
  - name: legacy
    role: legacy
    start: all
    sinkSecret: {name: legacy-dsn, key: dsn}
    autoscaling: {mode: none, minReplicas: 1, maxReplicas: 1}
backfill:
  enabled: true
  entities: [task]
  nats: {userSecret: nats-backfill}
verify:
  enabled: true
  entities: [task]
  nats: {userSecret: nats-verify}
readApi:
  enabled: true
  tokensSecret: read-api-tokens
  nats: {userSecret: nats-read-api}
console:
  nats: {userSecret: nats-console}
`

// natsLogin is how one rendered container logs in to NATS.
type natsLogin struct {
	creds       string // Secret mounted as the creds file, "" for none
	userSecret  string // Secret of SWITCHYARD_NATS_USER and _PASSWORD
	tokenSecret string
}

func loginOf(t *testing.T, pod corev1.PodSpec, c corev1.Container) natsLogin {
	t.Helper()
	var l natsLogin
	if contains(c.Args, "--nats-creds=/var/run/switchyard/nats/nats.creds") {
		for _, m := range c.VolumeMounts {
			if m.MountPath == "/var/run/switchyard/nats" {
				if v := volume(pod.Volumes, m.Name); v != nil && v.Secret != nil {
					l.creds = v.Secret.SecretName
				}
			}
		}
		if l.creds == "" {
			t.Errorf("container %s reads a creds file that is not mounted", c.Name)
		}
	}
	user, password := envVar(c.Env, "SWITCHYARD_NATS_USER"), envVar(c.Env, "SWITCHYARD_NATS_PASSWORD")
	if (user == nil) != (password == nil) {
		t.Errorf("container %s has half a NATS login: user %+v, password %+v", c.Name, user, password)
	}
	if user != nil && password != nil {
		for _, e := range []*corev1.EnvVar{user, password} {
			if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Fatalf("container %s: %s must come from a Secret reference, got %+v", c.Name, e.Name, e)
			}
		}
		if user.ValueFrom.SecretKeyRef.Key != "user" || password.ValueFrom.SecretKeyRef.Key != "password" ||
			user.ValueFrom.SecretKeyRef.Name != password.ValueFrom.SecretKeyRef.Name {
			t.Errorf("container %s: user %+v and password %+v are not the keys user and password of one Secret", c.Name, user.ValueFrom.SecretKeyRef, password.ValueFrom.SecretKeyRef)
		}
		l.userSecret = user.ValueFrom.SecretKeyRef.Name
	}
	if tok := envVar(c.Env, "SWITCHYARD_NATS_TOKEN"); tok != nil && tok.ValueFrom != nil && tok.ValueFrom.SecretKeyRef != nil {
		l.tokenSecret = tok.ValueFrom.SecretKeyRef.Name
	}
	for _, a := range c.Args {
		if strings.Contains(strings.ToLower(a), "password") || strings.Contains(a, "@") {
			t.Errorf("container %s passes a login in its arguments: %s", c.Name, a)
		}
	}
	return l
}

// TestChartPerRoleNATSLogins: each component logs in as the user its values
// name (a user and password from a Secret, by reference only, or a creds
// file), and one that names none falls back to the shared login; the hook
// runs flags init with the control-plane role's login before subs ensure
// with the administrator's, both with nats.replicas.
func TestChartPerRoleNATSLogins(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, perRoleLogins)

	want := map[string]natsLogin{
		"Deployment/sy-switchyard-worker-target/worker": {userSecret: "nats-worker"},
		"Deployment/sy-switchyard-worker-legacy/worker": {creds: "nats-shared-creds", tokenSecret: "nats-shared-token"},
		"Job/sy-switchyard-backfill/backfill":           {userSecret: "nats-backfill"},
		"CronJob/sy-switchyard-verify/verify":           {userSecret: "nats-verify"},
		"Deployment/sy-switchyard-read-api/read-api":    {userSecret: "nats-read-api"},
		"Deployment/sy-switchyard-console/console":      {userSecret: "nats-console"},
		"Job/sy-switchyard-ensure/flags-init":           {userSecret: "nats-flags-cli"},
		"Job/sy-switchyard-ensure/ensure-target":        {creds: "nats-admin-creds"},
		"Job/sy-switchyard-ensure/ensure-legacy":        {creds: "nats-admin-creds"},
	}
	seen := map[string]bool{}
	for _, p := range podSpecs(t, objs) {
		for _, c := range append(append([]corev1.Container{}, p.spec.InitContainers...), p.spec.Containers...) {
			id := p.object + "/" + c.Name
			w, ok := want[id]
			if !ok {
				t.Errorf("unexpected container %s", id)
				continue
			}
			seen[id] = true
			if got := loginOf(t, p.spec, c); got != w {
				t.Errorf("%s logs in to NATS with %+v, want %+v", id, got, w)
			}
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("no container %s rendered", id)
		}
	}

	// The hook: the control plane first, then the subscriptions, and what
	// either creates gets nats.replicas copies; so does backfill's queue.
	var ensure batchv1.Job
	decodeInto(t, find(objs, "Job", "sy-switchyard-ensure"), &ensure)
	steps := append(append([]corev1.Container{}, ensure.Spec.Template.Spec.InitContainers...), ensure.Spec.Template.Spec.Containers...)
	var order []string
	for _, s := range steps {
		order = append(order, s.Name)
		if !contains(s.Args, "--replicas=3") {
			t.Errorf("hook step %s lacks --replicas=3: %v", s.Name, s.Args)
		}
	}
	if strings.Join(order, ",") != "flags-init,ensure-target,ensure-legacy" {
		t.Errorf("hook steps run in the order %v, want flags init first", order)
	}
	if args := steps[0].Args; len(args) < 2 || args[0] != "flags" || args[1] != "init" {
		t.Errorf("flags-init runs %v", args)
	}
	var backfill batchv1.Job
	decodeInto(t, find(objs, "Job", "sy-switchyard-backfill"), &backfill)
	if !contains(backfill.Spec.Template.Spec.Containers[0].Args, "--replicas=3") {
		t.Errorf("backfill creates its work queue without nats.replicas: %v", backfill.Spec.Template.Spec.Containers[0].Args)
	}

	// flags init without a login of its own uses the hook's.
	objs = render(t, helm, "ensure:\n  nats: {userSecret: nats-admin}\n")
	decodeInto(t, find(objs, "Job", "sy-switchyard-ensure"), &ensure)
	init := ensure.Spec.Template.Spec.InitContainers[0]
	if got := loginOf(t, ensure.Spec.Template.Spec, init); init.Name != "flags-init" || got != (natsLogin{userSecret: "nats-admin"}) {
		t.Errorf("%s without ensure.flagsInit.nats logs in with %+v, want the hook's", init.Name, got)
	}
	// Two creds files in one pod: each step mounts its own.
	objs = render(t, helm, "ensure:\n  nats: {credsSecret: admin-creds}\n  flagsInit:\n    nats: {credsSecret: flags-cli-creds}\n")
	decodeInto(t, find(objs, "Job", "sy-switchyard-ensure"), &ensure)
	for _, c := range append(ensure.Spec.Template.Spec.InitContainers, ensure.Spec.Template.Spec.Containers...) {
		want := natsLogin{creds: "admin-creds"}
		if c.Name == "flags-init" {
			want = natsLogin{creds: "flags-cli-creds"}
		}
		if got := loginOf(t, ensure.Spec.Template.Spec, c); got != want {
			t.Errorf("hook step %s logs in with %+v, want %+v", c.Name, got, want)
		}
	}
	// And flagsInit.enabled false leaves the control plane to the operator.
	objs = render(t, helm, "ensure:\n  flagsInit: {enabled: false}\n")
	decodeInto(t, find(objs, "Job", "sy-switchyard-ensure"), &ensure)
	for _, c := range append(ensure.Spec.Template.Spec.InitContainers, ensure.Spec.Template.Spec.Containers...) {
		if c.Name == "flags-init" {
			t.Error("ensure.flagsInit.enabled false still runs flags init")
		}
	}
}

// TestChartRefusesAmbiguousNATSLogins: two ways to log in for one component
// fail the render naming where, and the schema refuses a misspelt login key
// and replicas outside what JetStream allows.
func TestChartRefusesAmbiguousNATSLogins(t *testing.T) {
	helm := helmBinary(t)
	for _, tc := range []struct{ values, names string }{
		{"console:\n  nats: {credsSecret: a, userSecret: b}\n", "console.nats"},
		{"nats:\n  userSecret: a\n  tokenSecret: b\n", "nats: userSecret"},
		{"backfill:\n  enabled: true\n  entities: [task]\n  nats: {userSecret: a, credsSecret: b}\n", "backfill.nats"},
		{"ensure:\n  flagsInit:\n    nats: {userSecret: a, credsSecret: b}\n", "ensure.flagsInit.nats"},
		{"console:\n  nats: {userSecrets: a}\n", "userSecrets"},
		{"ensure:\n  credsSecret: a\n", "credsSecret"},
		{"nats:\n  replicas: 7\n", "replicas"},
		{"nats:\n  replicas: 0\n", "replicas"},
	} {
		out, err := renderRaw(t, helm, tc.values)
		if err == nil {
			t.Errorf("values %q rendered; they must be refused", tc.values)
			continue
		}
		if !strings.Contains(out, tc.names) {
			t.Errorf("values %q: the error does not name %q:\n%s", tc.values, tc.names, out)
		}
	}
}

// TestDocsMapEveryChartComponentToItsRole: the deployment guide's table of
// the chart's NATS logins names every user of nats/switchyard.conf and the
// values of every component that logs in.
func TestDocsMapEveryChartComponentToItsRole(t *testing.T) {
	b, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### The chart's NATS logins")
	if start < 0 {
		t.Fatal("docs/deploy.md has no section \"The chart's NATS logins\"")
	}
	section := doc[start:]
	if end := strings.Index(section[4:], "\n## "); end >= 0 {
		section = section[:end+4]
	}
	for _, role := range append([]string{"admin"}, natsRoles...) {
		if !strings.Contains(section, "`"+role+"`") {
			t.Errorf("the chart's NATS logins do not map any component to the user %s", role)
		}
	}
	for _, values := range []string{"subscriptions[].nats", "backfill.nats", "verify.nats", "readApi.nats", "console.nats", "ensure.flagsInit.nats", "ensure.nats"} {
		if !strings.Contains(section, "`"+values+"`") {
			t.Errorf("the chart's NATS logins do not name the values %s", values)
		}
	}
}
