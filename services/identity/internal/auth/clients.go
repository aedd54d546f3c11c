package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
)

// AssertionType is RFC 7523's client_assertion_type for private_key_jwt.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLifetime bounds exp - now of a client assertion: its jti is
// remembered until exp, so a long one would be remembered long.
const maxAssertionLifetime = 5 * time.Minute

func (s *Service) requireAdmin(ctx context.Context, c Caller) error {
	if _, _, err := s.callerAccount(ctx, c); err != nil {
		return err
	}
	if c.Kind != accesstoken.KindStaff || !c.HasRole(accesstoken.RoleAdmin) || c.AAL < accesstoken.AAL2 {
		return errs.E(errs.PermissionDenied, reasons.RoleRequired, "this needs the admin role at aal2")
	}
	return nil
}

// NewClient is CreateClient's input.
type NewClient struct {
	DisplayName string
	Scopes      []string
	// PublicJWK is an Ed25519 public key (JWK JSON) for private_key_jwt;
	// empty for a client secret.
	PublicJWK string
	Tenant    string
}

// CreateClient registers an integrator (an admin at aal2) and returns its
// id and, without a public key, its secret (shown once; stored as SHA-256:
// 256 random bits need no slow hash).
func (s *Service) CreateClient(ctx context.Context, c Caller, in NewClient) (string, string, error) {
	if err := s.requireAdmin(ctx, c); err != nil {
		return "", "", err
	}
	// A client's tokens carry its tenant; one without a tenant would act
	// as staff's (tenant "") in every service's tenant check.
	if err := requireTenant(in.Tenant, "a client"); err != nil {
		return "", "", err
	}
	cl := storage.Client{Tenant: in.Tenant, DisplayName: in.DisplayName, Scopes: slices.Clone(in.Scopes), Created: s.now()}
	slices.Sort(cl.Scopes)
	var secret string
	if in.PublicJWK != "" {
		if _, err := parseClientKey(in.PublicJWK); err != nil {
			return "", "", err
		}
		cl.PublicJWK = in.PublicJWK
	} else {
		var err error
		if secret, err = newSecret(); err != nil {
			return "", "", err
		}
		cl.SecretHash = hashSecret(secret)
	}
	var err error
	if cl.ID, err = newID("cli"); err != nil {
		return "", "", err
	}
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.InsertClient(ctx, tx, cl); err != nil {
			return err
		}
		return s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionClientCreate, auditclient.Success, "", ResourceClient, cl.ID, ""))
	})
	if err != nil {
		return "", "", err
	}
	return cl.ID, secret, nil
}

// parseClientKey accepts exactly an Ed25519 public key (OKP, crv Ed25519,
// no private part).
func parseClientKey(jwk string) (ed25519.PublicKey, error) {
	var k jose.JSONWebKey
	bad := errs.E(errs.InvalidArgument, reasons.PublicKeyInvalid, "public_jwk must be an Ed25519 public key (JWK)")
	if err := k.UnmarshalJSON([]byte(jwk)); err != nil || !k.Valid() || !k.IsPublic() {
		return nil, bad
	}
	pub, ok := k.Key.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, bad
	}
	return pub, nil
}

// RevokeClient revokes an integrator (an admin at aal2): it can get no new
// token, and every service refuses the ones it holds within the feed's
// latency.
func (s *Service) RevokeClient(ctx context.Context, c Caller, clientID string) error {
	if err := s.requireAdmin(ctx, c); err != nil {
		return err
	}
	now := s.now()
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		revoked, err := s.Store.RevokeClient(ctx, tx, clientID, now)
		if err != nil || !revoked {
			return err
		}
		if err := s.Audit.Enqueue(ctx, tx, s.event(ctx, ActionClientRevoke, auditclient.Success, "", ResourceClient, clientID, "")); err != nil {
			return err
		}
		return s.revoke(ctx, tx, storage.RevokedClient, []string{clientID}, now)
	})
	if err == nil {
		s.notify()
	}
	return err
}

// ClientGrant is IssueClientToken's input (RFC 6749 section 4.4 with
// client_secret_post or RFC 7523 private_key_jwt).
type ClientGrant struct {
	ClientID      string
	Secret        string
	AssertionType string
	Assertion     string
	Scope         string
	Origin        Origin
}

// ClientToken is an issued client token.
type ClientToken struct {
	AccessToken string
	ExpiresIn   time.Duration
	Scope       string
}

func errClientAuth() error {
	return errs.E(errs.Unauthenticated, reasons.ClientAuthFailed, "client authentication failed")
}

