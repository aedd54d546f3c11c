package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/sottohq/sotto/pkg/suite"
)

// Policy checks on what kustomize builds from each overlay. Each was seen
// failing with one manifest broken (see the commit that added it).

const namespace = "sotto"

func forEachOverlay(t *testing.T, fn func(t *testing.T, o *objects)) {
	for _, ov := range overlays {
		t.Run(ov, func(t *testing.T) { fn(t, build(t, ov)) })
	}
}

func TestEveryServiceDeployed(t *testing.T) {
	m := suite.MustLoad()
	forEachOverlay(t, func(t *testing.T, o *objects) {
		have := func(kind string, names []string, name string) {
			if !slices.Contains(names, name) {
				t.Errorf("%s has no %s", name, kind)
			}
		}
		var deps, svcs, sas, pdbs, hpas, nps []string
		for _, d := range o.Deployments {
			deps = append(deps, d.Name)
		}
		for _, s := range o.Services {
			svcs = append(svcs, s.Name)
		}
		for _, s := range o.ServiceAccounts {
			sas = append(sas, s.Name)
		}
		for _, p := range o.PDBs {
			pdbs = append(pdbs, p.Name)
		}
		for _, h := range o.HPAs {
			hpas = append(hpas, h.Name)
			if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != h.Name {
				t.Errorf("HPA %s scales %s/%s", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
			}
			if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
				t.Errorf("HPA %s: bad replica bounds", h.Name)
			}
		}
		for _, n := range o.NetworkPolicies {
			nps = append(nps, n.Name)
		}
		for _, s := range m.Services {
			have("Deployment", deps, s.Name)
			have("Service", svcs, s.Name)
			have("ServiceAccount", sas, s.Name)
			have("PodDisruptionBudget", pdbs, s.Name)
			have("NetworkPolicy", nps, s.Name)
			if elected[s.Name] {
				// One replica works, the others stand by: CPU says nothing
				// about how many are needed, and one would be no failover.
				if slices.Contains(hpas, s.Name) {
					t.Errorf("%s elects one active replica but has an autoscaler", s.Name)
				}
				d, _ := o.deployment(s.Name)
				if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
					t.Errorf("%s elects one active replica: want at least 2 (a hot standby, ADR 0017)", s.Name)
				}
			} else {
				have("HorizontalPodAutoscaler", hpas, s.Name)
			}
		}
		for _, d := range o.Deployments {
			if _, ok := m.Service(d.Name); !ok {
				t.Errorf("Deployment %s is not a service of the manifest", d.Name)
			}
			if d.Namespace != namespace {
				t.Errorf("Deployment %s is in namespace %q", d.Name, d.Namespace)
			}
		}
	})
}

// TestPodSecurityRestricted checks the Pod Security Standard "restricted"
// for every pod, and that the namespace enforces it too.
func TestPodSecurityRestricted(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, o *objects) {
		if len(o.Namespaces) != 1 || o.Namespaces[0].Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("namespace %s must enforce Pod Security restricted", namespace)
		}
		for _, d := range o.Deployments {
			p := d.Spec.Template.Spec
			sc := p.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s: no pod securityContext", d.Name)
				continue
			case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
				t.Errorf("%s: pod runAsNonRoot is not true", d.Name)
			case sc.RunAsUser == nil || *sc.RunAsUser == 0:
				t.Errorf("%s: pod runAsUser is root or unset", d.Name)
			case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
				t.Errorf("%s: seccompProfile is not RuntimeDefault", d.Name)
			}
			if p.HostNetwork || p.HostPID || p.HostIPC {
				t.Errorf("%s: shares a host namespace", d.Name)
			}
			if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
				t.Errorf("%s: mounts the Kubernetes API token (only the projected Vault token is needed)", d.Name)
			}
			for _, v := range p.Volumes {
				if v.HostPath != nil {
					t.Errorf("%s: hostPath volume %s", d.Name, v.Name)
				}
			}
			for _, c := range append(slices.Clone(p.InitContainers), p.Containers...) {
				cs := c.SecurityContext
				switch {
				case cs == nil:
					t.Errorf("%s/%s: no securityContext", d.Name, c.Name)
					continue
				case cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation:
					t.Errorf("%s/%s: allowPrivilegeEscalation is not false", d.Name, c.Name)
				case cs.Privileged != nil && *cs.Privileged:
					t.Errorf("%s/%s: privileged", d.Name, c.Name)
				case cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem:
					t.Errorf("%s/%s: root filesystem is writable", d.Name, c.Name)
				case cs.Capabilities == nil || !slices.Equal(cs.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(cs.Capabilities.Add) > 0:
					t.Errorf("%s/%s: capabilities must drop ALL and add none", d.Name, c.Name)
				case cs.RunAsUser != nil && *cs.RunAsUser == 0:
					t.Errorf("%s/%s: runs as root", d.Name, c.Name)
				}
			}
		}
	})
}

