package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// kedaAPI makes helm template render as for a cluster that serves KEDA's API.
var kedaAPI = []string{"--api-versions", "keda.sh/v1alpha1"}

// TestChartDefaultsOnAPlainCluster renders the defaults as for a cluster
// without KEDA: the target workers get a CPU HPA, the hook Job declares
// every subscription before the workers start, and the workers run without
// --ensure.
func TestChartDefaultsOnAPlainCluster(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, "")

	var target appsv1.Deployment
	obj := find(objs, "Deployment", "sy-switchyard-worker-target")
	if obj == nil {
		t.Fatal("no Deployment for the target subscription")
	}
	decodeInto(t, obj, &target)
	pod := target.Spec.Template.Spec
	if got := *pod.TerminationGracePeriodSeconds; got != 30 {
		t.Errorf("terminationGracePeriodSeconds = %d, want drainSeconds (25) + 5", got)
	}
	c := pod.Containers[0]
	if c.Args[0] != "worker" || !contains(c.Args, "--grace=25s") || !contains(c.Args, "--consumer=target") || !contains(c.Args, "--nats=nats://nats:4222") {
		t.Errorf("worker args = %v", c.Args)
	}
	if contains(c.Args, "--ensure") {
		t.Error("workers must not declare the stream: the hook Job does, with its own rights")
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("worker probes = %+v / %+v", c.LivenessProbe, c.ReadinessProbe)
	}
	if target.Spec.Replicas != nil {
		t.Error("an autoscaled Deployment must leave replicas to the autoscaler")
	}
	if sink := envVar(c.Env, "SWITCHYARD_SINK"); sink == nil || sink.ValueFrom == nil || sink.ValueFrom.SecretKeyRef == nil {
		t.Errorf("the sink DSN must come from a Secret reference, got %+v", sink)
	}

	var hpa autoscalingv2.HorizontalPodAutoscaler
	obj = find(objs, "HorizontalPodAutoscaler", "sy-switchyard-worker-target")
	if obj == nil {
		t.Fatal("autoscaling.mode auto rendered no HPA on a cluster without KEDA's API")
	}
	decodeInto(t, obj, &hpa)
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 2 || hpa.Spec.MaxReplicas != 10 {
		t.Errorf("HPA replicas %v..%d, want 2..10", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	if find(objs, "ScaledObject", "sy-switchyard-worker-target") != nil {
		t.Error("a ScaledObject rendered on a cluster without KEDA's API")
	}

	var legacy appsv1.Deployment
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-worker-legacy"), &legacy)
	if legacy.Spec.Replicas == nil || *legacy.Spec.Replicas != 2 {
		t.Errorf("legacy replicas = %v, want 2 (autoscaling.mode none)", legacy.Spec.Replicas)
	}
	if find(objs, "PodDisruptionBudget", "sy-switchyard-worker-target") == nil {
		t.Error("no PodDisruptionBudget for the target workers")
	}

	// The hook Job: one container per subscription, in order, each running
	// subs ensure with the flags the chart knows.
	jobObj := find(objs, "Job", "sy-switchyard-ensure")
	if jobObj == nil {
		t.Fatal("no hook Job that ensures the stream and consumers")
	}
	var job batchv1.Job
	decodeInto(t, jobObj, &job)
	if hook := job.Annotations["helm.sh/hook"]; hook != "pre-install,pre-upgrade" {
		t.Errorf("the ensure Job's helm.sh/hook = %q, want pre-install,pre-upgrade", hook)
	}
	if !strings.Contains(job.Annotations["helm.sh/hook-delete-policy"], "before-hook-creation") {
		t.Errorf("the ensure Job is not replaced on the next upgrade: %v", job.Annotations)
	}
	jpod := job.Spec.Template.Spec
	if jpod.AutomountServiceAccountToken == nil || *jpod.AutomountServiceAccountToken {
		t.Error("the ensure Job needs no Kubernetes API access and must not mount a token")
	}
	if jpod.ServiceAccountName != "" {
		t.Errorf("the ensure Job runs before install, when the release's service account %q does not exist yet", jpod.ServiceAccountName)
	}
	steps := append(append([]corev1.Container{}, jpod.InitContainers...), jpod.Containers...)
	want := map[string][]string{
		"target": {"--consumer=target", "--role=target", "--start=new"},
		"legacy": {"--consumer=legacy", "--role=legacy", "--start=all"},
	}
	if len(steps) != len(want)+1 {
		t.Fatalf("the ensure Job has %d steps, want flags init and one per subscription", len(steps))
	}
	// The control plane first, so the console and the read API find it.
	if init := steps[0]; init.Name != "flags-init" || len(init.Args) < 3 || init.Args[0] != "flags" || init.Args[1] != "init" ||
		!contains(init.Args, "--replicas=1") || !contains(init.Args, "--nats=nats://nats:4222") {
		t.Errorf("the ensure Job's first step is %s %v, want flags init --replicas=1", init.Name, init.Args)
	}
	for _, s := range steps[1:] {
		sub := strings.TrimPrefix(s.Name, "ensure-")
		if len(s.Args) < 2 || s.Args[0] != "subs" || s.Args[1] != "ensure" {
			t.Errorf("ensure step %s runs %v", s.Name, s.Args)
			continue
		}
		for _, a := range append(want[sub], "--stream=EVENTS", "--prefix=events", "--version-source=stream", "--replicas=1", "--nats=nats://nats:4222") {
			if !contains(s.Args, a) {
				t.Errorf("ensure step %s lacks %s: %v", s.Name, a, s.Args)
			}
		}
	}

	console := find(objs, "Deployment", "sy-switchyard-console")
	if console == nil || find(objs, "Service", "sy-switchyard-console") == nil {
		t.Fatal("no console Deployment and Service")
	}
	var cons appsv1.Deployment
	decodeInto(t, console, &cons)
	if args := cons.Spec.Template.Spec.Containers[0].Args; contains(args, "--insecure-cookies") || hasPrefix(args, "--trusted-proxy") {
		t.Errorf("without an Ingress the console needs Secure cookies and trusts no proxy: %v", args)
	}
	for _, off := range []struct{ kind, name string }{
		{"Job", "sy-switchyard-backfill"}, {"CronJob", "sy-switchyard-verify"}, {"Deployment", "sy-switchyard-read-api"},
		{"ServiceMonitor", "sy-switchyard"}, {"PrometheusRule", "sy-switchyard"}, {"Ingress", "sy-switchyard-console"},
	} {
		if find(objs, off.kind, off.name) != nil {
			t.Errorf("%s %s must be off by default", off.kind, off.name)
		}
	}
}

// TestChartWithKEDA renders the defaults as for a cluster that serves
// KEDA's API: the target workers scale on consumer lag with a ScaledObject
// and no HPA competes with it.
func TestChartWithKEDA(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, "", kedaAPI...)
	so := find(objs, "ScaledObject", "sy-switchyard-worker-target")
	if so == nil {
		t.Fatal("autoscaling.mode auto rendered no ScaledObject where KEDA's API is served")
	}
	var scaled scaledObject
	decodeInto(t, so, &scaled)
	if tr := scaled.Spec.Triggers[0]; tr.Type != "nats-jetstream" || tr.Metadata["consumer"] != "target" || tr.Metadata["stream"] != "EVENTS" {
		t.Errorf("scaler trigger = %+v", tr)
	}
	if find(objs, "HorizontalPodAutoscaler", "sy-switchyard-worker-target") != nil {
		t.Error("an HPA must not compete with the KEDA ScaledObject")
	}
	if find(objs, "ScaledObject", "sy-switchyard-worker-legacy") != nil {
		t.Error("autoscaling.mode none rendered a ScaledObject")
	}

	// An explicit choice wins over what the cluster serves.
	objs = render(t, helm, `
subscriptions:
  - name: target
    role: target
    start: new
    sinkSecret: {name: target-dsn, key: dsn}
    autoscaling: {mode: hpa, minReplicas: 3, maxReplicas: 9, targetCPUUtilizationPercentage: 60}
`, kedaAPI...)
	if find(objs, "ScaledObject", "sy-switchyard-worker-target") != nil || find(objs, "HorizontalPodAutoscaler", "sy-switchyard-worker-target") == nil {
		t.Error("autoscaling.mode hpa must render an HPA even where KEDA's API is served")
	}
	objs = render(t, helm, `
subscriptions:
  - name: target
    role: target
    start: new
    sinkSecret: {name: target-dsn, key: dsn}
    replicas: 4
    autoscaling: {mode: keda, minReplicas: 1, maxReplicas: 3}
`)
	if find(objs, "ScaledObject", "sy-switchyard-worker-target") == nil {
		t.Error("autoscaling.mode keda must render a ScaledObject even where helm cannot see KEDA's API")
	}
}

