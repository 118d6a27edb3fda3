package deploy

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// renderedPod is one pod template of a rendered object.
type renderedPod struct {
	object    string // kind/name
	component string // app.kubernetes.io/component
	spec      corev1.PodSpec
}

// podSpecs returns the pod template of every rendered Deployment, Job and
// CronJob; it fails on any other object that carries pods.
func podSpecs(t *testing.T, objs []map[string]any) []renderedPod {
	t.Helper()
	var out []renderedPod
	for _, o := range objs {
		id := o["kind"].(string) + "/" + name(o).(string)
		var tmpl corev1.PodTemplateSpec
		switch o["kind"] {
		case "Deployment":
			var d appsv1.Deployment
			decodeInto(t, o, &d)
			tmpl = d.Spec.Template
		case "Job":
			var j batchv1.Job
			decodeInto(t, o, &j)
			tmpl = j.Spec.Template
		case "CronJob":
			var c batchv1.CronJob
			decodeInto(t, o, &c)
			tmpl = c.Spec.JobTemplate.Spec.Template
		case "Pod", "StatefulSet", "DaemonSet", "ReplicaSet":
			t.Fatalf("%s: the pod security check does not know this kind", id)
		default:
			continue
		}
		out = append(out, renderedPod{object: id, component: tmpl.Labels["app.kubernetes.io/component"], spec: tmpl.Spec})
	}
	return out
}

// restrictedViolations lists what in pod breaks the restricted Pod
// Security Standard (Kubernetes' "restricted" profile, latest version),
// plus the read-only root filesystem the chart promises.
func restrictedViolations(pod corev1.PodSpec) []string {
	var v []string
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		v = append(v, "host namespaces")
	}
	for _, vol := range pod.Volumes {
		src := vol.VolumeSource
		if src.ConfigMap == nil && src.Secret == nil && src.EmptyDir == nil && src.Projected == nil &&
			src.DownwardAPI == nil && src.PersistentVolumeClaim == nil && src.CSI == nil && src.Ephemeral == nil {
			v = append(v, "volume "+vol.Name+" of a type restricted pods may not use")
		}
	}
	psc := pod.SecurityContext
	podNonRoot := psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
	podSeccomp := psc != nil && psc.SeccompProfile != nil && (psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault || psc.SeccompProfile.Type == corev1.SeccompProfileTypeLocalhost)
	if psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		v = append(v, "pod runAsUser 0")
	}
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		sc := c.SecurityContext
		if sc == nil {
			v = append(v, c.Name+": no securityContext")
			continue
		}
		if sc.Privileged != nil && *sc.Privileged {
			v = append(v, c.Name+": privileged")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			v = append(v, c.Name+": allowPrivilegeEscalation is not false")
		}
		if !podNonRoot && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
			v = append(v, c.Name+": runAsNonRoot is not true")
		}
		if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
			v = append(v, c.Name+": runAsNonRoot false")
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			v = append(v, c.Name+": runAsUser 0")
		}
		if !podSeccomp && (sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault) {
			v = append(v, c.Name+": seccompProfile is not RuntimeDefault")
		}
		dropsAll := false
		if sc.Capabilities != nil {
			for _, d := range sc.Capabilities.Drop {
				dropsAll = dropsAll || d == "ALL"
			}
			for _, a := range sc.Capabilities.Add {
				if a != "NET_BIND_SERVICE" {
					v = append(v, c.Name+": adds capability "+string(a))
				}
			}
		}
		if !dropsAll {
			v = append(v, c.Name+": capabilities do not drop ALL")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			v = append(v, c.Name+": root filesystem is writable")
		}
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				v = append(v, c.Name+": hostPort")
			}
		}
	}
	return v
}

// TestChartPodsMeetRestrictedPodSecurity checks every pod the chart can
// render, with the defaults and with every component enabled.
func TestChartPodsMeetRestrictedPodSecurity(t *testing.T) {
	helm := helmBinary(t)
	seen := map[string]bool{}
	for _, values := range []string{"", allOptions} {
		for _, p := range podSpecs(t, render(t, helm, values, kedaAPI...)) {
			seen[p.component] = true
			for _, v := range restrictedViolations(p.spec) {
				t.Errorf("%s breaks the restricted Pod Security Standard: %s", p.object, v)
			}
		}
	}
	for _, c := range []string{"worker", "ensure", "console", "read-api", "backfill", "verify"} {
		if !seen[c] {
			t.Errorf("no %s pod was checked", c)
		}
	}
}

// TestRestrictedCheckCatchesViolations proves the check fails a pod that
// loosens what the chart sets.
func TestRestrictedCheckCatchesViolations(t *testing.T) {
	helm := helmBinary(t)
	objs := render(t, helm, "securityContext:\n  allowPrivilegeEscalation: true\n  readOnlyRootFilesystem: false\npodSecurityContext:\n  runAsNonRoot: false\n")
	for _, p := range podSpecs(t, objs) {
		if len(restrictedViolations(p.spec)) < 2 {
			t.Errorf("%s: the check missed loosened settings: %v", p.object, restrictedViolations(p.spec))
		}
	}
}
