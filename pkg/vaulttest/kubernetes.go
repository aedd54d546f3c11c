package vaulttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"github.com/hashicorp/vault/api"
)

// KubernetesNamespace is the namespace EnableKubernetesAuth binds the
// workload roles to.
const KubernetesNamespace = "sotto"

// Workloads are the services that log in to Vault, each with a policy of
// its name in deploy/vault/policies (operator is a person, not a workload).
var Workloads = []string{"audit", "gateway", "tokenvault"}

// kubeIssuer and kubeAudience are what a cluster's projected service account
// tokens carry by default.
const (
	kubeIssuer   = "https://kubernetes.default.svc.cluster.local"
	kubeAudience = "https://kubernetes.default.svc.cluster.local"
	tokenReviews = "/apis/authentication.k8s.io/v1/tokenreviews"
)

// Kubernetes stands in for the one part of a Kubernetes API server that
// Vault's Kubernetes auth method calls: the TokenReview API
// (POST /apis/authentication.k8s.io/v1/tokenreviews), over TLS, for the
// reviewer's bearer token only. A Kubernetes API server cannot run here.
//
// It issues service account tokens as the API server does for projected
// volumes (ES256 JWTs with the kubernetes.io claims) and reviews them as the
// API server does: authenticated, with user system:serviceaccount:<ns>:<name>
// and the account's UID, only if the signature is its own, the token has not
// expired, the audiences overlap and the account still exists.
//
// The request and response types are written out below rather than taken
// from k8s.io/api, which would bring the Kubernetes client machinery into
// this module for two small JSON shapes.
type Kubernetes struct {
	// URL is the API server's base URL (https://127.0.0.1:port).
	URL string
	// CACertPEM is the certificate the server's TLS chains to.
	CACertPEM string
	// ReviewerJWT is the bearer token Vault must present to call TokenReview
	// (in a cluster, the token of a service account with
	// system:auth-delegator).
	ReviewerJWT string

	srv *httptest.Server
	key *ecdsa.PrivateKey

	mu       sync.Mutex
	accounts map[string]string // "namespace/name" -> UID
	reviews  []Review
}

// Review is one TokenReview the fake answered.
type Review struct {
	// Namespace and Name are the service account the token claims to be
	// (empty when the token did not parse).
	Namespace, Name string
	Authenticated   bool
}

// StartKubernetes starts the fake API server for t and stops it when t ends.
func StartKubernetes(t testing.TB) *Kubernetes {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	k := &Kubernetes{key: key, accounts: map[string]string{}}
	k.srv = httptest.NewTLSServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.srv.Close)
	k.URL = k.srv.URL
	k.CACertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.srv.Certificate().Raw}))
	k.ReviewerJWT = k.ServiceAccountToken(t, "vault", "vault")
	return k
}

// ServiceAccountToken creates the service account namespace/name if it does
// not exist and returns a token for it, valid for an hour.
func (k *Kubernetes) ServiceAccountToken(t testing.TB, namespace, name string) string {
	t.Helper()
	k.mu.Lock()
	uid, ok := k.accounts[namespace+"/"+name]
	if !ok {
		uid = uuid.NewString()
		k.accounts[namespace+"/"+name] = uid
	}
	k.mu.Unlock()
	return signToken(t, k.key, namespace, name, uid)
}

// ForgedToken returns a token with the claims of a real token for
// namespace/name (the account's UID included) but signed with a key that
// is not the API server's.
func (k *Kubernetes) ForgedToken(t testing.TB, namespace, name string) string {
	t.Helper()
	k.mu.Lock()
	uid := k.accounts[namespace+"/"+name]
	k.mu.Unlock()
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	return signToken(t, other, namespace, name, uid)
}

// DeleteServiceAccount deletes namespace/name: its tokens no longer pass a
// review.
func (k *Kubernetes) DeleteServiceAccount(namespace, name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.accounts, namespace+"/"+name)
}

// Reviews returns the reviews answered so far, oldest first.
func (k *Kubernetes) Reviews() []Review {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.reviews)
}

// EnableKubernetesAuth mounts Vault's Kubernetes auth method at
// auth/kubernetes, points it at k, and writes one role per workload as the
// Kubernetes deploy does: role <svc> for service account <svc> in
// KubernetesNamespace, with policy <svc> (and Vault's default policy, which
// lets a token look itself up), tokens valid for an hour.
func (s *Server) EnableKubernetesAuth(t testing.TB, k *Kubernetes) {
	t.Helper()
	if err := s.Client.Sys().EnableAuthWithOptions("kubernetes", &api.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		t.Fatalf("vaulttest: enable kubernetes auth: %v", err)
	}
	if _, err := s.Client.Logical().Write("auth/kubernetes/config", map[string]any{
		"kubernetes_host":    k.URL,
		"kubernetes_ca_cert": k.CACertPEM,
		"token_reviewer_jwt": k.ReviewerJWT,
		// Vault runs outside the (fake) cluster: there is no pod service
		// account to fall back to.
		"disable_local_ca_jwt": true,
	}); err != nil {
		t.Fatalf("vaulttest: configure kubernetes auth: %v", err)
	}
	for _, svc := range Workloads {
		if _, err := s.Client.Logical().Write("auth/kubernetes/role/"+svc, map[string]any{
			"bound_service_account_names":      svc,
			"bound_service_account_namespaces": KubernetesNamespace,
			"token_policies":                   svc,
			"token_ttl":                        "1h",
			"token_max_ttl":                    "24h",
		}); err != nil {
			t.Fatalf("vaulttest: kubernetes role %s: %v", svc, err)
		}
	}
}

