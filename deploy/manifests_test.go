// Package deploy_test checks the deployment files against the code: the
// Kubernetes manifests decode strictly into k8s.io/api types and hang
// together, and every metric the dashboards and alerts name is served.
// No cluster or container engine runs here; these tests stand in for
// `kubectl apply --dry-run=server`.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/httpapi"
)

type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

type manifests struct {
	deployments map[string]*appsv1.Deployment
	services    []*corev1.Service
	pdbs        []*policyv1.PodDisruptionBudget
	jobs        []*batchv1.Job
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
}

// load decodes every resource the kustomization lists, strictly: an
// unknown or misspelt field fails, as the API server's strict field
// validation would.
func load(t *testing.T) manifests {
	t.Helper()
	dir := "kubernetes"
	var k kustomization
	strict(t, filepath.Join(dir, "kustomization.yaml"), &k)
	if k.Kind != "Kustomization" || len(k.Resources) == 0 {
		t.Fatalf("kustomization: kind %q, %d resources", k.Kind, len(k.Resources))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && !slices.Contains(k.Resources, b) {
			t.Errorf("%s is not listed in kustomization.yaml", b)
		}
	}
	m := manifests{deployments: map[string]*appsv1.Deployment{}, configMaps: map[string]*corev1.ConfigMap{},
		secrets: map[string]*corev1.Secret{}}
	for _, r := range k.Resources {
		path := filepath.Join(dir, r)
		var head struct {
			Kind string `json:"kind"`
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &head); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		switch head.Kind {
		case "Deployment":
			var d appsv1.Deployment
			strict(t, path, &d)
			m.deployments[d.Name] = &d
		case "Service":
			var s corev1.Service
			strict(t, path, &s)
			m.services = append(m.services, &s)
		case "PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			strict(t, path, &p)
			m.pdbs = append(m.pdbs, &p)
		case "Job":
			var j batchv1.Job
			strict(t, path, &j)
			m.jobs = append(m.jobs, &j)
		case "ConfigMap":
			var c corev1.ConfigMap
			strict(t, path, &c)
			m.configMaps[c.Name] = &c
		case "Secret":
			var s corev1.Secret
			strict(t, path, &s)
			m.secrets[s.Name] = &s
		default:
			t.Errorf("%s: kind %q is not checked by this test", r, head.Kind)
		}
	}
	return m
}

