// Package contacts keeps identity's contact details in the token vault:
// identity stores no e-mail address or phone number, only tokens of them.
//
//   - An address is tokenised twice under the account (the vault's subject):
//     deterministically (TOKEN_FORMAT_DETERMINISTIC: equal addresses of a
//     tenant get equal tokens) so that login by e-mail is a lookup of the
//     token in identity's own table, and randomly, so that the account has a
//     token of its own for the masked view (a deterministic token can belong
//     to several subjects, which the vault cannot mask unambiguously).
//   - A phone number is tokenised deterministically.
//   - Login and password reset find the token of a typed address with
//     LookupToken (the vault's policy grants identity that and nothing else
//     on these types; every lookup is audited by the vault).
//   - GetAccount shows RevealMasked of the random token.
//
// Tenants: a customer's tenant is the vault's tenant; staff (identity's
// tenant "") are in the vault's default tenant.
package contacts

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Purposes identity states to the vault for lookups (policy.yaml grants
// them to identity for e-mail addresses).
const (
	// PurposeAuthentication: login and sign-up find the account of an
	// address.
	PurposeAuthentication = "authentication"
	// PurposeAccountRecovery: a password reset finds the account of an
	// address.
	PurposeAccountRecovery = "account_recovery"
)

// Tokens are the tokens of an account's contact details.
type Tokens struct {
	// Email is the deterministic token: the login name.
	Email string
	// EmailMask is a random token of the same address, for its masked view.
	EmailMask string
	// Phone is the deterministic token of the phone number, or "".
	Phone string
}

// Vault is the token vault, as identity uses it.
type Vault struct {
	rpc tokenvaultv1.TokenVaultServiceClient
}

// New uses rpc (an mTLS client of tokenvault).
func New(rpc tokenvaultv1.TokenVaultServiceClient) *Vault { return &Vault{rpc: rpc} }

// Tokenize stores the account's address (and phone, if not empty) in the
// vault under subject (the account id) and returns their tokens. An invalid
// address or number is InvalidArgument EMAIL_INVALID / PHONE_INVALID.
func (v *Vault) Tokenize(ctx context.Context, tenant, subject, email, phone string) (Tokens, error) {
	req := &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: subject, Items: []*tokenvaultv1.TokenizeItem{
		{Value: email, DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL, Format: tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC},
		{Value: email, DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL, Format: tokenvaultv1.TokenFormat_TOKEN_FORMAT_RANDOM},
	}}
	if phone != "" {
		req.Items = append(req.Items, &tokenvaultv1.TokenizeItem{Value: phone, DataType: tokenvaultv1.DataType_DATA_TYPE_PHONE,
			Format: tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC})
	}
	resp, err := v.rpc.Tokenize(ctx, req)
	if err != nil {
		return Tokens{}, vaultError(err, reasons.EmailInvalid)
	}
	res := resp.GetResults()
	if len(res) != len(req.Items) {
		return Tokens{}, errs.E(errs.Unavailable, reasons.VaultUnavailable, "the token vault gave an incomplete answer")
	}
	for i, r := range res {
		if r.GetError() != nil || r.GetToken() == "" {
			if i == 2 {
				return Tokens{}, errs.E(errs.InvalidArgument, reasons.PhoneInvalid, "the phone number is not valid")
			}
			return Tokens{}, errs.E(errs.InvalidArgument, reasons.EmailInvalid, "the e-mail address is not valid")
		}
	}
	t := Tokens{Email: res[0].GetToken(), EmailMask: res[1].GetToken()}
	if phone != "" {
		t.Phone = res[2].GetToken()
	}
	return t, nil
}

// TokenizePhone stores a phone number under subject (deterministically,
// as Tokenize does) and returns its token; an invalid number is
// InvalidArgument PHONE_INVALID.
func (v *Vault) TokenizePhone(ctx context.Context, tenant, subject, phone string) (string, error) {
	resp, err := v.rpc.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: subject, Items: []*tokenvaultv1.TokenizeItem{
		{Value: phone, DataType: tokenvaultv1.DataType_DATA_TYPE_PHONE, Format: tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC},
	}})
	if err != nil {
		return "", vaultError(err, reasons.PhoneInvalid)
	}
	res := resp.GetResults()
	if len(res) != 1 {
		return "", errs.E(errs.Unavailable, reasons.VaultUnavailable, "the token vault gave an incomplete answer")
	}
	if res[0].GetError() != nil || res[0].GetToken() == "" {
		return "", errs.E(errs.InvalidArgument, reasons.PhoneInvalid, "the phone number is not valid")
	}
	return res[0].GetToken(), nil
}

