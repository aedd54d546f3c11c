// Package server is identity's gRPC API: it turns requests into calls of
// the domain (internal/auth) and results into responses. Workload
// authorisation is Policy (pkg/authz); the end user behind a call is
// authenticated by pkg/enduser's interceptor with the EndUsers table
// (installed by pkg/service's EndUsersFrom, after workload authorisation
// and before validation).
package server

import (
	"context"
	"encoding/binary"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/identity/internal/auth"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
)

// Server implements identityv1.IdentityServiceServer.
type Server struct {
	identityv1.UnimplementedIdentityServiceServer
	domain *auth.Service
	pages  *pagetoken.Codec
}

var _ identityv1.IdentityServiceServer = (*Server)(nil)

// New returns the server over the domain; pages signs ListSessions' page
// tokens.
func New(domain *auth.Service, pages *pagetoken.Codec) *Server {
	return &Server{domain: domain, pages: pages}
}

// Metadata the gateway sets (and only the gateway is believed about):
// the client's address, which identity throttles by, and its user agent.
const (
	clientIPMetadata  = "x-sotto-client-ip"
	userAgentMetadata = "x-sotto-user-agent"
	maxUserAgent      = 128
)

// origin says where a request came from. The client's address is taken
// from x-sotto-client-ip only when the gateway workload made the call (the
// gateway resolves it from the connection, or from X-Forwarded-For of its
// trusted proxies, and drops whatever the client sent); any other caller is
// throttled as itself. A gateway call without a valid address is throttled
// as one shared source, so it cannot escape the limiter.
func origin(ctx context.Context) auth.Origin {
	id, err := mtls.PeerID(ctx)
	if err != nil {
		return auth.Origin{Source: "unknown"}
	}
	name := strings.TrimPrefix(id.Path(), "/")
	if name != "gateway" {
		return auth.Origin{Source: "workload:" + name}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	o := auth.Origin{Source: "gateway:unknown"}
	if vs := md.Get(clientIPMetadata); len(vs) == 1 {
		if ip, err := netip.ParseAddr(vs[0]); err == nil {
			o.Source = "ip:" + ip.Unmap().String()
		}
	}
	if vs := md.Get(userAgentMetadata); len(vs) == 1 {
		ua := strings.ToValidUTF8(vs[0], "")
		for len(ua) > maxUserAgent {
			_, n := utf8.DecodeLastRuneInString(ua)
			ua = ua[:len(ua)-n]
		}
		o.UserAgent = ua
	}
	return o
}

// caller is the verified person behind the call.
func caller(ctx context.Context) (auth.Caller, error) {
	p, ok := enduser.FromContext(ctx)
	if !ok || !p.IsPerson() {
		return auth.Caller{}, errs.E(errs.Unauthenticated, reasons.EndUserRequired, "this call needs a person's access token")
	}
	return auth.Caller{AccountID: p.Subject, SessionID: p.SessionID, Kind: p.Kind, Tenant: p.Tenant,
		Roles: p.Roles, AAL: p.AAL, AuthTime: p.AuthTime}, nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func tokens(t auth.Tokens) *identityv1.Tokens {
	return &identityv1.Tokens{AccessToken: t.AccessToken, AccessTokenExpiresAt: ts(t.AccessExpires), RefreshToken: t.RefreshToken,
		SessionExpiresAt: ts(t.SessionExpires), SessionId: t.SessionID, Aal: int32(t.AAL)}
}

// SignUp implements the RPC.
func (s *Server) SignUp(ctx context.Context, req *identityv1.SignUpRequest) (*identityv1.SignUpResponse, error) {
	err := s.domain.SignUp(ctx, auth.SignUpInput{Tenant: req.GetTenant(), Email: req.GetEmail(), Password: req.GetPassword(),
		Phone: req.GetPhone(), Language: req.GetLanguage(), Origin: origin(ctx)})
	if err != nil {
		return nil, err
	}
	return &identityv1.SignUpResponse{}, nil
}

// VerifyEmail implements the RPC.
func (s *Server) VerifyEmail(ctx context.Context, req *identityv1.VerifyEmailRequest) (*identityv1.VerifyEmailResponse, error) {
	if err := s.domain.VerifyEmail(ctx, req.GetCode(), origin(ctx)); err != nil {
		return nil, err
	}
	return &identityv1.VerifyEmailResponse{}, nil
}

// Login implements the RPC.
func (s *Server) Login(ctx context.Context, req *identityv1.LoginRequest) (*identityv1.LoginResponse, error) {
	res, err := s.domain.Login(ctx, auth.LoginInput{Tenant: req.GetTenant(), Email: req.GetEmail(), Password: req.GetPassword(), Origin: origin(ctx)})
	if err != nil {
		return nil, err
	}
	return &identityv1.LoginResponse{Tokens: tokens(res.Tokens), SecondFactorAvailable: res.SecondFactorAvailable,
		SecondFactorEnrollmentRequired: res.EnrollmentRequired}, nil
}

// RefreshSession implements the RPC.
func (s *Server) RefreshSession(ctx context.Context, req *identityv1.RefreshSessionRequest) (*identityv1.RefreshSessionResponse, error) {
	t, err := s.domain.Refresh(ctx, req.GetRefreshToken(), origin(ctx))
	if err != nil {
		return nil, err
	}
	return &identityv1.RefreshSessionResponse{Tokens: tokens(t)}, nil
}

// Logout implements the RPC.
func (s *Server) Logout(ctx context.Context, _ *identityv1.LogoutRequest) (*identityv1.LogoutResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.domain.Logout(ctx, c); err != nil {
		return nil, err
	}
	return &identityv1.LogoutResponse{}, nil
}

func kindOf(k string) identityv1.AccountKind {
	switch k {
	case storage.KindCustomer:
		return identityv1.AccountKind_ACCOUNT_KIND_CUSTOMER
	case storage.KindStaff:
		return identityv1.AccountKind_ACCOUNT_KIND_STAFF
	}
	return identityv1.AccountKind_ACCOUNT_KIND_UNSPECIFIED
}

// GetAccount implements the RPC.
func (s *Server) GetAccount(ctx context.Context, _ *identityv1.GetAccountRequest) (*identityv1.GetAccountResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.domain.GetAccount(ctx, c)
	if err != nil {
		return nil, err
	}
	return &identityv1.GetAccountResponse{Account: &identityv1.Account{
		AccountId: a.ID, Kind: kindOf(a.Kind), Tenant: a.Tenant, EmailMasked: a.EmailMasked, EmailVerified: a.EmailVerified,
		Roles: a.Roles, CreateTime: ts(a.Created),
	}}, nil
}

// ChangePassword implements the RPC.
func (s *Server) ChangePassword(ctx context.Context, req *identityv1.ChangePasswordRequest) (*identityv1.ChangePasswordResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.domain.ChangePassword(ctx, c, req.GetCurrentPassword(), req.GetNewPassword()); err != nil {
		return nil, err
	}
	return &identityv1.ChangePasswordResponse{}, nil
}

// RequestPasswordReset implements the RPC.
func (s *Server) RequestPasswordReset(ctx context.Context, req *identityv1.RequestPasswordResetRequest) (*identityv1.RequestPasswordResetResponse, error) {
	if err := s.domain.RequestPasswordReset(ctx, req.GetTenant(), req.GetEmail(), "", origin(ctx)); err != nil {
		return nil, err
	}
	return &identityv1.RequestPasswordResetResponse{}, nil
}

// ResetPassword implements the RPC.
func (s *Server) ResetPassword(ctx context.Context, req *identityv1.ResetPasswordRequest) (*identityv1.ResetPasswordResponse, error) {
	if err := s.domain.ResetPassword(ctx, req.GetCode(), req.GetNewPassword(), origin(ctx)); err != nil {
		return nil, err
	}
	return &identityv1.ResetPasswordResponse{}, nil
}

// DeleteAccount implements the RPC.
func (s *Server) DeleteAccount(ctx context.Context, _ *identityv1.DeleteAccountRequest) (*identityv1.DeleteAccountResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.domain.DeleteAccount(ctx, c); err != nil {
		return nil, err
	}
	return &identityv1.DeleteAccountResponse{}, nil
}

// BeginTotpEnrollment implements the RPC.
func (s *Server) BeginTotpEnrollment(ctx context.Context, _ *identityv1.BeginTotpEnrollmentRequest) (*identityv1.BeginTotpEnrollmentResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.domain.BeginTotp(ctx, c)
	if err != nil {
		return nil, err
	}
	return &identityv1.BeginTotpEnrollmentResponse{FactorId: e.FactorID, OtpauthUri: e.URI, QrPng: e.QRCodePNG}, nil
}

// ConfirmTotpEnrollment implements the RPC.
func (s *Server) ConfirmTotpEnrollment(ctx context.Context, req *identityv1.ConfirmTotpEnrollmentRequest) (*identityv1.ConfirmTotpEnrollmentResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := s.domain.ConfirmTotp(ctx, c, req.GetFactorId(), req.GetCode())
	if err != nil {
		return nil, err
	}
	// No tokens: confirming does not raise the session; the client steps
	// up with the new factor (StepUp) to reach aal2.
	return &identityv1.ConfirmTotpEnrollmentResponse{RecoveryCodes: codes}, nil
}

// BeginWebAuthnRegistration implements the RPC.
func (s *Server) BeginWebAuthnRegistration(ctx context.Context, req *identityv1.BeginWebAuthnRegistrationRequest) (*identityv1.BeginWebAuthnRegistrationResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	cer, err := s.domain.BeginWebAuthnRegistration(ctx, c, req.GetDisplayName())
	if err != nil {
		return nil, err
	}
	return &identityv1.BeginWebAuthnRegistrationResponse{CeremonyId: cer.ID, OptionsJson: cer.OptionsJSON}, nil
}

// FinishWebAuthnRegistration implements the RPC.
func (s *Server) FinishWebAuthnRegistration(ctx context.Context, req *identityv1.FinishWebAuthnRegistrationRequest) (*identityv1.FinishWebAuthnRegistrationResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, codes, err := s.domain.FinishWebAuthnRegistration(ctx, c, req.GetCeremonyId(), req.GetCredentialJson())
	if err != nil {
		return nil, err
	}
	return &identityv1.FinishWebAuthnRegistrationResponse{FactorId: id, RecoveryCodes: codes}, nil
}

func factorType(t string) identityv1.FactorType {
	switch t {
	case storage.FactorTOTP:
		return identityv1.FactorType_FACTOR_TYPE_TOTP
	case storage.FactorWebAuthn:
		return identityv1.FactorType_FACTOR_TYPE_WEBAUTHN
	}
	return identityv1.FactorType_FACTOR_TYPE_UNSPECIFIED
}

// ListFactors implements the RPC.
func (s *Server) ListFactors(ctx context.Context, _ *identityv1.ListFactorsRequest) (*identityv1.ListFactorsResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	l, err := s.domain.ListFactors(ctx, c)
	if err != nil {
		return nil, err
	}
	out := &identityv1.ListFactorsResponse{RecoveryCodesRemaining: int32(l.RecoveryRemaining)}
	for _, f := range l.Factors {
		out.Factors = append(out.Factors, &identityv1.Factor{FactorId: f.ID, Type: factorType(f.Type), DisplayName: f.DisplayName,
			CreateTime: ts(f.Created), LastUsedTime: ts(f.LastUsed)})
	}
	return out, nil
}

// DeleteFactor implements the RPC.
func (s *Server) DeleteFactor(ctx context.Context, req *identityv1.DeleteFactorRequest) (*identityv1.DeleteFactorResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.domain.DeleteFactor(ctx, c, req.GetFactorId()); err != nil {
		return nil, err
	}
	return &identityv1.DeleteFactorResponse{}, nil
}

// RegenerateRecoveryCodes implements the RPC.
func (s *Server) RegenerateRecoveryCodes(ctx context.Context, _ *identityv1.RegenerateRecoveryCodesRequest) (*identityv1.RegenerateRecoveryCodesResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := s.domain.RegenerateRecoveryCodes(ctx, c)
	if err != nil {
		return nil, err
	}
	return &identityv1.RegenerateRecoveryCodesResponse{RecoveryCodes: codes}, nil
}

// StepUp implements the RPC.
func (s *Server) StepUp(ctx context.Context, req *identityv1.StepUpRequest) (*identityv1.StepUpResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.domain.StepUp(ctx, c, auth.Proof{TOTP: req.GetTotpCode(), RecoveryCode: req.GetRecoveryCode()})
	if err != nil {
		return nil, err
	}
	return &identityv1.StepUpResponse{Tokens: tokens(t)}, nil
}

// optionalCaller is the person behind the call, if any.
func optionalCaller(ctx context.Context) (*auth.Caller, error) {
	if _, ok := enduser.FromContext(ctx); !ok {
		return nil, nil
	}
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// BeginWebAuthnLogin implements the RPC.
func (s *Server) BeginWebAuthnLogin(ctx context.Context, req *identityv1.BeginWebAuthnLoginRequest) (*identityv1.BeginWebAuthnLoginResponse, error) {
	c, err := optionalCaller(ctx)
	if err != nil {
		return nil, err
	}
	cer, err := s.domain.BeginWebAuthnLogin(ctx, c, req.GetTenant(), origin(ctx))
	if err != nil {
		return nil, err
	}
	return &identityv1.BeginWebAuthnLoginResponse{CeremonyId: cer.ID, OptionsJson: cer.OptionsJSON}, nil
}

// FinishWebAuthnLogin implements the RPC.
func (s *Server) FinishWebAuthnLogin(ctx context.Context, req *identityv1.FinishWebAuthnLoginRequest) (*identityv1.FinishWebAuthnLoginResponse, error) {
	c, err := optionalCaller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.domain.FinishWebAuthnLogin(ctx, c, req.GetCeremonyId(), req.GetCredentialJson(), origin(ctx))
	if err != nil {
		return nil, err
	}
	return &identityv1.FinishWebAuthnLoginResponse{Tokens: tokens(t)}, nil
}

// ListSessions implements the RPC. Page tokens are bound to the account
// listed (the caller's own when the request names none).
func (s *Server) ListSessions(ctx context.Context, req *identityv1.ListSessionsRequest) (*identityv1.ListSessionsResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	query := &identityv1.ListSessionsRequest{AccountId: req.GetAccountId()}
	if query.AccountId == "" {
		query.AccountId = c.AccountID
	}
	raw, err := s.pages.Decode(query, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	var after *storage.SessionCursor
	if raw != nil {
		if len(raw) < 9 {
			return nil, errs.E(errs.InvalidArgument, reasons.PageTokenInvalid, "page_token is not valid")
		}
		after = &storage.SessionCursor{Created: time.UnixMicro(int64(binary.BigEndian.Uint64(raw[:8]))).UTC(), ID: string(raw[8:])}
	}
	page, err := s.domain.ListSessions(ctx, c, query.AccountId, after, int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &identityv1.ListSessionsResponse{}
	for _, x := range page.Sessions {
		out.Sessions = append(out.Sessions, &identityv1.Session{
			SessionId: x.ID, AccountId: x.AccountID, Aal: int32(x.AAL), Amr: x.AMR, CreateTime: ts(x.Created),
			LastUsedTime: ts(x.LastUsed), ExpireTime: ts(x.Expires), Current: x.ID == c.SessionID, UserAgent: x.UserAgent,
		})
	}
	if page.Next != nil {
		cur := binary.BigEndian.AppendUint64(nil, uint64(page.Next.Created.UnixMicro()))
		cur = append(cur, page.Next.ID...)
		if out.NextPageToken, err = s.pages.Encode(query, cur); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RevokeSession implements the RPC.
func (s *Server) RevokeSession(ctx context.Context, req *identityv1.RevokeSessionRequest) (*identityv1.RevokeSessionResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.domain.RevokeSession(ctx, c, req.GetSessionId()); err != nil {
		return nil, err
	}
	return &identityv1.RevokeSessionResponse{}, nil
}

// CreateStaffAccount implements the RPC.
func (s *Server) CreateStaffAccount(ctx context.Context, req *identityv1.CreateStaffAccountRequest) (*identityv1.CreateStaffAccountResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := s.domain.CreateStaffAccount(ctx, c, req.GetEmail(), req.GetRoles(), req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &identityv1.CreateStaffAccountResponse{AccountId: id}, nil
}

// BootstrapAdmin implements the RPC (the CLI workload only, by Policy).
func (s *Server) BootstrapAdmin(ctx context.Context, req *identityv1.BootstrapAdminRequest) (*identityv1.BootstrapAdminResponse, error) {
	id, pw, err := s.domain.BootstrapAdmin(ctx, req.GetEmail())
	if err != nil {
		return nil, err
	}
	return &identityv1.BootstrapAdminResponse{AccountId: id, InitialPassword: pw}, nil
}

// CreateClient implements the RPC.
func (s *Server) CreateClient(ctx context.Context, req *identityv1.CreateClientRequest) (*identityv1.CreateClientResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, secret, err := s.domain.CreateClient(ctx, c, auth.NewClient{DisplayName: req.GetDisplayName(), Scopes: req.GetScopes(),
		PublicJWK: req.GetPublicJwk(), Tenant: req.GetTenant()})
	if err != nil {
		return nil, err
	}
	return &identityv1.CreateClientResponse{ClientId: id, ClientSecret: secret}, nil
}

// RevokeClient implements the RPC.
func (s *Server) RevokeClient(ctx context.Context, req *identityv1.RevokeClientRequest) (*identityv1.RevokeClientResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.domain.RevokeClient(ctx, c, req.GetClientId()); err != nil {
		return nil, err
	}
	return &identityv1.RevokeClientResponse{}, nil
}

// IssueClientToken implements the RPC.
func (s *Server) IssueClientToken(ctx context.Context, req *identityv1.IssueClientTokenRequest) (*identityv1.IssueClientTokenResponse, error) {
	t, err := s.domain.IssueClientToken(ctx, auth.ClientGrant{ClientID: req.GetClientId(), Secret: req.GetClientSecret(),
		AssertionType: req.GetClientAssertionType(), Assertion: req.GetClientAssertion(), Scope: req.GetScope(), Origin: origin(ctx)})
	if err != nil {
		return nil, err
	}
	return &identityv1.IssueClientTokenResponse{AccessToken: t.AccessToken, TokenType: "Bearer",
		ExpiresIn: int32(t.ExpiresIn / time.Second), Scope: t.Scope}, nil
}

// CreateVisitorSession implements the RPC.
func (s *Server) CreateVisitorSession(ctx context.Context, req *identityv1.CreateVisitorSessionRequest) (*identityv1.CreateVisitorSessionResponse, error) {
	v, err := s.domain.CreateVisitorSession(ctx, req.GetTenant(), origin(ctx))
	if err != nil {
		return nil, err
	}
	return &identityv1.CreateVisitorSessionResponse{AccessToken: v.AccessToken, VisitorId: v.VisitorID, ExpireTime: ts(v.Expires)}, nil
}

// GetJwks implements the RPC.
func (s *Server) GetJwks(ctx context.Context, _ *identityv1.GetJwksRequest) (*identityv1.GetJwksResponse, error) {
	b, maxAge, err := s.domain.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	return &identityv1.GetJwksResponse{JwksJson: b, MaxAge: durationpb.New(maxAge)}, nil
}

// WatchRevocations implements the RPC.
func (s *Server) WatchRevocations(req *identityv1.WatchRevocationsRequest, stream grpc.ServerStreamingServer[identityv1.WatchRevocationsResponse]) error {
	return s.domain.WatchRevocations(stream.Context(), req.GetCursor(), func(r auth.Revocation) error {
		msg := &identityv1.WatchRevocationsResponse{Cursor: r.Cursor, RevokeTime: ts(r.Revoked), ExpireTime: ts(r.Expires)}
		switch r.Kind {
		case storage.RevokedSession:
			msg.SessionId = r.TargetID
		case storage.RevokedClient:
			msg.ClientId = r.TargetID
		}
		return stream.Send(msg)
	})
}
