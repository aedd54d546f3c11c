package deploy

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The checks below replay, on what kustomize builds, the arithmetic the
// Kubernetes controllers do for a rolling update (the Deployment
// controller's rolling.go) and for a node drain (the Eviction API against a
// PodDisruptionBudget), with each pod's readiness as its probe gives it. An
// elected service (render_test.go) has one leader; its standbys fail /readyz
// by design (ADR 0017), so a readiness probe on /readyz makes them count as
// unavailable, and then neither a rollout nor a drain can ever remove the
// leader: the shape these tests refuse. Its probe is /readyz/replica
// instead, on which a healthy standby is ready (pkg/server ErrStandby), so
// every pod of a healthy service counts. Seen failing with audit's readiness
// probe put back on /readyz (the rollout stalls with the old leader and two
// new standbys; the drain cannot evict the leader) and with the
// unhealthyPodEvictionPolicy line removed (two broken pods hold the drain).

// readyModel says which pods Kubernetes counts as ready.
type readyModel struct {
	// oneLeader: only the elected leader is ready; standbys are not.
	oneLeader bool
}

func readinessOf(d appsv1.Deployment) readyModel {
	for _, c := range d.Spec.Template.Spec.Containers {
		p := c.ReadinessProbe
		if elected[d.Name] && p != nil && p.HTTPGet != nil && p.HTTPGet.Path == "/readyz" {
			return readyModel{oneLeader: true}
		}
	}
	return readyModel{}
}

// replicasOf is the Deployment's fixed replica count, or its autoscaler's
// floor (a drain or a rollout at the quietest hour).
func replicasOf(o *objects, d appsv1.Deployment) int {
	for _, h := range o.HPAs {
		if h.Spec.ScaleTargetRef.Name == d.Name && h.Spec.MinReplicas != nil {
			return int(*h.Spec.MinReplicas)
		}
	}
	if d.Spec.Replicas == nil {
		return 1
	}
	return int(*d.Spec.Replicas)
}

// rollout replays a RollingUpdate from an all-old to an all-new ReplicaSet
// and reports whether it completes. Pods are created and removed in whole
// steps; a new pod is ready the step after it is created unless the model
// says only a leader is, and a leader is elected (a new pod first) when the
// old one is gone.
func rollout(replicas, maxSurge, maxUnavailable int, m readyModel) (done bool, trace string) {
	oldReady, oldNot, newReady, newNot := replicas, 0, 0, 0
	if m.oneLeader {
		oldReady, oldNot = 1, replicas-1
	}
	minAvailable := replicas - maxUnavailable
	for step := 0; step < 10*replicas+10; step++ {
		before := [4]int{oldReady, oldNot, newReady, newNot}
		// Scale the new ReplicaSet up within the surge.
		if n := newReady + newNot; n < replicas {
			newNot += max(0, min(replicas+maxSurge-(oldReady+oldNot+n), replicas-n))
		}
		// Old pods that are not ready go first, within the budget
		// (cleanupUnhealthyReplicas).
		if maxDown := oldReady + oldNot + newReady + newNot - minAvailable - newNot; maxDown > 0 {
			c := min(oldNot, maxDown)
			oldNot -= c
			// Then available old pods, down to minAvailable
			// (scaleDownOldReplicaSetsForRollingUpdate); the ReplicaSet
			// deletes not-ready pods before ready ones.
			if avail := oldReady + newReady; avail > minAvailable {
				down := avail - minAvailable
				c := min(oldNot, down)
				oldNot -= c
				down -= c
				oldReady -= min(oldReady, down)
			}
		}
		// Readiness.
		if !m.oneLeader {
			newReady, newNot = newReady+newNot, 0
		} else if oldReady == 0 && newReady == 0 {
			switch {
			case newNot > 0:
				newNot, newReady = newNot-1, 1
			case oldNot > 0:
				oldNot, oldReady = oldNot-1, 1
			}
		}
		trace += fmt.Sprintf(" [old %d+%d new %d+%d]", oldReady, oldNot, newReady, newNot)
		if oldReady+oldNot == 0 && newReady+newNot == replicas {
			return true, trace
		}
		if [4]int{oldReady, oldNot, newReady, newNot} == before {
			return false, trace
		}
	}
	return false, trace
}

// scaled resolves an int-or-percent against total (the disruption
// controller rounds maxUnavailable and minAvailable percentages up).
func scaled(v *intstr.IntOrString, total int) int {
	n, err := intstr.GetScaledValueFromIntOrPercent(v, total, true)
	if err != nil {
		panic(err)
	}
	return n
}

// evictable says whether the Eviction API lets a drain remove one pod
// (ready or not) of a service with expected pods of which healthy are ready.
func evictable(pdb policyv1.PodDisruptionBudget, expected, healthy int, podReady bool) bool {
	desired := 0
	switch {
	case pdb.Spec.MinAvailable != nil:
		desired = scaled(pdb.Spec.MinAvailable, expected)
	case pdb.Spec.MaxUnavailable != nil:
		desired = max(0, expected-scaled(pdb.Spec.MaxUnavailable, expected))
	}
	if !podReady {
		p := pdb.Spec.UnhealthyPodEvictionPolicy
		if p != nil && *p == policyv1.AlwaysAllow {
			return true
		}
		return healthy >= desired // IfHealthyBudget, the default
	}
	return healthy-desired >= 1
}

