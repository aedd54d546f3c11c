// Package server is tokenvault's gRPC API over the engine.
package server

import (
	"context"
	"regexp"

	"google.golang.org/protobuf/types/known/timestamppb"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
)

// Server implements tokenvaultv1.TokenVaultServiceServer.
type Server struct {
	tokenvaultv1.UnimplementedTokenVaultServiceServer
	engine *engine.Engine
}

var _ tokenvaultv1.TokenVaultServiceServer = (*Server)(nil)

// New serves e.
func New(e *engine.Engine) *Server { return &Server{engine: e} }

// caller identifies who calls: the workload from its mTLS certificate and,
// when the call's end-user rule read one (EndUsers), the person whose
// verified access token it carries. The person's vault tenant is their
// account's tenant (staff, who have none, are in the default tenant, as
// identity keeps them).
func caller(ctx context.Context) (engine.Caller, error) {
	id, err := mtls.PeerID(ctx)
	if err != nil {
		return engine.Caller{}, err
	}
	c := engine.Caller{Workload: workloadName(id.Path()), ID: id.String()}
	if p, ok := enduser.FromContext(ctx); ok {
		c.Person = &policy.Person{Subject: p.Subject, Tenant: orDefaultTenant(p.Tenant), Kind: string(p.Kind), Roles: p.Roles, AAL: p.AAL, AuthTime: p.AuthTime}
	}
	return c, nil
}

// inOwnShop: an integrator stores values in its own shop only (its token's
// tenant); staff, who serve every shop, and workloads acting on their own
// are not bound.
func inOwnShop(ctx context.Context, tenant string) error {
	p, ok := enduser.FromContext(ctx)
	if !ok || p.Kind != accesstoken.KindClient {
		return nil
	}
	if orDefaultTenant(tenant) != orDefaultTenant(p.Tenant) {
		return errs.E(errs.PermissionDenied, reasons.TenantMismatch, "an integrator stores values in its own shop only")
	}
	return nil
}

// revealFor is the caller of a reveal for tenant (Detokenize,
// RevealMasked, GetTokenMetadata): the engine treats other tenants' tokens
// as unknown. A person whose token comes with the call (through the
// gateway, or relayed by conversation) must work in that shop: a customer
// or an integrator in their own (TENANT_MISMATCH otherwise, fail closed),
// so that a caller cannot make a person's rights reach into another shop.
// Staff, whose tokens name no shop, serve every shop (as in inOwnShop);
// a staff token that names one is bound to it.
func revealFor(ctx context.Context, tenant string) (engine.Caller, error) {
	c, err := caller(ctx)
	if err != nil {
		return engine.Caller{}, err
	}
	c.Tenant = orDefaultTenant(tenant)
	if p, ok := enduser.FromContext(ctx); ok && (p.Kind != accesstoken.KindStaff || p.Tenant != "") {
		if c.Tenant != orDefaultTenant(p.Tenant) {
			return engine.Caller{}, errs.E(errs.PermissionDenied, reasons.TenantMismatch, "a person's values are revealed in their own shop only")
		}
	}
	return c, nil
}

func orDefaultTenant(t string) string {
	if t == "" {
		return engine.DefaultTenant
	}
	return t
}

func workloadName(path string) string {
	if len(path) > 0 && path[0] == '/' {
		return path[1:]
	}
	return path
}

func itemError(e *engine.ItemError) *tokenvaultv1.ItemError {
	if e == nil {
		return nil
	}
	return &tokenvaultv1.ItemError{Reason: e.Reason, Message: e.Message}
}

func (s *Server) Tokenize(ctx context.Context, req *tokenvaultv1.TokenizeRequest) (*tokenvaultv1.TokenizeResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := inOwnShop(ctx, req.GetTenant()); err != nil {
		return nil, err
	}
	in := engine.TokenizeRequest{Tenant: req.GetTenant(), Subject: req.GetSubject(), Scope: req.GetScope(), TTL: req.GetTtl().AsDuration()}
	for _, it := range req.GetItems() {
		in.Items = append(in.Items, engine.Item{Value: it.GetValue(), Type: tokens.DataType(it.GetDataType()), Format: tokens.Format(it.GetFormat())})
	}
	results, err := s.engine.Tokenize(ctx, c, in)
	if err != nil {
		return nil, err
	}
	resp := &tokenvaultv1.TokenizeResponse{Results: make([]*tokenvaultv1.TokenizeResult, len(results))}
	for i, r := range results {
		if r.Err != nil {
			resp.Results[i] = &tokenvaultv1.TokenizeResult{Result: &tokenvaultv1.TokenizeResult_Error{Error: itemError(r.Err)}}
		} else {
			resp.Results[i] = &tokenvaultv1.TokenizeResult{Result: &tokenvaultv1.TokenizeResult_Token{Token: r.Token}}
		}
	}
	return resp, nil
}

