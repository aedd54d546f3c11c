package deploy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/sottohq/sotto/pkg/suite"
)

// The Kubernetes base under k8s/base is rendered from the service manifest
// and the table below, so that a service added to services.yaml gets its
// manifests, addresses and network rules from the same list as everything
// else. `go test ./deploy -run TestRenderedBase -update` rewrites it; without
// -update the test fails when a committed file differs from the rendering.
// The policy tests (policy_test.go) do not trust this renderer: they check
// what kustomize builds from the committed files.
var update = flag.Bool("update", false, "rewrite k8s/base from the manifest")

// sizing is one service's resources and scaling. Each figure says where it
// comes from; docs/operations.md repeats the table.
type sizing struct {
	CPURequest, CPULimit string
	MemRequest, MemLimit string
	// GoMemLimit is ~90 % of MemLimit, so that the Go runtime collects
	// harder before the kernel kills the container.
	GoMemLimit string
	// MinReplicas and MaxReplicas bound the HorizontalPodAutoscaler; 0
	// means no autoscaler and Replicas fixed replicas.
	MinReplicas, MaxReplicas int
	Replicas                 int
	// Source says where the figures come from.
	Source string
}

var sizings = map[string]sizing{
	"audit": {CPURequest: "250m", CPULimit: "1", MemRequest: "128Mi", MemLimit: "256Mi", GoMemLimit: "230MiB",
		Replicas: 2,
		Source: "docs/benchmarks.md: soak RSS 50-61 MiB; 231-237 CPU-us per chat message at ~500 msg/s = 0.12 core. " +
			"Two replicas, no autoscaler: one sequences, the other is its hot standby (ADR 0017); more would only add standbys"},
	"tokenvault": {CPURequest: "250m", CPULimit: "1", MemRequest: "192Mi", MemLimit: "512Mi", GoMemLimit: "460MiB", MinReplicas: 2, MaxReplicas: 6,
		Source: "docs/benchmarks.md: soak RSS 55-109 MiB (growth under investigation); 450 CPU-us per chat message = 0.23 core at ~500 msg/s"},
	"identity": {CPURequest: "250m", CPULimit: "2", MemRequest: "384Mi", MemLimit: "640Mi", GoMemLimit: "576MiB", MinReplicas: 2, MaxReplicas: 6,
		Source: "docs/benchmarks.md: RSS 146 MiB after start; plus SOTTO_IDENTITY_HASH_MEMORY_BUDGET (256 MiB of argon2id, m=46 MiB each); a login is 30 ms of CPU"},
	"consent": {CPURequest: "100m", CPULimit: "1", MemRequest: "64Mi", MemLimit: "256Mi", GoMemLimit: "230MiB", MinReplicas: 2, MaxReplicas: 4,
		Source: "docs/benchmarks.md: soak RSS 43-44 MiB, flat; not on the chat path (CPU not measured)"},
	"conversation": {CPURequest: "1", CPULimit: "2", MemRequest: "128Mi", MemLimit: "384Mi", GoMemLimit: "345MiB", MinReplicas: 2, MaxReplicas: 10,
		Source: "docs/benchmarks.md: soak RSS 80-97 MiB; 2.2-2.4 CPU-ms per chat message = 1.1-1.2 cores at the measured 473-497 msg/s"},
	"crmsync": {CPURequest: "100m", CPULimit: "1", MemRequest: "64Mi", MemLimit: "256Mi", GoMemLimit: "230MiB", MinReplicas: 2, MaxReplicas: 4,
		Source: "docs/benchmarks.md: soak RSS 45-46 MiB, flat; deliveries are durable jobs (CPU not measured)"},
	"gateway": {CPURequest: "250m", CPULimit: "1", MemRequest: "64Mi", MemLimit: "256Mi", GoMemLimit: "230MiB", MinReplicas: 2, MaxReplicas: 10,
		Source: "docs/benchmarks.md: soak RSS 42-55 MiB; 448-451 CPU-us per chat message = 0.23 core at ~500 msg/s"},
}