// TestChartSchemaRefusesTypos checks that values.schema.json refuses a
// misspelt key at every level, and a value outside its set.
func TestChartSchemaRefusesTypos(t *testing.T) {
	helm := helmBinary(t)
	for _, tc := range []struct{ values, names string }{
		{"consol:\n  enabled: true\n", "consol"},
		{"console:\n  trustedProxy: [10.0.0.0/8]\n", "trustedProxy"},
		{"console:\n  ingress: {enabled: true, tlsSecrets: x}\n", "tlsSecrets"},
		{"metrics:\n  serviceMonitor: {enable: true}\n", "enable"},
		{"readApi:\n  tokenSecret: t\n", "tokenSecret"},
		{"subscriptions:\n  - {name: target, role: target, start: new, sinkSecret: {name: a, key: b}, autoscaling: {mode: auto, minReplicas: 1, maxReplicas: 2}, batchsize: 10}\n", "batchsize"},
		{"subscriptions:\n  - {name: target, role: target, start: new, sinkSecret: {name: a, key: b}, autoscaling: {mode: kdea, minReplicas: 1, maxReplicas: 2}}\n", "mode"},
		{"backfill:\n  extraArg: [--x]\n", "extraArg"},
	} {
		out, err := renderRaw(t, helm, tc.values)
		if err == nil {
			t.Errorf("values %q rendered; the schema must refuse them", tc.values)
			continue
		}
		if !strings.Contains(out, "schema") || !strings.Contains(out, tc.names) {
			t.Errorf("values %q: the error does not name %q:\n%s", tc.values, tc.names, out)
		}
	}
}

