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

// render runs helm template with the given values (validated against
// values.schema.json by helm itself) and extra helm arguments, and returns
// the objects, each strictly decoded into its API type.
func render(t *testing.T, helm string, values string, args ...string) []map[string]any {
	t.Helper()
	out, err := renderRaw(t, helm, values, args...)
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	var objs []map[string]any
	for _, doc := range strings.Split(out, "\n---") {
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

// renderRaw runs helm template and returns its output, or its error output
// with the error.
func renderRaw(t *testing.T, helm string, values string, args ...string) (string, error) {
	t.Helper()
	vf := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(vf, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(helm, append([]string{"template", "sy", chartDir, "--namespace", "migration", "-f", vf}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return stderr.String(), err
	}
	return string(out), nil
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
	case "batch/v1/CronJob":
		target = &batchv1.CronJob{}
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
	case "monitoring.coreos.com/v1/PrometheusRule":
		target = &prometheusRule{}
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

// prometheusRule mirrors the Prometheus Operator's PrometheusRule
// (monitoring.coreos.com/v1).
type prometheusRule struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       ruleFile       `json:"spec"`
}

// ruleFile is a Prometheus rule file: the PrometheusRule's spec and
// deploy/prometheus/alerts.yaml share it.
type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Rules    []struct {
			Alert       string            `json:"alert,omitempty"`
			Record      string            `json:"record,omitempty"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}