// IssueClientToken is the client-credentials grant: a client secret or a
// private-key JWT yields a short-lived access token with the requested
// scopes (a subset of the client's; all when none is asked).
func (s *Service) IssueClientToken(ctx context.Context, g ClientGrant) (ClientToken, error) {
	if err := s.throttle(g.Origin); err != nil {
		return ClientToken{}, err
	}
	if (g.Secret == "") == (g.Assertion == "") {
		return ClientToken{}, errs.E(errs.InvalidArgument, reasons.ClientCredentialsAmbiguous, "give either client_secret or client_assertion")
	}
	if g.Assertion != "" && g.AssertionType != AssertionType {
		return ClientToken{}, errs.E(errs.InvalidArgument, reasons.ClientCredentialsAmbiguous, "client_assertion_type must be %s", AssertionType)
	}
	deny := func(reason string, err error) (ClientToken, error) {
		s.failed(g.Origin, "client:"+g.ClientID)
		s.record(ctx, s.event(ctx, ActionClientToken, auditclient.Denied, "", ResourceClient, g.ClientID, reason))
		return ClientToken{}, err
	}
	cl, err := s.Store.Client(ctx, s.Store.DB(), g.ClientID)
	if errs.Is(err, errs.NotFound) {
		return deny(reasons.ClientAuthFailed, errClientAuth())
	}
	if err != nil {
		return ClientToken{}, err
	}
	if !cl.Revoked.IsZero() {
		return deny(reasons.ClientAuthFailed, errClientAuth())
	}
	now := s.now()
	if g.Secret != "" {
		if cl.SecretHash == "" || subtle.ConstantTimeCompare([]byte(hashSecret(g.Secret)), []byte(cl.SecretHash)) != 1 {
			return deny(reasons.ClientAuthFailed, errClientAuth())
		}
	} else {
		if cl.PublicJWK == "" {
			return deny(reasons.ClientAuthFailed, errClientAuth())
		}
		if err := s.checkAssertion(ctx, cl, g.Assertion, now); err != nil {
			return deny(errs.ReasonOf(err), err)
		}
	}
	scopes := cl.Scopes
	if g.Scope != "" {
		scopes = strings.Fields(g.Scope)
		for _, sc := range scopes {
			if !slices.Contains(cl.Scopes, sc) {
				return deny(reasons.ScopeNotAllowed, errs.E(errs.PermissionDenied, reasons.ScopeNotAllowed, "a requested scope is not the client's"))
			}
		}
		slices.Sort(scopes)
		scopes = slices.Compact(scopes)
	}
	scope := strings.Join(scopes, " ")
	// Signed while the client's row is held and still live, so a
	// revocation cannot commit between the check above and the signature
	// (storage.LockLiveClient).
	var tok string
	var claims accesstoken.Claims
	live := true
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if live, err = s.Store.LockLiveClient(ctx, tx, cl.ID); err != nil || !live {
			return err
		}
		if s.OnClientTokenSigning != nil {
			s.OnClientTokenSigning()
		}
		tok, claims, err = s.Tokens.IssueClaims(ctx, accesstoken.Claims{
			Subject: cl.ID, Kind: accesstoken.KindClient, Tenant: cl.Tenant, SessionID: cl.ID,
			AAL: accesstoken.AALNone, Scope: scope,
		})
		return err
	})
	if err != nil {
		return ClientToken{}, err
	}
	if !live {
		return deny(reasons.ClientAuthFailed, errClientAuth())
	}
	s.record(ctx, s.event(ctx, ActionClientToken, auditclient.Success, "", ResourceClient, cl.ID, ""))
	return ClientToken{AccessToken: tok, ExpiresIn: claims.Expiry.Sub(claims.IssuedAt), Scope: scope}, nil
}

// assertionClaims are the claims RFC 7523 section 3 requires.
type assertionClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expiry   int64           `json:"exp"`
	NotBef   int64           `json:"nbf"`
	IssuedAt int64           `json:"iat"`
	ID       string          `json:"jti"`
}

func (a assertionClaims) audiences() []string {
	var one string
	if json.Unmarshal(a.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(a.Audience, &many)
	return many
}

// checkAssertion verifies a private-key JWT: EdDSA only, the client's key,
// iss = sub = client id, an audience that is identity's, not expired and
// not valid for longer than five minutes, not before its nbf/iat, and a jti
// never seen for the client (remembered until exp).
func (s *Service) checkAssertion(ctx context.Context, cl storage.Client, assertion string, now time.Time) error {
	bad := func(msg string) error {
		return errs.E(errs.Unauthenticated, reasons.ClientAssertionInvalid, "client assertion: %s", msg)
	}
	pub, err := parseClientKey(cl.PublicJWK)
	if err != nil {
		return errs.Wrap(err, errs.Internal, reasons.PublicKeyInvalid, "the client's stored key is invalid")
	}
	jws, err := jose.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil || len(jws.Signatures) != 1 {
		return bad("not an EdDSA-signed JWT")
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return bad("the signature does not verify")
	}
	var c assertionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return bad("the claims do not decode")
	}
	skew := s.cfg.Skew
	exp := time.Unix(c.Expiry, 0)
	switch {
	case c.Issuer != cl.ID || c.Subject != cl.ID:
		return bad("iss and sub must be the client id")
	case !slices.ContainsFunc(c.audiences(), func(a string) bool { return slices.Contains(s.cfg.ClientAudiences, a) }):
		return bad("aud is not identity")
	case c.Expiry == 0 || !now.Before(exp.Add(skew)):
		return bad("expired")
	case exp.Sub(now) > maxAssertionLifetime+skew:
		return bad("valid for too long")
	case c.NotBef != 0 && now.Add(skew).Before(time.Unix(c.NotBef, 0)):
		return bad("not yet valid")
	case c.IssuedAt != 0 && now.Add(skew).Before(time.Unix(c.IssuedAt, 0)):
		return bad("issued in the future")
	case c.ID == "" || len(c.ID) > 256:
		return bad("jti is missing")
	}
	return s.Store.RecordAssertion(ctx, s.Store.DB(), cl.ID, c.ID, exp.Add(skew))
}