// TestChartOptions renders every component with every option set.
func TestChartOptions(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, allOptions)

	var job batchv1.Job
	decodeInto(t, find(objs, "Job", "sy-switchyard-backfill"), &job)
	if *job.Spec.Parallelism != 4 || !contains(job.Spec.Template.Spec.Containers[0].Args, "--entities=task,project") {
		t.Errorf("backfill job: parallelism %d, args %v", *job.Spec.Parallelism, job.Spec.Template.Spec.Containers[0].Args)
	}
	var cron batchv1.CronJob
	decodeInto(t, find(objs, "CronJob", "sy-switchyard-verify"), &cron)
	if cron.Spec.Schedule != "30 2 * * *" || !contains(cron.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args, "--entities=task") {
		t.Errorf("verify CronJob: schedule %q, args %v", cron.Spec.Schedule, cron.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args)
	}

	// extraArgs, extraEnv and envFrom reach every component.
	for _, p := range podSpecs(t, objs) {
		for _, c := range append(append([]corev1.Container{}, p.spec.InitContainers...), p.spec.Containers...) {
			extra := "--extra-" + p.component
			if c.Name == "flags-init" { // flags init takes other flags than subs ensure
				extra = "--extra-flags-init"
			}
			if !contains(c.Args, extra) {
				t.Errorf("%s container %s lacks its extraArgs: %v", p.object, c.Name, c.Args)
			}
			if e := envVar(c.Env, "EXTRA_"+strings.ToUpper(strings.ReplaceAll(p.component, "-", "_"))); e == nil || e.Value != "1" {
				t.Errorf("%s container %s lacks its extraEnv", p.object, c.Name)
			}
			if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != "env-"+p.component {
				t.Errorf("%s container %s envFrom = %+v", p.object, c.Name, c.EnvFrom)
			}
			if !contains(c.Args, "--nats=tls://nats:4222") || !contains(c.Args, "--nats-tls-ca=/var/run/switchyard/nats-tls/ca.crt") {
				t.Errorf("%s container %s does not connect to NATS as configured: %v", p.object, c.Name, c.Args)
			}
		}
	}

	// The hook uses its own NATS credentials, the workers the shared ones.
	var ensure batchv1.Job
	decodeInto(t, find(objs, "Job", "sy-switchyard-ensure"), &ensure)
	if v := volume(ensure.Spec.Template.Spec.Volumes, "nats-creds"); v == nil || v.Secret.SecretName != "nats-admin-creds" {
		t.Errorf("the ensure Job's creds volume = %+v, want ensure.nats.credsSecret", v)
	}
	var worker appsv1.Deployment
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-worker-target"), &worker)
	if v := volume(worker.Spec.Template.Spec.Volumes, "nats-creds"); v == nil || v.Secret.SecretName != "nats-creds" {
		t.Errorf("the workers' creds volume = %+v, want nats.credsSecret", v)
	}
	if !contains(worker.Spec.Template.Spec.Containers[0].Args, "--nats-creds=/var/run/switchyard/nats/nats.creds") {
		t.Errorf("worker args lack the creds file: %v", worker.Spec.Template.Spec.Containers[0].Args)
	}

	// The read API: its own Deployment and Service, tokens from a Secret.
	var api appsv1.Deployment
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-read-api"), &api)
	apiPod := api.Spec.Template.Spec
	if !contains(apiPod.Containers[0].Args, "--access-file=/var/run/switchyard/read-api/access.json") {
		t.Errorf("read-api args = %v", apiPod.Containers[0].Args)
	}
	if v := volume(apiPod.Volumes, "tokens"); v == nil || v.Secret.SecretName != "read-api-tokens" {
		t.Errorf("read-api tokens volume = %+v", v)
	}
	for _, name := range []string{"SWITCHYARD_LEGACY", "SWITCHYARD_TARGET"} {
		if e := envVar(apiPod.Containers[0].Env, name); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("read-api %s must come from a Secret, got %+v", name, e)
		}
	}
	if find(objs, "Service", "sy-switchyard-read-api") == nil {
		t.Error("no read-api Service")
	}

	// The console behind the Ingress: TLS there, Secure cookies, the
	// ingress controller trusted as proxy.
	var cons appsv1.Deployment
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-console"), &cons)
	args := cons.Spec.Template.Spec.Containers[0].Args
	if !contains(args, "--trusted-proxy=10.42.0.0/16") || contains(args, "--insecure-cookies") || !contains(args, "--verify-entities=task,project") {
		t.Errorf("console args = %v", args)
	}
	for _, name := range []string{"SWITCHYARD_LEGACY", "SWITCHYARD_TARGET"} {
		if e := envVar(cons.Spec.Template.Spec.Containers[0].Env, name); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("the console's %s for per-client verifies must come from a Secret, got %+v", name, e)
		}
	}
	var ing networkingv1.Ingress
	decodeInto(t, find(objs, "Ingress", "sy-switchyard-console"), &ing)
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "console-tls" {
		t.Errorf("ingress TLS = %+v", ing.Spec.TLS)
	}

	// Prometheus scrapes what serves /metrics and nothing else.
	var sm serviceMonitor
	decodeInto(t, find(objs, "ServiceMonitor", "sy-switchyard"), &sm)
	sel := sm.Spec.Selector.MatchLabels
	scraped := map[string]bool{}
	for _, o := range objs {
		if o["kind"] != "Service" {
			continue
		}
		var svc corev1.Service
		decodeInto(t, o, &svc)
		if matches(sel, svc.Labels) {
			scraped[svc.Labels["app.kubernetes.io/component"]] = true
		}
	}
	for _, c := range []string{"worker", "read-api", "backfill", "verify"} {
		if !scraped[c] {
			t.Errorf("the ServiceMonitor does not select the %s Service", c)
		}
	}
	if scraped["console"] {
		t.Error("the ServiceMonitor selects the console, which serves no /metrics")
	}

	// The PrometheusRule carries exactly the shipped alert rules.
	var rule prometheusRule
	decodeInto(t, find(objs, "PrometheusRule", "sy-switchyard"), &rule)
	shipped := loadAlertRules(t)
	gotJS, _ := yaml.Marshal(rule.Spec)
	wantJS, _ := yaml.Marshal(shipped)
	if string(gotJS) != string(wantJS) {
		t.Errorf("the PrometheusRule differs from deploy/prometheus/alerts.yaml:\n%s\nwant\n%s", gotJS, wantJS)
	}
}