// elected lists the services whose replicas elect one active replica, the
// others standing by (ADR 0017: audit's sequencer, a PostgreSQL advisory
// lock). A standby's /readyz fails by design ("sequencer") and so does its
// grpc.health.v1 status, which is what callers balance on (pkg/dial); for
// Kubernetes it must still count as ready, or a rolling update and a node
// drain never get past the leader (deploy/disruption_test.go). So its
// readiness probe is /readyz/replica (pkg/server: every readiness check but
// the standby's; a replica whose database or keys fail is not ready) and the
// choice of replica stays with the callers' health checks.
var elected = map[string]bool{"audit": true}

// externalHTTPS lists the services that call third parties on the
// internet over HTTPS through pkg/egress: conversation (the messaging
// platforms' send APIs, an OpenAI-compatible model server) and crmsync (the
// CRMs). Nothing else leaves the cluster except to Vault, PostgreSQL and
// the collector.
var externalHTTPS = map[string]bool{"conversation": true, "crmsync": true}

// Ports every pod uses. The admin port is plain HTTP (probes, /metrics).
const (
	grpcPort  = 8443
	httpPort  = 8080
	adminPort = 9090
)

// Shutdown budget (pkg/service): the APIs drain for SOTTO_SHUTDOWN_TIMEOUT,
// then background tasks stop one by one, the job runner within
// SOTTO_JOBS_SHUTDOWN_GRACE and the audit outbox with a final flush of at
// most 5 s. preStop waits first so that endpoints are removed before the
// process stops accepting.
const (
	shutdownTimeout   = 15
	jobsShutdownGrace = 10
	outboxFlush       = 5
	preStopSleep      = 5
	gracePeriod       = preStopSleep + shutdownTimeout + jobsShutdownGrace + outboxFlush + 10
)

// Dials lists the services name dials, as `sotto dev up` gives it
// addresses: calls, identity when it verifies end users, then follows.
func Dials(m suite.Manifest, name string) []string {
	s, _ := m.Service(name)
	out := slices.Clone(s.Calls)
	if s.EndUsers && !slices.Contains(out, "identity") {
		out = append(out, "identity")
	}
	out = append(out, s.Follows...)
	slices.Sort(out)
	return out
}

// DialedBy lists the services that dial name.
func DialedBy(m suite.Manifest, name string) []string {
	var out []string
	for _, s := range m.Services {
		if slices.Contains(Dials(m, s.Name), name) {
			out = append(out, s.Name)
		}
	}
	slices.Sort(out)
	return out
}

type renderData struct {
	Name       string
	Elected    bool
	EnvPrefix  string
	HTTP       bool
	HasDB      bool
	External   bool
	Dials      []string
	DialedBy   []string
	Size       sizing
	GRPCPort   int
	HTTPPort   int
	AdminPort  int
	Grace      int
	PreStop    int
	Shutdown   int
	JobsGrace  int
	AddrPrefix map[string]string
}

// hasDB: every service but the gateway keeps a database (services that call
// service.DB in their main).
func hasDB(name string) bool { return name != "gateway" }

func render(t *testing.T) map[string][]byte {
	t.Helper()
	m, err := suite.Load()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var names []string
	for _, s := range m.Services {
		size, ok := sizings[s.Name]
		if !ok {
			t.Fatalf("service %s has no sizing in render_test.go: add its measured figures", s.Name)
		}
		d := renderData{
			Name: s.Name, Elected: elected[s.Name], EnvPrefix: s.EnvPrefix(), HTTP: s.API == suite.HTTP, HasDB: hasDB(s.Name),
			External: externalHTTPS[s.Name], Dials: Dials(m, s.Name), DialedBy: DialedBy(m, s.Name), Size: size,
			GRPCPort: grpcPort, HTTPPort: httpPort, AdminPort: adminPort, Grace: gracePeriod, PreStop: preStopSleep,
			Shutdown: shutdownTimeout, JobsGrace: jobsShutdownGrace, AddrPrefix: map[string]string{},
		}
		for _, c := range d.Dials {
			d.AddrPrefix[c] = suite.EnvPrefix(c)
		}
		for file, tmpl := range serviceTemplates {
			if file == "hpa.yaml" && size.MaxReplicas == 0 {
				continue
			}
			out[filepath.Join(s.Name, file)] = execute(t, tmpl, d)
		}
		names = append(names, s.Name)
	}
	out["kustomization.yaml"] = execute(t, baseKustomization, names)
	return out
}