func (s *Server) Detokenize(ctx context.Context, req *tokenvaultv1.DetokenizeRequest) (*tokenvaultv1.DetokenizeResponse, error) {
	c, err := revealFor(ctx, req.GetTenant())
	if err != nil {
		return nil, err
	}
	results, err := s.engine.Detokenize(ctx, c, req.GetPurpose(), req.GetTokens())
	if err != nil {
		return nil, err
	}
	resp := &tokenvaultv1.DetokenizeResponse{Results: make([]*tokenvaultv1.DetokenizeResult, len(results))}
	for i, r := range results {
		out := &tokenvaultv1.DetokenizeResult{Token: r.Token, Value: r.Value, DataType: tokenvaultv1.DataType(r.Type), Error: itemError(r.Err)}
		if r.Decision.Rule != "" {
			out.Decision = &tokenvaultv1.Decision{Allowed: r.Decision.Allowed, Rule: r.Decision.Rule, Reason: r.Decision.Reason}
		}
		resp.Results[i] = out
	}
	return resp, nil
}

func (s *Server) RevealMasked(ctx context.Context, req *tokenvaultv1.RevealMaskedRequest) (*tokenvaultv1.RevealMaskedResponse, error) {
	c, err := revealFor(ctx, req.GetTenant())
	if err != nil {
		return nil, err
	}
	results, err := s.engine.RevealMasked(ctx, c, req.GetTokens())
	if err != nil {
		return nil, err
	}
	resp := &tokenvaultv1.RevealMaskedResponse{Results: make([]*tokenvaultv1.MaskedResult, len(results))}
	for i, r := range results {
		resp.Results[i] = &tokenvaultv1.MaskedResult{Token: r.Token, Masked: r.Masked, DataType: tokenvaultv1.DataType(r.Type), Error: itemError(r.Err)}
	}
	return resp, nil
}

func (s *Server) LookupToken(ctx context.Context, req *tokenvaultv1.LookupTokenRequest) (*tokenvaultv1.LookupTokenResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	det, matches, err := s.engine.Lookup(ctx, c, req.GetTenant(), req.GetPurpose(), tokens.DataType(req.GetDataType()), req.GetValue())
	if err != nil {
		return nil, err
	}
	resp := &tokenvaultv1.LookupTokenResponse{DeterministicToken: det}
	for _, m := range matches {
		resp.Matches = append(resp.Matches, &tokenvaultv1.LookupMatch{Subject: m.Subject, Token: m.Token})
	}
	return resp, nil
}

func (s *Server) GetTokenMetadata(ctx context.Context, req *tokenvaultv1.GetTokenMetadataRequest) (*tokenvaultv1.GetTokenMetadataResponse, error) {
	c, err := revealFor(ctx, req.GetTenant())
	if err != nil {
		return nil, err
	}
	m, err := s.engine.TokenMetadata(ctx, c, req.GetToken())
	if err != nil {
		return nil, err
	}
	resp := &tokenvaultv1.GetTokenMetadataResponse{
		DataType: tokenvaultv1.DataType(m.DataType), Format: tokenvaultv1.TokenFormat(m.Format),
		Tenant: m.Tenant, Subject: m.Subject, Scope: m.Scope, CreateTime: timestamppb.New(m.Created), Erased: m.Erased,
	}
	if !m.Expires.IsZero() {
		resp.ExpireTime = timestamppb.New(m.Expires)
	}
	return resp, nil
}