// allOptions enables every component and sets every per-component option,
// with markers the tests look for.
const allOptions = `
nats:
  url: tls://nats:4222
  credsSecret: nats-creds
  tlsSecret: nats-tls
  tokenSecret: nats-token
ensure:
  nats: {credsSecret: nats-admin-creds}
  flagsInit: {extraArgs: [--extra-flags-init]}
  extraArgs: [--extra-ensure]
  extraEnv: [{name: EXTRA_ENSURE, value: "1"}]
  envFrom: [{configMapRef: {name: env-ensure}}]
subscriptions:
  - name: target
    role: target
    start: new
    filters: [events.task.>]
    sinkSecret: {name: target-dsn, key: dsn}
    replicas: 3
    batchSize: 1000
    concurrency: 4
    resources: {}
    autoscaling: {mode: hpa, minReplicas: 3, maxReplicas: 9, lagThreshold: 500, targetCPUUtilizationPercentage: 60}
    extraArgs: [--extra-worker]
    extraEnv: [{name: EXTRA_WORKER, value: "1"}]
    envFrom: [{configMapRef: {name: env-worker}}]
metrics:
  serviceMonitor: {enabled: true, interval: 30s, labels: {release: prom}}
  prometheusRule: {enabled: true, labels: {release: prom}}
backfill:
  enabled: true
  parallelism: 4
  entities: [task, project]
  extraArgs: [--extra-backfill]
  extraEnv: [{name: EXTRA_BACKFILL, value: "1"}]
  envFrom: [{configMapRef: {name: env-backfill}}]
verify:
  enabled: true
  schedule: "30 2 * * *"
  entities: [task]
  extraArgs: [--extra-verify]
  extraEnv: [{name: EXTRA_VERIFY, value: "1"}]
  envFrom: [{configMapRef: {name: env-verify}}]
readApi:
  enabled: true
  tokensSecret: read-api-tokens
  extraArgs: [--extra-read-api]
  extraEnv: [{name: EXTRA_READ_API, value: "1"}]
  envFrom: [{configMapRef: {name: env-read-api}}]
console:
  trustedProxies: [10.42.0.0/16]
  clientVerify: {entities: [task, project]}
  ingress: {enabled: true, className: nginx, host: console.example.com, tlsSecret: console-tls}
  extraArgs: [--extra-console]
  extraEnv: [{name: EXTRA_CONSOLE, value: "1"}]
  envFrom: [{configMapRef: {name: env-console}}]
`