// serviceAccountClaims are the claims of a projected service account token.
// The registered claims are spelled out because the API server writes aud
// as a list even with one audience, and Vault's decoder rejects a bare
// string (which jwt.Claims would produce).
type serviceAccountClaims struct {
	Issuer     string           `json:"iss"`
	Subject    string           `json:"sub"`
	Audience   []string         `json:"aud"`
	IssuedAt   *jwt.NumericDate `json:"iat"`
	NotBefore  *jwt.NumericDate `json:"nbf"`
	Expiry     *jwt.NumericDate `json:"exp"`
	Kubernetes struct {
		Namespace      string    `json:"namespace"`
		ServiceAccount objectRef `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

type objectRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

func signToken(t testing.TB, key *ecdsa.PrivateKey, namespace, name, uid string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	now := time.Now()
	c := serviceAccountClaims{
		Issuer:    kubeIssuer,
		Subject:   "system:serviceaccount:" + namespace + ":" + name,
		Audience:  []string{kubeAudience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(time.Hour)),
	}
	c.Kubernetes.Namespace = namespace
	c.Kubernetes.ServiceAccount = objectRef{Name: name, UID: uid}
	s, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	return s
}

// tokenReview is authentication.k8s.io/v1 TokenReview, the fields Vault
// sends and reads.
type tokenReview struct {
	APIVersion string            `json:"apiVersion,omitempty"`
	Kind       string            `json:"kind,omitempty"`
	Metadata   map[string]any    `json:"metadata"`
	Spec       tokenReviewSpec   `json:"spec"`
	Status     tokenReviewStatus `json:"status"`
}

type tokenReviewSpec struct {
	Token     string   `json:"token,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
}

type tokenReviewStatus struct {
	Authenticated bool     `json:"authenticated,omitempty"`
	User          userInfo `json:"user"`
	Audiences     []string `json:"audiences,omitempty"`
}

type userInfo struct {
	Username string   `json:"username,omitempty"`
	UID      string   `json:"uid,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

func (k *Kubernetes) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != tokenReviews {
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	if r.Method != http.MethodPost {
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "the server does not allow this method on the requested resource")
		return
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || bearer != k.ReviewerJWT {
		writeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	var req tokenReview
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", "invalid TokenReview: "+err.Error())
		return
	}
	// Clients may leave the type out; the API server takes it from the URL.
	if (req.APIVersion != "" && req.APIVersion != "authentication.k8s.io/v1") || (req.Kind != "" && req.Kind != "TokenReview") {
		writeStatus(w, http.StatusBadRequest, "BadRequest", "not an authentication.k8s.io/v1 TokenReview")
		return
	}
	req.APIVersion, req.Kind = "authentication.k8s.io/v1", "TokenReview"
	req.Metadata = map[string]any{"creationTimestamp": nil}
	req.Status = k.review(req.Spec)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(req)
}

// review authenticates spec.Token. Like the API server, it answers
// authenticated:false (not an HTTP error) for a token it does not accept.
func (k *Kubernetes) review(spec tokenReviewSpec) tokenReviewStatus {
	var rev Review
	defer func() {
		k.mu.Lock()
		k.reviews = append(k.reviews, rev)
		k.mu.Unlock()
	}()
	tok, err := jwt.ParseSigned(spec.Token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return tokenReviewStatus{}
	}
	var c serviceAccountClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err == nil {
		rev.Namespace, rev.Name = c.Kubernetes.Namespace, c.Kubernetes.ServiceAccount.Name
	}
	c = serviceAccountClaims{}
	var std jwt.Claims
	if err := tok.Claims(&k.key.PublicKey, &std, &c); err != nil {
		return tokenReviewStatus{}
	}
	if std.ValidateWithLeeway(jwt.Expected{Issuer: kubeIssuer, Time: time.Now()}, 0) != nil {
		return tokenReviewStatus{}
	}
	audiences := []string(std.Audience)
	if len(spec.Audiences) > 0 {
		audiences = nil
		for _, a := range spec.Audiences {
			if std.Audience.Contains(a) {
				audiences = append(audiences, a)
			}
		}
		if len(audiences) == 0 {
			return tokenReviewStatus{}
		}
	}
	ns, sa := c.Kubernetes.Namespace, c.Kubernetes.ServiceAccount
	k.mu.Lock()
	uid, exists := k.accounts[ns+"/"+sa.Name]
	k.mu.Unlock()
	if !exists || uid != sa.UID {
		return tokenReviewStatus{} // deleted, or deleted and recreated
	}
	rev.Authenticated = true
	return tokenReviewStatus{
		Authenticated: true,
		User: userInfo{
			Username: fmt.Sprintf("system:serviceaccount:%s:%s", ns, sa.Name),
			UID:      uid,
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		},
		Audiences: audiences,
	}
}

// writeStatus answers with a meta/v1 Status, the API server's error body.
func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code,
	})
}
