package deploy

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// The read API is off by default; enabled, it reads its callers from a
// Secret and its DSNs from Secrets, and serves every interface of the pod
// explicitly.
func TestChartReadAPI(t *testing.T) {
	helm := helmBinary(t)
	if find(render(t, helm, ""), "Deployment", "sy-switchyard-read-api") != nil {
		t.Fatal("the read API is rendered although readApi.enabled is false")
	}
	objs := render(t, helm, "readApi:\n  enabled: true\n  accessSecret: my-read-callers\n")
	obj := find(objs, "Deployment", "sy-switchyard-read-api")
	if obj == nil || find(objs, "Service", "sy-switchyard-read-api") == nil {
		t.Fatal("no read API Deployment and Service")
	}
	var d appsv1.Deployment
	decodeInto(t, obj, &d)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if !slices.Contains(c.Args, "--access-file=/var/run/switchyard/read-api/access.json") || !slices.Contains(c.Args, "--listen=:8081") {
		t.Fatalf("read API args = %v", c.Args)
	}
	mounted := false
	for _, v := range pod.Volumes {
		mounted = mounted || v.Secret != nil && v.Secret.SecretName == "my-read-callers"
	}
	if !mounted {
		t.Fatalf("access Secret not mounted: %+v", pod.Volumes)
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "SWITCHYARD_LEGACY") || strings.HasPrefix(e.Name, "SWITCHYARD_TARGET") {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.Value != "" {
				t.Errorf("%s is not taken from a Secret: %+v", e.Name, e)
			}
		}
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe = %+v", c.ReadinessProbe)
	}
}