// TestChartConsoleBehindAnIngressAgrees checks that the console's proxy
// trust, cookies and the Ingress's TLS agree: by default an Ingress
// terminates TLS and its controller is trusted; plain HTTP with Secure
// cookies, which browsers would drop, is refused.
func TestChartConsoleBehindAnIngressAgrees(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, "console:\n  ingress: {enabled: true}\n")
	var ing networkingv1.Ingress
	decodeInto(t, find(objs, "Ingress", "sy-switchyard-console"), &ing)
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "sy-switchyard-console-tls" {
		t.Errorf("the Ingress must terminate TLS by default: %+v", ing.Spec.TLS)
	}
	var cons appsv1.Deployment
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-console"), &cons)
	args := cons.Spec.Template.Spec.Containers[0].Args
	if !hasPrefix(args, "--trusted-proxy=") || contains(args, "--insecure-cookies") {
		t.Errorf("behind an Ingress the console must trust its proxy and keep Secure cookies: %v", args)
	}

	out, err := renderRaw(t, helm, "console:\n  ingress: {enabled: true, tls: false}\n")
	if err == nil || !strings.Contains(out, "console.insecureCookies") {
		t.Errorf("an Ingress without TLS and Secure cookies rendered (err %v):\n%s", err, out)
	}
	objs = render(t, helm, "console:\n  insecureCookies: true\n  ingress: {enabled: true, tls: false}\n")
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-console"), &cons)
	if !contains(cons.Spec.Template.Spec.Containers[0].Args, "--insecure-cookies") {
		t.Error("console.insecureCookies does not reach the console")
	}
}

func TestChartRefusesIncompleteComponents(t *testing.T) {
	helm := helmBinary(t)
	for _, tc := range []struct{ values, want string }{
		{"backfill: {enabled: true}", "backfill.entities must name at least one entity"},
		{"verify: {enabled: true}", "verify.entities must name at least one entity"},
		{"readApi: {enabled: true}", "readApi.tokensSecret must name a Secret"},
	} {
		out, err := renderRaw(t, helm, tc.values)
		if err == nil {
			t.Errorf("values %q rendered", tc.values)
		} else if !strings.Contains(out, tc.want) {
			t.Errorf("values %q: the error does not say %q:\n%s", tc.values, tc.want, out)
		}
	}
}

