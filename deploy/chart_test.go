package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "helm/switchyard"

// helmBinary finds the real helm binary: $SWITCHYARD_HELM, then PATH, then
// $GOPATH/bin (where .ci/run installs it). Without one the test fails when
// SWITCHYARD_REQUIRE_HELM=1 (CI) and skips with a message otherwise.
func helmBinary(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("SWITCHYARD_HELM")}
	if p, err := exec.LookPath("helm"); err == nil {
		candidates = append(candidates, p)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		candidates = append(candidates, filepath.Join(strings.TrimSpace(string(out)), "bin", "helm"))
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	if os.Getenv("SWITCHYARD_REQUIRE_HELM") == "1" {
		t.Fatal("helm is required (SWITCHYARD_REQUIRE_HELM=1) but was not found; .ci/run installs it with go install helm.sh/helm/v3/cmd/helm")
	}
	t.Skip("SKIP: helm binary not found (set SWITCHYARD_HELM or install helm.sh/helm/v3/cmd/helm); chart tests did not run")
	return ""
}

// render runs helm template with the given values and returns the objects.
func render(t *testing.T, helm string, values string) []map[string]any {
	t.Helper()
	vf := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(vf, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(helm, "template", "sy", chartDir, "--namespace", "migration", "-f", vf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	var objs []map[string]any
	for _, doc := range strings.Split(string(out), "\n---") {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("rendered document is not YAML: %v\n%s", err, doc)
		}
		if obj == nil {
			continue
		}
		strictDecode(t, doc, obj)
		objs = append(objs, obj)
	}
	return objs
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// strictDecode decodes a rendered object into its Kubernetes API type (or,
// for the KEDA and Prometheus Operator custom resources, into types that
// mirror their CRD schemas), rejecting any field the type does not have.
func strictDecode(t *testing.T, doc string, obj map[string]any) {
	t.Helper()
	key := fmt.Sprintf("%v/%v", obj["apiVersion"], obj["kind"])
	var target any
	switch key {
	case "apps/v1/Deployment":
		target = &appsv1.Deployment{}
	case "batch/v1/Job":
		target = &batchv1.Job{}
	case "policy/v1/PodDisruptionBudget":
		target = &policyv1.PodDisruptionBudget{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		target = &autoscalingv2.HorizontalPodAutoscaler{}
	case "v1/Service":
		target = &corev1.Service{}
	case "v1/ConfigMap":
		target = &corev1.ConfigMap{}
	case "v1/ServiceAccount":
		target = &corev1.ServiceAccount{}
	case "networking.k8s.io/v1/Ingress":
		target = &networkingv1.Ingress{}
	case "keda.sh/v1alpha1/ScaledObject":
		target = &scaledObject{}
	case "monitoring.coreos.com/v1/ServiceMonitor":
		target = &serviceMonitor{}
	default:
		t.Fatalf("rendered an object of unexpected type %s", key)
	}
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		t.Fatalf("%s %v does not match the API type: %v\n%s", key, name(obj), err, doc)
	}
}

func name(obj map[string]any) any {
	if md, ok := obj["metadata"].(map[string]any); ok {
		return md["name"]
	}
	return nil
}

func find(objs []map[string]any, kind, objName string) map[string]any {
	for _, o := range objs {
		if o["kind"] == kind && name(o) == objName {
			return o
		}
	}
	return nil
}

func decodeInto(t *testing.T, obj map[string]any, target any) {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, target); err != nil {
		t.Fatal(err)
	}
}

func TestChartDefaults(t *testing.T) {
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
	if !contains(c.Args, "--grace=25s") || !contains(c.Args, "--consumer=target") || c.Args[0] != "worker" {
		t.Errorf("worker args = %v", c.Args)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("worker probes = %+v / %+v", c.LivenessProbe, c.ReadinessProbe)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("worker pods must run as non-root")
	}
	if target.Spec.Replicas != nil {
		t.Error("a KEDA-scaled Deployment must leave replicas to the autoscaler")
	}
	var sink *corev1.EnvVar
	for i := range c.Env {
		if c.Env[i].Name == "SWITCHYARD_SINK" {
			sink = &c.Env[i]
		}
	}
	if sink == nil || sink.ValueFrom == nil || sink.ValueFrom.SecretKeyRef == nil {
		t.Errorf("the sink DSN must come from a Secret reference, got %+v", sink)
	}

	var legacy appsv1.Deployment
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-worker-legacy"), &legacy)
	if legacy.Spec.Replicas == nil || *legacy.Spec.Replicas != 2 {
		t.Errorf("legacy replicas = %v, want 2", legacy.Spec.Replicas)
	}
	if find(objs, "PodDisruptionBudget", "sy-switchyard-worker-target") == nil {
		t.Error("no PodDisruptionBudget for the target workers")
	}
	so := find(objs, "ScaledObject", "sy-switchyard-worker-target")
	if so == nil {
		t.Fatal("no KEDA ScaledObject for the target workers")
	}
	var scaled scaledObject
	decodeInto(t, so, &scaled)
	if tr := scaled.Spec.Triggers[0]; tr.Type != "nats-jetstream" || tr.Metadata["consumer"] != "target" || tr.Metadata["stream"] != "EVENTS" {
		t.Errorf("scaler trigger = %+v", tr)
	}
	if find(objs, "HorizontalPodAutoscaler", "sy-switchyard-worker-target") != nil {
		t.Error("an HPA must not compete with the KEDA ScaledObject")
	}
	if find(objs, "Deployment", "sy-switchyard-console") == nil || find(objs, "Service", "sy-switchyard-console") == nil {
		t.Error("no console Deployment and Service")
	}
	if find(objs, "Job", "sy-switchyard-backfill") != nil {
		t.Error("the backfill Job must be off by default")
	}
}

func TestChartOptions(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, `
subscriptions:
  - name: target
    role: target
    sinkSecret: {name: target-dsn, key: dsn}
    replicas: 3
    batchSize: 1000
    concurrency: 4
    resources: {}
    autoscaling: {mode: hpa, minReplicas: 3, maxReplicas: 9, lagThreshold: 500, targetCPUUtilizationPercentage: 60}
nats:
  url: tls://nats:4222
  credsSecret: nats-creds
  tlsSecret: nats-tls
  monitoringEndpoint: nats:8222
  account: "$G"
metrics:
  port: 9090
  serviceMonitor: {enabled: true, interval: 30s, labels: {release: prom}}
backfill:
  enabled: true
  parallelism: 4
  backoffLimit: 3
  entities: [task, project]
  sourceSecret: {name: legacy-dsn, key: dsn}
  targetSecret: {name: target-dsn, key: dsn}
  targetConsumer: target
  legacyConsumer: legacy
  chunk: 2000
  maxRate: 5000
  resources: {}
console:
  enabled: true
  replicas: 2
  usersSecret: users
  port: 8080
  service: {type: ClusterIP, port: 80}
  ingress: {enabled: true, className: nginx, host: console.example.com, annotations: {}, tlsSecret: console-tls}
  resources: {}
`)
	var hpa autoscalingv2.HorizontalPodAutoscaler
	obj := find(objs, "HorizontalPodAutoscaler", "sy-switchyard-worker-target")
	if obj == nil {
		t.Fatal("autoscaling.mode=hpa rendered no HorizontalPodAutoscaler")
	}
	decodeInto(t, obj, &hpa)
	if hpa.Spec.MaxReplicas != 9 {
		t.Errorf("HPA maxReplicas = %d", hpa.Spec.MaxReplicas)
	}
	var job batchv1.Job
	decodeInto(t, find(objs, "Job", "sy-switchyard-backfill"), &job)
	if *job.Spec.Parallelism != 4 || !contains(job.Spec.Template.Spec.Containers[0].Args, "--entities=task,project") {
		t.Errorf("backfill job: parallelism %d, args %v", *job.Spec.Parallelism, job.Spec.Template.Spec.Containers[0].Args)
	}
	if find(objs, "ServiceMonitor", "sy-switchyard") == nil {
		t.Error("serviceMonitor.enabled rendered no ServiceMonitor")
	}
	var ing networkingv1.Ingress
	decodeInto(t, find(objs, "Ingress", "sy-switchyard-console"), &ing)
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "console-tls" {
		t.Errorf("ingress TLS = %+v", ing.Spec.TLS)
	}
	var worker appsv1.Deployment
	decodeInto(t, find(objs, "Deployment", "sy-switchyard-worker-target"), &worker)
	envs := map[string]bool{}
	for _, e := range worker.Spec.Template.Spec.Containers[0].Env {
		envs[e.Name] = true
	}
	for _, want := range []string{"SWITCHYARD_NATS_CREDS", "SWITCHYARD_NATS_TLS_CA", "SWITCHYARD_NATS_TLS_CERT", "SWITCHYARD_NATS_TLS_KEY"} {
		if !envs[want] {
			t.Errorf("worker env lacks %s", want)
		}
	}
}

