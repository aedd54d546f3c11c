package deploy

import (
	"fmt"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// overlays are the kustomizations an operator applies; every policy test
// runs on each of them.
var overlays = []string{"dev", "production"}

// objects is one overlay's output, decoded into the k8s.io/api types.
type objects struct {
	Namespaces      []corev1.Namespace
	ServiceAccounts []corev1.ServiceAccount
	ConfigMaps      []corev1.ConfigMap
	Secrets         []corev1.Secret
	Services        []corev1.Service
	Deployments     []appsv1.Deployment
	PDBs            []policyv1.PodDisruptionBudget
	HPAs            []autoscalingv2.HorizontalPodAutoscaler
	NetworkPolicies []networkingv1.NetworkPolicy
}

// build runs kustomize in process on an overlay and decodes every object
// strictly: a field its type does not have (a typo, a field of another API
// version) fails the test, as does a kind the suite does not expect.
func build(t *testing.T, overlay string) *objects {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join("k8s", "overlays", overlay))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, err)
	}
	out := &objects{}
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		where := fmt.Sprintf("%s: %s/%s", overlay, r.GetKind(), r.GetName())
		switch gvk := r.GetApiVersion() + " " + r.GetKind(); gvk {
		case "v1 Namespace":
			out.Namespaces = append(out.Namespaces, decode[corev1.Namespace](t, where, y))
		case "v1 ServiceAccount":
			out.ServiceAccounts = append(out.ServiceAccounts, decode[corev1.ServiceAccount](t, where, y))
		case "v1 ConfigMap":
			out.ConfigMaps = append(out.ConfigMaps, decode[corev1.ConfigMap](t, where, y))
		case "v1 Secret":
			out.Secrets = append(out.Secrets, decode[corev1.Secret](t, where, y))
		case "v1 Service":
			out.Services = append(out.Services, decode[corev1.Service](t, where, y))
		case "apps/v1 Deployment":
			out.Deployments = append(out.Deployments, decode[appsv1.Deployment](t, where, y))
		case "policy/v1 PodDisruptionBudget":
			out.PDBs = append(out.PDBs, decode[policyv1.PodDisruptionBudget](t, where, y))
		case "autoscaling/v2 HorizontalPodAutoscaler":
			out.HPAs = append(out.HPAs, decode[autoscalingv2.HorizontalPodAutoscaler](t, where, y))
		case "networking.k8s.io/v1 NetworkPolicy":
			out.NetworkPolicies = append(out.NetworkPolicies, decode[networkingv1.NetworkPolicy](t, where, y))
		default:
			t.Errorf("%s: unexpected kind %s", where, gvk)
		}
	}
	return out
}

// decode is sigs.k8s.io/yaml's strict unmarshalling (YAML to JSON, then
// encoding/json with unknown fields disallowed) into T.
func decode[T any](t *testing.T, where string, y []byte) T {
	t.Helper()
	var v T
	if err := yaml.UnmarshalStrict(y, &v); err != nil {
		t.Errorf("%s does not decode strictly: %v", where, err)
	}
	return v
}

func (o *objects) deployment(name string) (appsv1.Deployment, bool) {
	for _, d := range o.Deployments {
		if d.Name == name {
			return d, true
		}
	}
	return appsv1.Deployment{}, false
}

func (o *objects) configMap(name string) (corev1.ConfigMap, bool) {
	for _, c := range o.ConfigMaps {
		if c.Name == name {
			return c, true
		}
	}
	return corev1.ConfigMap{}, false
}

// env is a container's environment as the pod sees it: its ConfigMaps'
// entries, then its own env values (which win).
func (o *objects) env(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("container %s: envFrom other than a ConfigMap", c.Name)
			continue
		}
		cm, ok := o.configMap(from.ConfigMapRef.Name)
		if !ok {
			t.Errorf("container %s: ConfigMap %s is not in the build", c.Name, from.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			out[k] = v
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			out[e.Name] = e.Value
		}
	}
	return out
}
