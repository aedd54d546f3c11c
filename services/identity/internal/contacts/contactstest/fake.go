// Package contactstest serves a stand-in token vault over real mTLS for
// identity's tests. The real tokenvault lives in another module's internal
// packages and needs the audit service; the cross-service tests in test/
// run both binaries. This one keeps the behaviour identity relies on:
// e-mail normalisation (trimmed, lower-cased, one '@'), deterministic
// tokens equal per tenant and value, random tokens unique, a lookup that
// answers the deterministic token whether or not it is stored, masked
// views, a deny-by-default lookup policy for identity's two purposes, and
// the vault's answer for a tenant it does not serve (Unserve).
package contactstest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/servertest"
)

// Reasons of tokenvault's item errors, as the real vault sends them.
const (
	vaultInvalidValue = "INVALID_VALUE"
	vaultUnknownToken = "UNKNOWN_TOKEN"
	// The call's error for a tenant the vault does not serve.
	vaultUnknownTenant = "UNKNOWN_TENANT"
)

// Vault is the stand-in.
type Vault struct {
	tokenvaultv1.UnimplementedTokenVaultServiceServer
	key []byte

	mu       sync.Mutex
	values   map[string]string   // token → normalised value
	subs     map[string]string   // random token → subject
	unserved map[string]struct{} // tenants answered NotFound UNKNOWN_TENANT

	// Down makes every call fail Unavailable.
	Down atomic.Bool
	// Lookups counts LookupToken calls.
	Lookups atomic.Int64
}

// Start serves a Vault on loopback mTLS (pki's CA) and returns it with a
// client that calls it as the identity workload.
func Start(t testing.TB, pki *servertest.PKI) (*Vault, tokenvaultv1.TokenVaultServiceClient) {
	t.Helper()
	v, addr := Serve(t, pki)
	return v, tokenvaultv1.NewTokenVaultServiceClient(pki.Dial(t, "identity", "tokenvault", addr))
}

// Serve serves a Vault on loopback mTLS and returns it and its address.
func Serve(t testing.TB, pki *servertest.PKI) (*Vault, string) {
	t.Helper()
	v := &Vault{key: make([]byte, 32), values: map[string]string{}, subs: map[string]string{}, unserved: map[string]struct{}{}}
	if _, err := rand.Read(v.key); err != nil {
		t.Fatal(err)
	}
	srv := pki.NewServer(t, "tokenvault", authz.Policy{
		tokenvaultv1.TokenVaultService_Tokenize_FullMethodName:     {"identity"},
		tokenvaultv1.TokenVaultService_LookupToken_FullMethodName:  {"identity"},
		tokenvaultv1.TokenVaultService_RevealMasked_FullMethodName: {"identity"},
	})
	tokenvaultv1.RegisterTokenVaultServiceServer(srv.GRPC(), v)
	return v, servertest.Start(t, srv)
}

func normalise(t tokenvaultv1.DataType, v string) (string, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch t {
	case tokenvaultv1.DataType_DATA_TYPE_EMAIL:
		local, domain, ok := strings.Cut(v, "@")
		return v, ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(domain, "@ ") && !strings.ContainsAny(local, " ")
	case tokenvaultv1.DataType_DATA_TYPE_PHONE:
		d := strings.TrimPrefix(v, "+")
		for _, r := range d {
			if r < '0' || r > '9' {
				return "", false
			}
		}
		return v, len(d) >= 6
	}
	return v, true
}

// Unserve makes the vault answer calls for tenant as the real one answers
// a tenant it is not configured for: NotFound UNKNOWN_TENANT in
// tokenvault's error domain.
func (v *Vault) Unserve(tenant string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.unserved[tenant] = struct{}{}
}

func (v *Vault) tenantErr(tenant string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.unserved[tenant]; !ok {
		return nil
	}
	st := errs.E(errs.NotFound, vaultUnknownTenant, "this vault does not serve that tenant").GRPCStatus()
	return errs.InDomain(st, errs.ServiceDomain("tokenvault")).Err()
}