// TestResourcesSet: every container has CPU and memory requests and limits,
// requests within limits, and a GOMEMLIMIT below its memory limit.
func TestResourcesSet(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, o *objects) {
		for _, d := range o.Deployments {
			for _, c := range d.Spec.Template.Spec.Containers {
				r := c.Resources
				for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					req, okReq := r.Requests[name]
					lim, okLim := r.Limits[name]
					if !okReq || !okLim || req.IsZero() || lim.IsZero() {
						t.Errorf("%s/%s: %s request and limit must both be set", d.Name, c.Name, name)
						continue
					}
					if req.Cmp(lim) > 0 {
						t.Errorf("%s/%s: %s request %s above limit %s", d.Name, c.Name, name, req.String(), lim.String())
					}
				}
				env := o.env(t, c)
				gml, ok := env["GOMEMLIMIT"]
				if !ok {
					t.Errorf("%s/%s: GOMEMLIMIT unset", d.Name, c.Name)
					continue
				}
				q, err := resource.ParseQuantity(strings.TrimSuffix(gml, "B"))
				if err != nil {
					t.Errorf("%s/%s: GOMEMLIMIT %q: %v", d.Name, c.Name, gml, err)
					continue
				}
				if lim := r.Limits[corev1.ResourceMemory]; q.Cmp(lim) >= 0 {
					t.Errorf("%s/%s: GOMEMLIMIT %s is not below the memory limit %s", d.Name, c.Name, gml, lim.String())
				}
			}
		}
	})
}

// TestProbes: startup and liveness on /healthz, readiness on /readyz
// (/readyz/replica for an elected service), all on the admin port.
func TestProbes(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, o *objects) {
		for _, d := range o.Deployments {
			for _, c := range d.Spec.Template.Spec.Containers {
				check := func(kind string, p *corev1.Probe, path string) {
					if p == nil || p.HTTPGet == nil {
						t.Errorf("%s/%s: no HTTP %s probe", d.Name, c.Name, kind)
						return
					}
					if p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "admin" {
						t.Errorf("%s/%s: %s probe on %s:%s, want %s on admin", d.Name, c.Name, kind, p.HTTPGet.Path, p.HTTPGet.Port.String(), path)
					}
				}
				check("startup", c.StartupProbe, "/healthz")
				check("liveness", c.LivenessProbe, "/healthz")
				// An elected service's standby fails /readyz by design and
				// must still count as ready, and a replica whose database
				// or keys fail must not (render_test.go, elected).
				ready := "/readyz"
				if elected[d.Name] {
					ready = "/readyz/replica"
				}
				check("readiness", c.ReadinessProbe, ready)
				if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "admin" }) {
					t.Errorf("%s/%s: no port named admin", d.Name, c.Name)
				}
				env := o.env(t, c)
				if p := containerPort(c, "admin"); p != 0 && !strings.HasSuffix(env["SOTTO_ADMIN_ADDR"], ":"+itoa(p)) {
					t.Errorf("%s/%s: SOTTO_ADMIN_ADDR %q does not listen on the admin port %d", d.Name, c.Name, env["SOTTO_ADMIN_ADDR"], p)
				}
				if !strings.HasPrefix(env["SOTTO_ADMIN_ADDR"], "0.0.0.0:") {
					t.Errorf("%s/%s: SOTTO_ADMIN_ADDR %q is not reachable by the kubelet", d.Name, c.Name, env["SOTTO_ADMIN_ADDR"])
				}
			}
		}
	})
}

// TestGracePeriod: the pod is given more time than the process takes to
// stop in order (pkg/service): preStop, then SOTTO_SHUTDOWN_TIMEOUT for the
// APIs' drain, SOTTO_JOBS_SHUTDOWN_GRACE for the job runner and the audit
// outbox's last flush (5 s).
func TestGracePeriod(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, o *objects) {
		for _, d := range o.Deployments {
			p := d.Spec.Template.Spec
			if p.TerminationGracePeriodSeconds == nil {
				t.Errorf("%s: terminationGracePeriodSeconds unset", d.Name)
				continue
			}
			grace := time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
			for _, c := range p.Containers {
				env := o.env(t, c)
				need := duration(t, env, "SOTTO_SHUTDOWN_TIMEOUT", 15*time.Second) +
					duration(t, env, "SOTTO_JOBS_SHUTDOWN_GRACE", 10*time.Second) + 5*time.Second
				if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
					need += time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
				}
				if grace <= need {
					t.Errorf("%s/%s: terminationGracePeriodSeconds %s is not above the shutdown budget %s", d.Name, c.Name, grace, need)
				}
			}
		}
	})
}

func duration(t *testing.T, env map[string]string, key string, def time.Duration) time.Duration {
	t.Helper()
	v, ok := env[key]
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Errorf("%s=%q: %v", key, v, err)
	}
	return d
}

