package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sottohq/sotto/pkg/suite"
)

// The network may carry exactly what the suite does: the gRPC calls of
// services.yaml (calls, follows, and identity for services that verify end
// users), each service's Vault, PostgreSQL and collector traffic, the
// edge's ingress, Prometheus' scrapes, DNS, and HTTPS to the internet for
// the two services that call third parties. The test flattens every rule to
// "direction peer port" lines and compares them, both ways, with the lines
// the manifest implies: a missing rule breaks a call, an extra one allows
// what nothing needs.

const nameLabel = "app.kubernetes.io/name"

// internetExcept are the ranges the internet egress rule must exclude: the
// cluster's and the node's own networks.
var internetExcept = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"}

func wantRules(m suite.Manifest, name string) []string {
	s, _ := m.Service(name)
	var out []string
	for _, caller := range DialedBy(m, name) {
		out = append(out, fmt.Sprintf("ingress pod:%s TCP/%d", caller, grpcPort))
	}
	if s.API == suite.HTTP {
		out = append(out, fmt.Sprintf("ingress ns:ingress-nginx TCP/%d", httpPort))
	}
	out = append(out, fmt.Sprintf("ingress ns:monitoring TCP/%d", adminPort))
	for _, callee := range Dials(m, name) {
		out = append(out, fmt.Sprintf("egress pod:%s TCP/%d", callee, grpcPort))
	}
	out = append(out, "egress ns:vault TCP/8200", "egress ns:observability TCP/4317")
	if hasDB(name) {
		out = append(out, "egress ns:postgres TCP/5432")
	}
	if externalHTTPS[name] {
		out = append(out, "egress ip:0.0.0.0/0 except "+strings.Join(internetExcept, ",")+" TCP/443")
	}
	slices.Sort(out)
	return out
}

// peer describes one NetworkPolicyPeer; anything but the three shapes the
// suite uses is spelled out raw, so it never equals a wanted line.
func peer(p networkingv1.NetworkPolicyPeer) string {
	only := func(sel *metav1.LabelSelector, key string) (string, bool) {
		if sel == nil || len(sel.MatchExpressions) > 0 || len(sel.MatchLabels) != 1 {
			return "", false
		}
		v, ok := sel.MatchLabels[key]
		return v, ok
	}
	switch {
	case p.PodSelector != nil && p.NamespaceSelector == nil && p.IPBlock == nil:
		if v, ok := only(p.PodSelector, nameLabel); ok {
			return "pod:" + v
		}
	case p.NamespaceSelector != nil && p.PodSelector == nil && p.IPBlock == nil:
		if v, ok := only(p.NamespaceSelector, "kubernetes.io/metadata.name"); ok {
			return "ns:" + v
		}
	case p.IPBlock != nil && p.PodSelector == nil && p.NamespaceSelector == nil:
		return "ip:" + p.IPBlock.CIDR + " except " + strings.Join(p.IPBlock.Except, ",")
	}
	raw, _ := json.Marshal(p)
	return "other:" + string(raw)
}

func ports(ps []networkingv1.NetworkPolicyPort) []string {
	if len(ps) == 0 {
		return []string{"any-port"}
	}
	var out []string
	for _, p := range ps {
		proto := "TCP"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		port := "any"
		if p.Port != nil {
			port = p.Port.String()
		}
		if p.EndPort != nil {
			port += fmt.Sprintf("-%d", *p.EndPort)
		}
		out = append(out, proto+"/"+port)
	}
	return out
}

func flatten(np networkingv1.NetworkPolicy) []string {
	var out []string
	add := func(dir string, peers []networkingv1.NetworkPolicyPeer, ps []networkingv1.NetworkPolicyPort) {
		if len(peers) == 0 {
			peers = []networkingv1.NetworkPolicyPeer{{}} // no peers: everyone
		}
		for _, p := range peers {
			for _, port := range ports(ps) {
				out = append(out, dir+" "+peer(p)+" "+port)
			}
		}
	}
	for _, r := range np.Spec.Ingress {
		add("ingress", r.From, r.Ports)
	}
	for _, r := range np.Spec.Egress {
		add("egress", r.To, r.Ports)
	}
	slices.Sort(out)
	return out
}

func TestNetworkPolicyMatchesManifest(t *testing.T) {
	m := suite.MustLoad()
	forEachOverlay(t, func(t *testing.T, o *objects) {
		seen := map[string]bool{}
		for _, np := range o.NetworkPolicies {
			if np.Namespace != namespace {
				t.Errorf("NetworkPolicy %s is in namespace %q", np.Name, np.Namespace)
			}
			switch np.Name {
			case "default-deny":
				if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) > 0 ||
					len(np.Spec.Ingress)+len(np.Spec.Egress) > 0 ||
					!slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) ||
					!slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
					t.Errorf("default-deny must select every pod, both ways, and allow nothing")
				}
				seen[np.Name] = true
				continue
			case "allow-dns":
				want := []string{"egress other:{\"podSelector\":{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}},\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"kube-system\"}}} TCP/53",
					"egress other:{\"podSelector\":{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}},\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"kube-system\"}}} UDP/53"}
				if got := flatten(np); !slices.Equal(got, want) || !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}) {
					t.Errorf("allow-dns allows %v, want only DNS to kube-dns", got)
				}
				seen[np.Name] = true
				continue
			}
			s, ok := m.Service(np.Name)
			if !ok {
				t.Errorf("NetworkPolicy %s is neither the namespace's nor a service's", np.Name)
				continue
			}
			seen[np.Name] = true
			sel := np.Spec.PodSelector
			if len(sel.MatchExpressions) > 0 || len(sel.MatchLabels) != 1 || sel.MatchLabels[nameLabel] != s.Name {
				t.Errorf("NetworkPolicy %s selects %v, want only %s=%s", np.Name, sel, nameLabel, s.Name)
			}
			if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
				t.Errorf("NetworkPolicy %s must govern both directions", np.Name)
			}
			got, want := flatten(np), wantRules(m, s.Name)
			for _, r := range want {
				if !slices.Contains(got, r) {
					t.Errorf("NetworkPolicy %s lacks %q (services.yaml needs it)", np.Name, r)
				}
			}
			for _, r := range got {
				if !slices.Contains(want, r) {
					t.Errorf("NetworkPolicy %s allows %q, which services.yaml does not need", np.Name, r)
				}
			}
		}
		for _, name := range append([]string{"default-deny", "allow-dns"}, m.Names()...) {
			if !seen[name] {
				t.Errorf("no NetworkPolicy %s", name)
			}
		}
		// Every service's pods carry the label the rules select them by.
		for _, d := range o.Deployments {
			if d.Spec.Template.Labels[nameLabel] != d.Name {
				t.Errorf("Deployment %s: pods labelled %s=%q", d.Name, nameLabel, d.Spec.Template.Labels[nameLabel])
			}
		}
	})
}