func (v *Vault) det(tenant string, t tokenvaultv1.DataType, norm string) string {
	if tenant == "" {
		tenant = "default"
	}
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte(tenant + "\x00" + t.String() + "\x00" + norm))
	return "det_" + hex.EncodeToString(m.Sum(nil))[:24]
}

// Tokenize implements the RPC.
func (v *Vault) Tokenize(_ context.Context, req *tokenvaultv1.TokenizeRequest) (*tokenvaultv1.TokenizeResponse, error) {
	if v.Down.Load() {
		return nil, status.Error(codes.Unavailable, "down")
	}
	if err := v.tenantErr(req.GetTenant()); err != nil {
		return nil, err
	}
	resp := &tokenvaultv1.TokenizeResponse{}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, it := range req.GetItems() {
		norm, ok := normalise(it.GetDataType(), it.GetValue())
		if !ok {
			resp.Results = append(resp.Results, &tokenvaultv1.TokenizeResult{Result: &tokenvaultv1.TokenizeResult_Error{
				Error: &tokenvaultv1.ItemError{Reason: vaultInvalidValue, Message: "invalid"}}})
			continue
		}
		var tok string
		if it.GetFormat() == tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC {
			tok = v.det(req.GetTenant(), it.GetDataType(), norm)
		} else {
			b := make([]byte, 16)
			rand.Read(b)
			tok = "tok_" + hex.EncodeToString(b)
			v.subs[tok] = req.GetSubject()
		}
		v.values[tok] = norm
		resp.Results = append(resp.Results, &tokenvaultv1.TokenizeResult{Result: &tokenvaultv1.TokenizeResult_Token{Token: tok}})
	}
	return resp, nil
}

// LookupToken implements the RPC with policy.yaml's rule for identity.
func (v *Vault) LookupToken(_ context.Context, req *tokenvaultv1.LookupTokenRequest) (*tokenvaultv1.LookupTokenResponse, error) {
	v.Lookups.Add(1)
	if v.Down.Load() {
		return nil, status.Error(codes.Unavailable, "down")
	}
	if err := v.tenantErr(req.GetTenant()); err != nil {
		return nil, err
	}
	if req.GetDataType() != tokenvaultv1.DataType_DATA_TYPE_EMAIL ||
		(req.GetPurpose() != "authentication" && req.GetPurpose() != "account_recovery") {
		return nil, status.Error(codes.PermissionDenied, "not allowed")
	}
	norm, ok := normalise(req.GetDataType(), req.GetValue())
	if !ok {
		return nil, status.Error(codes.InvalidArgument, "invalid value")
	}
	return &tokenvaultv1.LookupTokenResponse{DeterministicToken: v.det(req.GetTenant(), req.GetDataType(), norm)}, nil
}

// RevealMasked implements the RPC ("j•••@e•••.com").
func (v *Vault) RevealMasked(_ context.Context, req *tokenvaultv1.RevealMaskedRequest) (*tokenvaultv1.RevealMaskedResponse, error) {
	if v.Down.Load() {
		return nil, status.Error(codes.Unavailable, "down")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	resp := &tokenvaultv1.RevealMaskedResponse{}
	for _, tok := range req.GetTokens() {
		val, ok := v.values[tok]
		r := &tokenvaultv1.MaskedResult{Token: tok}
		if !ok {
			r.Error = &tokenvaultv1.ItemError{Reason: vaultUnknownToken, Message: "unknown"}
		} else {
			local, domain, _ := strings.Cut(val, "@")
			label, tld, _ := strings.Cut(domain, ".")
			r.Masked = local[:1] + "•••@" + label[:1] + "•••." + tld
			r.DataType = tokenvaultv1.DataType_DATA_TYPE_EMAIL
		}
		resp.Results = append(resp.Results, r)
	}
	return resp, nil
}

// Holds reports whether the vault holds value as a token under any subject
// (for tests that check what identity sent).
func (v *Vault) Holds(value string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, val := range v.values {
		if val == strings.ToLower(value) {
			return true
		}
	}
	return false
}

// Value is the normalised value behind token, as a transport resolving a
// message addressed by token would find it (for tests).
func (v *Vault) Value(token string) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	val, ok := v.values[token]
	return val, ok
}