// LookupEmail returns the deterministic token of an address in tenant,
// whether or not an account holds it (the vault answers the same), for
// purpose.
func (v *Vault) LookupEmail(ctx context.Context, tenant, email, purpose string) (string, error) {
	resp, err := v.rpc.LookupToken(ctx, &tokenvaultv1.LookupTokenRequest{
		Tenant: tenant, DataType: tokenvaultv1.DataType_DATA_TYPE_EMAIL, Value: email, Purpose: purpose,
	})
	if err != nil {
		return "", vaultError(err, reasons.EmailInvalid)
	}
	if resp.GetDeterministicToken() == "" {
		return "", errs.E(errs.Unavailable, reasons.VaultUnavailable, "the token vault gave an incomplete answer")
	}
	return resp.GetDeterministicToken(), nil
}

// tenantProbe is the address KnownTenant looks up: a reserved domain
// (RFC 2606), so it is nobody's and names nobody in the vault's audit.
const tenantProbe = "tenant-probe@sotto.invalid"

// KnownTenant reports whether the vault serves tenant (a shop exists). The
// vault has no call for that alone; a lookup of a reserved address under
// PurposeAuthentication answers it the way sign-up learns it, and stores
// nothing.
func (v *Vault) KnownTenant(ctx context.Context, tenant string) (bool, error) {
	_, err := v.LookupEmail(ctx, tenant, tenantProbe, PurposeAuthentication)
	if IsUnknownTenant(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// MaskEmail returns the masked view of the address behind token, a token
// of tenant (the vault treats other shops' tokens as unknown).
func (v *Vault) MaskEmail(ctx context.Context, tenant, token string) (string, error) {
	resp, err := v.rpc.RevealMasked(ctx, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{token}, Tenant: tenant})
	if err != nil {
		return "", vaultError(err, reasons.EmailInvalid)
	}
	if len(resp.GetResults()) != 1 || resp.GetResults()[0].GetError() != nil {
		return "", errs.E(errs.Unavailable, reasons.VaultUnavailable, "the token vault has no masked view of the address")
	}
	return resp.GetResults()[0].GetMasked(), nil
}

// Reason and domain of the vault's answer for a tenant it does not serve
// (services/tokenvault: NotFound UNKNOWN_TENANT).
const (
	vaultUnknownTenant = "UNKNOWN_TENANT"
	vaultDomain        = "tokenvault." + errs.Domain
)

// vaultError maps the vault's answer to identity's: a value the vault finds
// invalid is the client's (invalidReason); a tenant the vault does not serve
// is NotFound TENANT_UNKNOWN (the caller decides what a person is told); a
// refusal by the vault's policy is identity's misconfiguration (Internal
// VAULT_REFUSED: fail closed, and never mistaken for an answer about the
// address); anything else is Unavailable.
func vaultError(err error, invalidReason string) error {
	switch status.Code(err) {
	case codes.NotFound:
		if vaultReason(err) == vaultUnknownTenant {
			return errs.Wrap(err, errs.NotFound, reasons.TenantUnknown, "no such shop")
		}
	case codes.InvalidArgument:
		return errs.Wrap(err, errs.InvalidArgument, invalidReason, "the value is not valid")
	case codes.PermissionDenied:
		return errs.Wrap(err, errs.Internal, reasons.VaultRefused, "the token vault refused identity's request")
	case codes.Canceled, codes.DeadlineExceeded:
		return errs.Wrap(err, errs.DeadlineExceeded, reasons.VaultUnavailable, "the token vault did not answer in time")
	}
	return errs.Wrap(err, errs.Unavailable, reasons.VaultUnavailable, "the token vault is unavailable")
}

// vaultReason is the reason of the vault's own ErrorInfo in err, or "". A
// reason of another domain (one the vault passed on) is not the vault's
// answer.
func vaultReason(err error) string {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == vaultDomain {
			return info.GetReason()
		}
	}
	return ""
}

// IsUnknownTenant reports whether err is the vault's answer for a tenant it
// does not serve.
func IsUnknownTenant(err error) bool { return errs.ReasonOf(err) == reasons.TenantUnknown }