// TestServiceConfigMatchesManifest: each service gets the addresses of
// exactly the services it dials, listens where its Service points, logs in
// to Vault as its own role (the service account's name, bound to the policy
// of that name) and reads its DSN from its own Secret.
func TestServiceConfigMatchesManifest(t *testing.T) {
	m := suite.MustLoad()
	forEachOverlay(t, func(t *testing.T, o *objects) {
		for _, s := range m.Services {
			d, ok := o.deployment(s.Name)
			if !ok {
				continue // TestEveryServiceDeployed says so
			}
			p := d.Spec.Template.Spec
			if p.ServiceAccountName != s.Name {
				t.Errorf("%s runs as service account %q", s.Name, p.ServiceAccountName)
			}
			for _, c := range p.Containers {
				env := o.env(t, c)
				var addrs []string
				for k := range env {
					if strings.HasSuffix(k, "_ADDR") && k != "SOTTO_GRPC_ADDR" && k != "SOTTO_ADMIN_ADDR" &&
						k != "SOTTO_HTTP_ADDR" && k != "SOTTO_GATEWAY_GRPC_ADDR" && k != "SOTTO_VAULT_ADDR" {
						addrs = append(addrs, k)
					}
				}
				var want []string
				for _, callee := range Dials(m, s.Name) {
					key := suite.EnvPrefix(callee) + "ADDR"
					want = append(want, key)
					// A resolver URI, so that pkg/dial balances over every
					// replica and health-checks each (one host:port would be
					// dialled as one replica, and an audit standby answered
					// NOT_SEQUENCER to whoever it was given to).
					if want := "dns:///" + callee + ":" + itoa(grpcPort); env[key] != want {
						t.Errorf("%s: %s=%q, want %s", s.Name, key, env[key], want)
					}
				}
				slices.Sort(addrs)
				slices.Sort(want)
				if !slices.Equal(addrs, want) {
					t.Errorf("%s: service addresses %v, want exactly %v (services.yaml)", s.Name, addrs, want)
				}
				if env["SOTTO_VAULT_K8S_ROLE"] != s.Name {
					t.Errorf("%s: SOTTO_VAULT_K8S_ROLE=%q", s.Name, env["SOTTO_VAULT_K8S_ROLE"])
				}
				if _, err := os.Stat(filepath.Join("vault", "policies", s.Name+".hcl")); err != nil {
					t.Errorf("%s: no Vault policy for its role: %v", s.Name, err)
				}
				listen := "SOTTO_GRPC_ADDR"
				port := "grpc"
				if s.API == suite.HTTP {
					listen, port = "SOTTO_HTTP_ADDR", "http"
				}
				if want := "0.0.0.0:" + itoa(containerPort(c, port)); env[listen] != want {
					t.Errorf("%s: %s=%q, want %s", s.Name, listen, env[listen], want)
				}
				for _, e := range c.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						ref := e.ValueFrom.SecretKeyRef
						if e.Name != "SOTTO_DB_DSN" || ref.Name != s.Name+"-db" {
							t.Errorf("%s: %s from Secret %s", s.Name, e.Name, ref.Name)
						}
						// An overlay that brings Secrets must bring this one
						// (production's are the operator's).
						if len(o.Secrets) > 0 && !slices.ContainsFunc(o.Secrets, func(sec corev1.Secret) bool {
							_, ok := sec.Data[ref.Key]
							_, okS := sec.StringData[ref.Key]
							return sec.Name == ref.Name && (ok || okS)
						}) {
							t.Errorf("%s: Secret %s (key %s) is not in the build", s.Name, ref.Name, ref.Key)
						}
					}
				}
			}
		}
		// No secret in a ConfigMap: DSNs, tokens and keys are Secrets or Vault.
		for _, cm := range o.ConfigMaps {
			for k := range cm.Data {
				if slices.ContainsFunc([]string{"_DSN", "_TOKEN", "_API_KEY", "_SECRET", "_PASSWORD"}, func(suffix string) bool { return strings.HasSuffix(k, suffix) }) {
					t.Errorf("ConfigMap %s holds %s, which belongs in a Secret", cm.Name, k)
				}
			}
		}
	})
}

func containerPort(c corev1.Container, name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return int(p.ContainerPort)
		}
	}
	return 0
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestImagesNamed: every container runs an image with an explicit tag or
// digest (never an implicit or explicit "latest"), pulled only when absent
// so that a pinned digest is what runs.
func TestImagesNamed(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, o *objects) {
		for _, d := range o.Deployments {
			for _, c := range d.Spec.Template.Spec.Containers {
				name, tag, hasTag := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":")
				_, digest, hasDigest := strings.Cut(c.Image, "@sha256:")
				switch {
				case hasDigest && len(digest) != 64:
					t.Errorf("%s: image %s has a malformed digest", d.Name, c.Image)
				case !hasDigest && (!hasTag || tag == "" || tag == "latest"):
					t.Errorf("%s: image %s has no tag or digest, or is latest", d.Name, c.Image)
				}
				if !strings.HasPrefix(name, d.Name) {
					t.Errorf("%s runs image %s, not its own", d.Name, c.Image)
				}
				if c.ImagePullPolicy != corev1.PullIfNotPresent {
					t.Errorf("%s: imagePullPolicy %s", d.Name, c.ImagePullPolicy)
				}
			}
		}
	})
}