func (s *Server) EraseSubject(ctx context.Context, req *tokenvaultv1.EraseSubjectRequest) (*tokenvaultv1.EraseSubjectResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := mayErase(c, req.GetSubject()); err != nil {
		return nil, err
	}
	ev, err := s.engine.EraseSubject(ctx, c, req.GetTenant(), req.GetSubject(), req.GetRequestId())
	if err != nil {
		return nil, err
	}
	out := &tokenvaultv1.ErasureEvidence{
		Subject: ev.Subject, RequestId: ev.RequestID, EraseTime: timestamppb.New(ev.Erased),
		TokensAffected: ev.TokensAffected, LookupEntriesRemoved: ev.LookupsRemoved, AlreadyErased: ev.AlreadyErased,
		DeterministicTokensRetired: ev.TokensRetired, DeterministicTokensKept: ev.TokensKept,
		KekVersion: int32(ev.KEKVersion), OldCopiesRetired: ev.OldCopiesRetired,
	}
	if !ev.RetireDue.IsZero() {
		out.RetireDueTime = timestamppb.New(ev.RetireDue)
	}
	for _, v := range ev.DestroyedVersions {
		out.DestroyedKeyVersions = append(out.DestroyedKeyVersions, int32(v))
	}
	return &tokenvaultv1.EraseSubjectResponse{Evidence: out}, nil
}

// channelPseudonym is the conversation service's pseudonymous subject of a
// messaging-platform user who has not linked an account: "chu_" and 26
// lower-case base32 characters (conversation's newID, 128 random bits).
var channelPseudonym = regexp.MustCompile(`^chu_[a-z2-7]{26}$`)

// mayErase: the consent workload erases any subject (the data-subject
// request orchestrator, ADR 0013). The conversation workload erases only
// its own channel pseudonyms, whose values nothing else references once
// the account they were linked to is erased (ADR 0014, "Channel identities
// and delivery"): an account id, or anything else, is refused, so that a
// compromised conversation cannot shred a customer's values outside a
// data-subject request. The Policy lets no other workload call at all.
func mayErase(c engine.Caller, subject string) error {
	switch c.Workload {
	case "consent":
		return nil
	case "conversation":
		if channelPseudonym.MatchString(subject) {
			return nil
		}
	}
	return errs.E(errs.PermissionDenied, reasons.NotChannelPseudonym,
		"%s may erase only its own channel pseudonyms; other subjects are erased by a data-subject request", c.Workload)
}

// ExportSubject pages through a subject's values. A page token carries the
// token to continue after, signed and bound to this request's tenant,
// subject and request_id (pkg/pagetoken): a client can neither forge a
// position nor carry a token over to another subject's export.
func (s *Server) ExportSubject(ctx context.Context, req *tokenvaultv1.ExportSubjectRequest) (*tokenvaultv1.ExportSubjectResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// The key is fetched before the export, so that a key backend outage
	// refuses the request rather than losing a page already decrypted and
	// audited for want of the token to the next one.
	pages, err := s.engine.PageTokens(ctx, req.GetTenant())
	if err != nil {
		return nil, err
	}
	after, err := pages.Decode(req, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	values, next, err := s.engine.ExportSubject(ctx, c, req.GetTenant(), req.GetSubject(), req.GetRequestId(), string(after), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	resp := &tokenvaultv1.ExportSubjectResponse{}
	if next != "" {
		if resp.NextPageToken, err = pages.Encode(req, []byte(next)); err != nil {
			return nil, err
		}
	}
	for _, v := range values {
		resp.Values = append(resp.Values, &tokenvaultv1.ExportedValue{
			Token: v.Token.Token, DataType: tokenvaultv1.DataType(v.DataType), Value: v.Value, Scope: v.Scope, CreateTime: timestamppb.New(v.Created),
		})
	}
	return resp, nil
}

func (s *Server) RotateKeys(ctx context.Context, req *tokenvaultv1.RotateKeysRequest) (*tokenvaultv1.RotateKeysResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var st engine.RotationStatus
	if req.GetSubject() != "" {
		if req.GetRotate() {
			return nil, errs.E(errs.InvalidArgument, reasons.RotateOneThing, "rotate either the key-encryption key or a subject's data key, not both")
		}
		st, err = s.engine.RotateSubjectKey(ctx, c, req.GetTenant(), req.GetSubject())
	} else {
		st, err = s.engine.RotateKeys(ctx, c, req.GetRotate())
	}
	if err != nil {
		return nil, err
	}
	return &tokenvaultv1.RotateKeysResponse{KekVersion: int32(st.KEKVersion), PendingRewrap: st.PendingRewrap, PendingReencrypt: st.PendingReencrypt,
		MinDecryptionVersion: int32(st.MinDecryptionVersion)}, nil
}