func strict(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("\n---")) > 0 {
		t.Fatalf("%s: one document per file, please", path)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// envNames are the variables the binaries read, from the help they print.
func envNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\bGOMEMLIMIT\b`).FindAllString(app.EnvHelp, -1) {
		names[m] = true
	}
	if len(names) < 20 {
		t.Fatalf("found only %d variable names in app.EnvHelp", len(names))
	}
	return names
}

func TestKubernetesManifestsHangTogether(t *testing.T) {
	m := load(t)
	env := envNames(t)
	apiPaths := map[string]bool{}
	for _, r := range httpapi.New(httpapi.Config{}).Routes() {
		if p, ok := strings.CutPrefix(r, "GET "); ok {
			apiPaths[p] = true
		}
	}
	served := map[string]map[string]bool{"api": apiPaths, "worker": {}}
	for _, p := range app.WorkerPaths {
		served["worker"][p] = true
	}
	for _, name := range []string{"audit-sentinel-config"} {
		cm := m.configMaps[name]
		if cm == nil {
			t.Fatalf("configmap %s missing", name)
		}
		for k := range cm.Data {
			if !env[k] {
				t.Errorf("configmap %s sets %s, which no binary reads", name, k)
			}
		}
	}
	for name, s := range m.secrets {
		for k := range s.StringData {
			if !env[k] {
				t.Errorf("secret %s sets %s, which no binary reads", name, k)
			}
		}
	}
	for _, want := range []string{"api", "worker"} {
		d := m.deployments["audit-sentinel-"+want]
		if d == nil {
			t.Fatalf("deployment audit-sentinel-%s missing", want)
		}
		t.Run(want, func(t *testing.T) {
			checkPod(t, want, d.Spec.Template.Spec, d.Spec.Template.Labels, d.Spec.Template.Annotations, env, served[want], m)
			sel := d.Spec.Selector.MatchLabels
			if !subset(sel, d.Spec.Template.Labels) || len(sel) == 0 {
				t.Errorf("selector %v does not match the pod labels %v", sel, d.Spec.Template.Labels)
			}
			covered := false
			for _, p := range m.pdbs {
				if p.Spec.Selector != nil && subset(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
					covered = true
				}
			}
			if !covered {
				t.Errorf("no PodDisruptionBudget selects the %s pods", want)
			}
			c := d.Spec.Template.Spec.Containers[0]
			if want == "worker" {
				if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g < 40 {
					t.Errorf("worker terminationGracePeriodSeconds %v: a running export gets 25 s and webhooks 10 s to hand back", g)
				}
				if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "METRICS_ADDR" }) {
					t.Error("the worker has no METRICS_ADDR: nothing would serve its probes and metrics")
				}
				// Measured peak ~88 MiB; the soft limit is 200 MiB at concurrency 4.
				if lim := c.Resources.Limits.Memory().Value(); lim < 256<<20 {
					t.Errorf("worker memory limit %d below the soft memory limit the worker sets", lim)
				}
				if req := c.Resources.Requests.Memory().Value(); req < 100<<20 {
					t.Errorf("worker memory request %d below the measured ~90 MiB peak", req)
				}
			}
		})
	}
	// The service reaches the api pods on a port they declare.
	for _, s := range m.services {
		api := m.deployments["audit-sentinel-api"]
		if !subset(s.Spec.Selector, api.Spec.Template.Labels) {
			t.Errorf("service %s selects %v, not the api pods", s.Name, s.Spec.Selector)
		}
		for _, p := range s.Spec.Ports {
			if _, ok := containerPort(api.Spec.Template.Spec.Containers[0], p.TargetPort); !ok {
				t.Errorf("service %s targets port %s the api does not declare", s.Name, p.TargetPort.String())
			}
		}
	}
	if len(m.jobs) != 1 || !slices.Equal(m.jobs[0].Spec.Template.Spec.Containers[0].Command, []string{"sentinelctl", "migrate"}) {
		t.Errorf("want one migration Job running sentinelctl migrate")
	}
	for _, j := range m.jobs {
		checkSecurity(t, j.Name, j.Spec.Template.Spec)
		checkEnvFrom(t, j.Name, j.Spec.Template.Spec.Containers[0], m)
	}
}

func checkPod(t *testing.T, role string, spec corev1.PodSpec, labels, annotations map[string]string,
	env, served map[string]bool, m manifests) {
	t.Helper()
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	if !slices.Equal(c.Command, []string{role}) {
		t.Errorf("command %v, want [%s]", c.Command, role)
	}
	for _, e := range c.Env {
		if !env[e.Name] {
			t.Errorf("env %s is not read by the binaries", e.Name)
		}
	}
	checkEnvFrom(t, role, c, m)
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe missing or not HTTP", name)
			continue
		}
		if !served[p.HTTPGet.Path] {
			t.Errorf("%s probe on %s, which the %s does not serve (%v)", name, p.HTTPGet.Path, role, served)
		}
		if _, ok := containerPort(c, p.HTTPGet.Port); !ok {
			t.Errorf("%s probe on port %s the container does not declare", name, p.HTTPGet.Port.String())
		}
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}
	if annotations["prometheus.io/scrape"] != "true" || !served[annotations["prometheus.io/path"]] {
		t.Errorf("scrape annotations %v: want scrape=true on a served path", annotations)
	}
	port := intstr.Parse(annotations["prometheus.io/port"])
	if _, ok := containerPort(c, port); !ok {
		t.Errorf("scrape port %s is not a container port", port.String())
	}
	checkSecurity(t, role, spec)
	_ = labels
}

func checkEnvFrom(t *testing.T, who string, c corev1.Container, m manifests) {
	t.Helper()
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil && m.configMaps[ef.ConfigMapRef.Name] == nil:
			t.Errorf("%s: envFrom configmap %s is not in the base", who, ef.ConfigMapRef.Name)
		case ef.SecretRef != nil && m.secrets[ef.SecretRef.Name] == nil:
			t.Errorf("%s: envFrom secret %s is not in the base", who, ef.SecretRef.Name)
		}
	}
}

func checkSecurity(t *testing.T, who string, spec corev1.PodSpec) {
	t.Helper()
	ps := spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 {
		t.Errorf("%s: pod must run as a non-root user (the image's uid 10001)", who)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s/%s: want a read-only root, no privilege escalation, all capabilities dropped", who, c.Name)
		}
	}
}

func containerPort(c corev1.Container, p intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp, true
		}
	}
	return corev1.ContainerPort{}, false
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestDashboardsAndAlertsNameServedMetrics: every sentinel_* metric the
// Grafana dashboard and the alert rules query is one the binaries serve.
func TestDashboardsAndAlertsNameServedMetrics(t *testing.T) {
	served := map[string]bool{}
	for _, n := range app.MetricNames() {
		served[n] = true
	}
	if !served["sentinel_exports_completed_total"] || !served["sentinel_http_requests_total"] {
		t.Fatalf("MetricNames misses the basics: %v", app.MetricNames())
	}
	name := regexp.MustCompile(`\bsentinel_[a-z0-9_]+`)
	for _, f := range []string{"grafana/sentinel-dashboard.json", "grafana/alerts.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".json") && !json.Valid(b) {
			t.Errorf("%s is not valid JSON", f)
		}
		if strings.HasSuffix(f, ".yaml") {
			var rules struct {
				Groups []struct {
					Name  string `json:"name"`
					Rules []struct {
						Alert       string            `json:"alert"`
						Expr        string            `json:"expr"`
						For         string            `json:"for"`
						Labels      map[string]string `json:"labels"`
						Annotations map[string]string `json:"annotations"`
					} `json:"rules"`
				} `json:"groups"`
			}
			if err := yaml.UnmarshalStrict(b, &rules); err != nil || len(rules.Groups) == 0 {
				t.Errorf("%s: %v (%d groups)", f, err, len(rules.Groups))
			}
		}
		found := name.FindAllString(string(b), -1)
		if len(found) < 5 {
			t.Errorf("%s names only %d metrics", f, len(found))
		}
		for _, n := range found {
			base := n
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(n, suf); ok && served[b] {
					base = b
				}
			}
			if !served[base] {
				t.Errorf("%s names %s, which no binary serves", f, n)
			}
		}
	}
}