func execute(t *testing.T, tmpl *template.Template, data any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const generatedHeader = "# Generated by `go test ./deploy -run TestRenderedBase -update` from pkg/suite/services.yaml\n# and deploy/render_test.go. Do not edit by hand.\n"

// TestRenderedBase fails when k8s/base differs from what the manifest and
// the sizing table render (someone edited a generated file, or changed the
// manifest without rendering).
func TestRenderedBase(t *testing.T) {
	base := filepath.Join("k8s", "base")
	want := render(t)
	if *update {
		for _, s := range suite.MustLoad().Names() {
			os.RemoveAll(filepath.Join(base, s))
		}
		for rel, b := range want {
			p := filepath.Join(base, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for rel, b := range want {
		got, err := os.ReadFile(filepath.Join(base, rel))
		if err != nil {
			t.Errorf("%s: %v (render with -update)", rel, err)
			continue
		}
		if !bytes.Equal(got, b) {
			t.Errorf("k8s/base/%s differs from its rendering: run go test ./deploy -run TestRenderedBase -update", rel)
		}
	}
	// Nothing generated may linger for a service that left the manifest.
	err := filepath.WalkDir(base, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		if _, ok := want[rel]; !ok && !strings.HasPrefix(rel, "namespace/") {
			t.Errorf("k8s/base/%s is not rendered from the manifest", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var funcs = template.FuncMap{
	"header": func() string { return generatedHeader },
	"quote":  func(s string) string { return fmt.Sprintf("%q", s) },
}

var baseKustomization = template.Must(template.New("k").Funcs(funcs).Parse(`{{header}}apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: sotto
labels:
  - pairs:
      app.kubernetes.io/part-of: sotto
resources:
  - namespace
{{- range .}}
  - {{.}}
{{- end}}
`))

var serviceTemplates = map[string]*template.Template{
	"kustomization.yaml": template.Must(template.New("kustomization").Funcs(funcs).Parse(`{{header}}apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# Labels and selectors are spelled out in each file: a labels transformer
# with includeSelectors would also rewrite the NetworkPolicy peers'
# selectors.
resources:
  - serviceaccount.yaml
  - deployment.yaml
  - service.yaml
  - pdb.yaml
{{- if .Size.MaxReplicas}}
  - hpa.yaml
{{- end}}
  - networkpolicy.yaml
configMapGenerator:
  - name: {{.Name}}-config
    envs:
      - config.env
`)),

	// Non-secret settings only: the database DSN comes from a Secret, Vault
	// is reached with the pod's projected service account token.
	"config.env": template.Must(template.New("env").Funcs(funcs).Parse(`{{if .HTTP}}SOTTO_HTTP_ADDR=0.0.0.0:{{.HTTPPort}}
SOTTO_GATEWAY_GRPC_ADDR=off
{{else}}SOTTO_GRPC_ADDR=0.0.0.0:{{.GRPCPort}}
{{end}}SOTTO_ADMIN_ADDR=0.0.0.0:{{.AdminPort}}
SOTTO_TRUST_DOMAIN=sotto.local
SOTTO_TLS_CERT=/var/run/sotto/tls/cert.pem
SOTTO_TLS_KEY=/var/run/sotto/tls/key.pem
SOTTO_TLS_BUNDLE=/var/run/sotto/tls/bundle.pem
SOTTO_VAULT_ADDR=https://vault.vault.svc:8200
SOTTO_VAULT_K8S_ROLE={{.Name}}
SOTTO_VAULT_K8S_JWT_FILE=/var/run/secrets/vault/token
SOTTO_VAULT_PKI_ROLE=workload
SOTTO_CERT_TTL=24h
SOTTO_SHUTDOWN_TIMEOUT={{.Shutdown}}s
SOTTO_JOBS_SHUTDOWN_GRACE={{.JobsGrace}}s
SOTTO_LOG_LEVEL=info
{{- range .Dials}}
{{index $.AddrPrefix .}}ADDR=dns:///{{.}}:{{$.GRPCPort}}
{{- end}}
`)),

	"serviceaccount.yaml": template.Must(template.New("sa").Funcs(funcs).Parse(`{{header}}# The Vault role of the same name (deploy/vault/k8s-auth.sh) is bound to
# this account; the services never call the Kubernetes API, so no token is
# mounted except the projected one with audience "vault".
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{.Name}}
  labels:
    app.kubernetes.io/name: {{.Name}}
automountServiceAccountToken: false
`)),

	"deployment.yaml": template.Must(template.New("deploy").Funcs(funcs).Parse(`{{header}}apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{.Name}}
  labels:
    app.kubernetes.io/name: {{.Name}}
spec:
{{- if .Size.MaxReplicas}}
  # replicas: owned by the HorizontalPodAutoscaler.
{{- else}}
  replicas: {{.Size.Replicas}}
{{- end}}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # A new pod applies migrations at start (goose, under a PostgreSQL
      # advisory lock) and must become ready before an old one goes.
{{- if .Elected}}
      # The new pod starts as a standby; when the old leader stops, its
      # lock is freed and a standby sequences (ADR 0017).
{{- end}}
      maxSurge: 1
      maxUnavailable: 0
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {{.Name}}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{.Name}}
        app.kubernetes.io/part-of: sotto
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "{{.AdminPort}}"
        prometheus.io/path: /metrics
    spec:
      serviceAccountName: {{.Name}}
      automountServiceAccountToken: false
      enableServiceLinks: false
      # preStop {{.PreStop}} s + SOTTO_SHUTDOWN_TIMEOUT {{.Shutdown}} s + SOTTO_JOBS_SHUTDOWN_GRACE {{.JobsGrace}} s
      # + the audit outbox's last flush (5 s) + 10 s margin.
      terminationGracePeriodSeconds: {{.Grace}}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{.Name}}
          image: sotto/{{.Name}}
          imagePullPolicy: IfNotPresent
          envFrom:
            - configMapRef:
                name: {{.Name}}-config
          env:
            # Sizing: {{.Size.Source}}
            - name: GOMEMLIMIT
              value: {{.Size.GoMemLimit}}
{{- if .HasDB}}
            - name: SOTTO_DB_DSN
              valueFrom:
                secretKeyRef:
                  name: {{.Name}}-db
                  key: dsn
{{- end}}
          ports:
{{- if .HTTP}}
            - name: http
              containerPort: {{.HTTPPort}}
              protocol: TCP
{{- else}}
            - name: grpc
              containerPort: {{.GRPCPort}}
              protocol: TCP
{{- end}}
            - name: admin
              containerPort: {{.AdminPort}}
              protocol: TCP
          resources:
            requests:
              cpu: {{quote .Size.CPURequest}}
              memory: {{.Size.MemRequest}}
            limits:
              cpu: {{quote .Size.CPULimit}}
              memory: {{.Size.MemLimit}}
          # The admin port opens once the service has its certificate, its
          # keys and its migrated database: startup covers all of that.
          startupProbe:
            httpGet:
              path: /healthz
              port: admin
            periodSeconds: 5
            failureThreshold: 60
          livenessProbe:
            httpGet:
              path: /healthz
              port: admin
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
{{- if .Elected}}
          # Leader or healthy standby is ready: a standby fails /readyz by
          # design (ADR 0017) but must count for the rollout and the
          # PodDisruptionBudget; a replica whose database or keys fail does
          # not. Callers pick the leader by its grpc.health.v1 status, which
          # mirrors /readyz (pkg/dial), not by this probe.
          readinessProbe:
            httpGet:
              path: /readyz/replica
{{- else}}
          # 503 only when the service's own store fails; a dependency that is
          # down is "degraded" and stays 200 (pkg/server/admin.go).
          readinessProbe:
            httpGet:
              path: /readyz
{{- end}}
              port: admin
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          lifecycle:
            preStop:
              sleep:
                seconds: {{.PreStop}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: tls
              mountPath: /var/run/sotto/tls
            - name: vault-token
              mountPath: /var/run/secrets/vault
              readOnly: true
            - name: state
              mountPath: /var/lib/sotto
            - name: tmp
              mountPath: /tmp
      volumes:
        # Written by the service itself (Vault PKI, renewed at 2/3 of
        # SOTTO_CERT_TTL); in memory, never on a node's disk.
        - name: tls
          emptyDir:
            medium: Memory
            sizeLimit: 1Mi
        - name: vault-token
          projected:
            sources:
              - serviceAccountToken:
                  audience: vault
                  expirationSeconds: 3600
                  path: token
        # The working directory: nothing durable lives here in Kubernetes
        # (the database is PostgreSQL, keys are in Vault).
        - name: state
          emptyDir:
            sizeLimit: 64Mi
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
`)),

	"service.yaml": template.Must(template.New("svc").Funcs(funcs).Parse(`{{header}}apiVersion: v1
kind: Service
metadata:
  name: {{.Name}}
  labels:
    app.kubernetes.io/name: {{.Name}}
spec:
{{- if .HTTP}}
  type: ClusterIP
{{- else}}
  # Headless: callers resolve every ready pod (dns:///{{.Name}}:{{.GRPCPort}}) and
  # balance their calls over those whose grpc.health.v1 says SERVING
  # (pkg/dial, ADR 0017); a virtual IP would pin each caller's one HTTP/2
  # connection to one pod.
  clusterIP: None
{{- end}}
  selector:
    app.kubernetes.io/name: {{.Name}}
  ports:
{{- if .HTTP}}
    - name: http
      port: {{.HTTPPort}}
      targetPort: http
      protocol: TCP
{{- else}}
    - name: grpc
      port: {{.GRPCPort}}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
{{- end}}
    - name: admin
      port: {{.AdminPort}}
      targetPort: admin
      protocol: TCP
`)),

	"pdb.yaml": template.Must(template.New("pdb").Funcs(funcs).Parse(`{{header}}apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{.Name}}
  labels:
    app.kubernetes.io/name: {{.Name}}
spec:
  # One pod at a time; with a single replica a drain may still proceed
  # (callers degrade: the audit outboxes hold events until it is back).
{{- if .Elected}}
  # Both the leader and its standby count as healthy (their readiness
  # probe is /readyz/replica), so evicting either is allowed while the
  # other runs.
{{- end}}
  maxUnavailable: 1
  # A pod that is not ready serves nothing: evicting it disrupts nothing,
  # and a crash-looping pod must not hold a node drain.
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      app.kubernetes.io/name: {{.Name}}
`)),

	"hpa.yaml": template.Must(template.New("hpa").Funcs(funcs).Parse(`{{header}}apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{.Name}}
  labels:
    app.kubernetes.io/name: {{.Name}}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{.Name}}
  minReplicas: {{.Size.MinReplicas}}
  maxReplicas: {{.Size.MaxReplicas}}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
`)),

	// Allow rules for exactly the calls of the manifest; the namespace's
	// default deny (namespace/) refuses everything else.
	"networkpolicy.yaml": template.Must(template.New("np").Funcs(funcs).Parse(`{{header}}apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{.Name}}
  labels:
    app.kubernetes.io/name: {{.Name}}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {{.Name}}
  policyTypes: [Ingress, Egress]
  ingress:
{{- range .DialedBy}}
    # {{.}} dials {{$.Name}} (services.yaml)
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{.}}
      ports:
        - port: {{$.GRPCPort}}
          protocol: TCP
{{- end}}
{{- if .HTTP}}
    # The edge: the ingress controller forwards browsers' and platforms' requests.
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
      ports:
        - port: {{.HTTPPort}}
          protocol: TCP
{{- end}}
    # Prometheus scrapes the admin port (/metrics).
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: monitoring
      ports:
        - port: {{.AdminPort}}
          protocol: TCP
  egress:
{{- range .Dials}}
    # {{$.Name}} dials {{.}} (services.yaml)
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{.}}
      ports:
        - port: {{$.GRPCPort}}
          protocol: TCP
{{- end}}
    # Vault: Kubernetes login, PKI certificates, Transit, KV.
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: vault
      ports:
        - port: 8200
          protocol: TCP
{{- if .HasDB}}
    # The service's own PostgreSQL database.
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: postgres
      ports:
        - port: 5432
          protocol: TCP
{{- end}}
    # The OpenTelemetry collector (OTLP/gRPC traces).
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: observability
      ports:
        - port: 4317
          protocol: TCP
{{- if .External}}
    # Third parties on the internet, through pkg/egress (which also refuses
    # private addresses itself): HTTPS only, never the cluster's ranges.
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
            except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 127.0.0.0/8]
      ports:
        - port: 443
          protocol: TCP
{{- end}}
`)),
}