// TestRolloutsComplete: every Deployment rolls with RollingUpdate and
// maxUnavailable 0 (never fewer serving pods than asked for), and the
// rollout can finish with the pods' readiness as it is.
func TestRolloutsComplete(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, o *objects) {
		for _, d := range o.Deployments {
			s := d.Spec.Strategy
			if s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil {
				t.Errorf("%s: strategy %s, want RollingUpdate", d.Name, s.Type)
				continue
			}
			n := replicasOf(o, d)
			surge := scaled(s.RollingUpdate.MaxSurge, n)
			unavailable := scaled(s.RollingUpdate.MaxUnavailable, n)
			if unavailable != 0 || surge < 1 {
				t.Errorf("%s: maxSurge %d, maxUnavailable %d: want a surge and no pod unavailable", d.Name, surge, unavailable)
			}
			if done, trace := rollout(n, surge, unavailable, readinessOf(d)); !done {
				t.Errorf("%s: a rolling update of %d replicas never completes:%s", d.Name, n, trace)
			}
		}
	})
}

// TestDrainsProceed: with every replica running, a node drain may evict
// any one pod, the leader of an elected service included; and pods that
// are not ready (two crash-looping, say) never hold a drain.
func TestDrainsProceed(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, o *objects) {
		for _, d := range o.Deployments {
			var pdb *policyv1.PodDisruptionBudget
			for i, p := range o.PDBs {
				if p.Spec.Selector != nil && p.Spec.Selector.MatchLabels["app.kubernetes.io/name"] == d.Name {
					pdb = &o.PDBs[i]
				}
			}
			if pdb == nil {
				t.Errorf("%s: no PodDisruptionBudget", d.Name)
				continue
			}
			if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
				t.Errorf("%s: the PodDisruptionBudget bounds nothing", d.Name)
				continue
			}
			n := replicasOf(o, d)
			healthy := n
			if readinessOf(d).oneLeader {
				healthy = 1
			}
			if !evictable(*pdb, n, healthy, true) {
				t.Errorf("%s: with %d replicas, %d of them ready, a drain can never evict a ready pod (its leader): the budget allows no disruption", d.Name, n, healthy)
			}
			if healthy < n && !evictable(*pdb, n, healthy, false) {
				t.Errorf("%s: a drain can never evict its not-ready standby", d.Name)
			}
			if n >= 2 && !evictable(*pdb, n, n-2, false) {
				t.Errorf("%s: two pods that are not ready hold a drain (unhealthyPodEvictionPolicy)", d.Name)
			}
		}
	})
}

// TestGRPCServicesHeadless: callers dial dns:///<service>:<port> and balance
// over the records themselves (pkg/dial); a virtual IP would hand each
// caller one pod for the life of its connection, an audit standby included.
func TestGRPCServicesHeadless(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, o *objects) {
		for _, s := range o.Services {
			grpc := false
			for _, p := range s.Spec.Ports {
				grpc = grpc || p.Name == "grpc"
			}
			if grpc && s.Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("Service %s serves gRPC with a virtual IP; want clusterIP: None", s.Name)
			}
		}
	})
}

// TestRolloutModel checks the replay itself against the cases worked out by
// hand in ADR 0017 ("Kubernetes", 2026-11-30), so that the checks above
// cannot pass by a broken model.
func TestRolloutModel(t *testing.T) {
	for _, c := range []struct {
		name                     string
		replicas, surge, unavail int
		oneLeader, wantDone      bool
	}{
		{"stateless 2, surge 1", 2, 1, 0, false, true},
		{"stateless 1, surge 1", 1, 1, 0, false, true},
		{"elected, standby ready", 2, 1, 0, false, true},
		{"elected, standby not ready", 2, 1, 0, true, false},
		{"elected, standby not ready, maxUnavailable 1", 2, 1, 1, true, false},
		{"elected, one replica, its successor not ready", 1, 1, 0, true, false},
	} {
		done, trace := rollout(c.replicas, c.surge, c.unavail, readyModel{oneLeader: c.oneLeader})
		if done != c.wantDone {
			t.Errorf("%s: done %v, want %v:%s", c.name, done, c.wantDone, trace)
		}
	}
	one, two := intstr.FromInt32(1), intstr.FromInt32(2)
	always := policyv1.AlwaysAllow
	budget := func(minAvail, maxUnavail *intstr.IntOrString, p *policyv1.UnhealthyPodEvictionPolicyType) policyv1.PodDisruptionBudget {
		return policyv1.PodDisruptionBudget{Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: minAvail, MaxUnavailable: maxUnavail, UnhealthyPodEvictionPolicy: p}}
	}
	for _, c := range []struct {
		name              string
		pdb               policyv1.PodDisruptionBudget
		expected, healthy int
		ready, want       bool
	}{
		// The shape the issue warned of: leader + not-ready standby.
		{"minAvailable 1, leader", budget(&one, nil, nil), 2, 1, true, false},
		{"maxUnavailable 1, leader", budget(nil, &one, nil), 2, 1, true, false},
		{"maxUnavailable 1, standby counted ready", budget(nil, &one, nil), 2, 2, true, true},
		{"maxUnavailable 1, not-ready standby, default policy", budget(nil, &one, nil), 2, 1, false, true},
		{"maxUnavailable 1, two broken of 3, default policy", budget(nil, &one, nil), 3, 1, false, false},
		{"maxUnavailable 1, two broken of 3, AlwaysAllow", budget(nil, &one, &always), 3, 1, false, true},
		{"minAvailable 2 of 2", budget(&two, nil, nil), 2, 2, true, false},
	} {
		if got := evictable(c.pdb, c.expected, c.healthy, c.ready); got != c.want {
			t.Errorf("%s: evictable %v, want %v", c.name, got, c.want)
		}
	}
}