// TestChartDefaultImageIsWhatTheBuildProduces checks that the image the
// chart runs by default is exactly the tag of the documented build command.
func TestChartDefaultImageIsWhatTheBuildProduces(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, "")
	var worker appsv1.Deployment
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-worker-target"), &worker)
	image := worker.Spec.Template.Spec.Containers[0].Image

	docs, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	build := regexp.MustCompile(`(?s)docker build -f deploy/Dockerfile.*?-t (\S+) \.`).FindStringSubmatch(string(docs))
	if build == nil {
		t.Fatal("docs/deploy.md has no `docker build -f deploy/Dockerfile … -t IMAGE .` command")
	}
	if build[1] != image {
		t.Errorf("the documented build tags %s, the chart runs %s", build[1], image)
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "-t "+image+" .") {
		t.Errorf("the Dockerfile's header does not show the build of %s", image)
	}
}

func TestChartLint(t *testing.T) {
	helm := helmBinary(t)
	all := filepath.Join(t.TempDir(), "all.yaml")
	if err := os.WriteFile(all, []byte(allOptions), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"lint", "--strict", chartDir}, {"lint", "--strict", chartDir, "-f", all}} {
		out, err := exec.Command(helm, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func envVar(env []corev1.EnvVar, name string) *corev1.EnvVar {
	for i := range env {
		if env[i].Name == name {
			return &env[i]
		}
	}
	return nil
}

func volume(vols []corev1.Volume, name string) *corev1.Volume {
	for i := range vols {
		if vols[i].Name == name {
			return &vols[i]
		}
	}
	return nil
}

func hasPrefix(list []string, prefix string) bool {
	for _, v := range list {
		if strings.HasPrefix(v, prefix) {
			return true
		}
	}
	return false
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// renderNotes renders NOTES.txt (which helm template does not print) by
// wrapping it into a ConfigMap of a copy of the chart.
func renderNotes(t *testing.T, helm string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("cp", "-rL", chartDir, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the chart: %v\n%s", err, out)
	}
	notes, err := os.ReadFile(filepath.Join(chartDir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	wrapper := "{{- define \"test.notes\" }}" + string(notes) + "{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ include \"test.notes\" . | quote }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "zz-notes.yaml"), []byte(wrapper), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(helm, append([]string{"template", "sy", dir, "--namespace", "migration", "--show-only", "templates/zz-notes.yaml"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("render NOTES.txt: %v\n%s", err, out)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data["notes"]
}

// TestChartNotesSayWhatWasInstalledAndWhatNext checks NOTES.txt on a plain
// cluster and with KEDA.
func TestChartNotesSayWhatWasInstalledAndWhatNext(t *testing.T) {
	helm := helmBinary(t)
	plain := renderNotes(t, helm)
	for _, want := range []string{"subs ensure", "flags init", "sy-switchyard-worker-target", "HPA on CPU", "KEDA's API was not found", "What to do next", "logs job/sy-switchyard-ensure", "port-forward svc/sy-switchyard-console", "docs/runbook.md"} {
		if !strings.Contains(plain, want) {
			t.Errorf("NOTES on a plain cluster lack %q:\n%s", want, plain)
		}
	}
	keda := renderNotes(t, helm, "--api-versions", "keda.sh/v1alpha1", "--set", "console.ingress.enabled=true")
	for _, want := range []string{"scaled by KEDA on consumer lag", "https://switchyard.example.com/", "console.trustedProxies"} {
		if !strings.Contains(keda, want) {
			t.Errorf("NOTES with KEDA and an Ingress lack %q:\n%s", want, keda)
		}
	}
}

// TestChartMinimalSubscription renders a subscription given only the
// values the schema requires: the commands' own defaults apply.
func TestChartMinimalSubscription(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, `
subscriptions:
  - {name: orders, role: target, start: all, sinkSecret: {name: dsn, key: dsn}, autoscaling: {mode: none, minReplicas: 1, maxReplicas: 1}}
`)
	var d appsv1.Deployment
	obj := find(objs, "Deployment", "sy-switchyard-worker-orders")
	if obj == nil {
		t.Fatal("no worker Deployment")
	}
	decodeInto(t, obj, &d)
	args := d.Spec.Template.Spec.Containers[0].Args
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || hasPrefix(args, "--batch-size") || hasPrefix(args, "--concurrency") {
		t.Errorf("replicas %v, args %v", d.Spec.Replicas, args)
	}
	if out, err := renderRaw(t, helm, "subscriptions:\n  - {name: orders, role: target, sinkSecret: {name: dsn, key: dsn}, autoscaling: {mode: none, minReplicas: 1, maxReplicas: 1}}\n"); err == nil || !strings.Contains(out, "start") {
		t.Errorf("a subscription without a start position rendered (err %v): %s", err, out)
	}
}