func TestChartRefusesBackfillWithoutEntities(t *testing.T) {
	helm := helmBinary(t)
	cmd := exec.Command(helm, "template", "sy", chartDir, "--set", "backfill.enabled=true")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("rendering a backfill without entities succeeded")
	}
	if !bytes.Contains(out, []byte("backfill.entities must name at least one entity")) {
		t.Errorf("the error does not name the missing value: %s", out)
	}
}

func TestChartLint(t *testing.T) {
	helm := helmBinary(t)
	out, err := exec.Command(helm, "lint", "--strict", chartDir).CombinedOutput()
	if err != nil {
		t.Fatalf("helm lint --strict: %v\n%s", err, out)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// scaledObject mirrors the fields of KEDA's ScaledObject (keda.sh/v1alpha1)
// that the chart uses; strict decoding rejects anything else.
type scaledObject struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		PollingInterval *int32 `json:"pollingInterval"`
		CooldownPeriod  *int32 `json:"cooldownPeriod"`
		Fallback        *struct {
			FailureThreshold int32 `json:"failureThreshold"`
			Replicas         int32 `json:"replicas"`
		} `json:"fallback"`
		Advanced *struct {
			HorizontalPodAutoscalerConfig *struct {
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior"`
			} `json:"horizontalPodAutoscalerConfig"`
		} `json:"advanced"`
		Triggers []struct {
			Type     string            `json:"type"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// serviceMonitor mirrors the fields of the Prometheus Operator's
// ServiceMonitor (monitoring.coreos.com/v1) that the chart uses.
type serviceMonitor struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}
