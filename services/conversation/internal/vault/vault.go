// Package vault is the conversation service's client of the token vault:
// one Tokenize call per message, with each PII type mapped to the vault's
// data type.
package vault

import (
	"context"
	"strings"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/services/conversation/internal/conversation"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
)

// Client is what the vault's generated client offers that this uses.
type Client interface {
	Tokenize(ctx context.Context, in *tokenvaultv1.TokenizeRequest, opts ...grpc.CallOption) (*tokenvaultv1.TokenizeResponse, error)
}

// Tokenizer implements conversation.Tokenizer on the vault's gRPC API.
type Tokenizer struct{ c Client }

// New wraps a token vault client.
func New(c Client) *Tokenizer { return &Tokenizer{c: c} }

var _ conversation.Tokenizer = (*Tokenizer)(nil)

// Tokenize implements conversation.Tokenizer: one call for the batch. A
// vault that cannot be reached is Unavailable; a refused call or item is
// Internal (the message is then refused whole: storing part of it
// untokenised is never an option). Errors carry no value.
func (t *Tokenizer) Tokenize(ctx context.Context, b conversation.Batch) ([]string, error) {
	req := &tokenvaultv1.TokenizeRequest{Tenant: b.Tenant, Subject: b.Subject, Scope: b.Scope,
		Items: make([]*tokenvaultv1.TokenizeItem, len(b.Items))}
	for i, it := range b.Items {
		req.Items[i] = &tokenvaultv1.TokenizeItem{Value: it.Value, DataType: DataType(it.Type, it.Value),
			Format: tokenvaultv1.TokenFormat_TOKEN_FORMAT_RANDOM}
	}
	resp, err := t.c.Tokenize(ctx, req)
	if err != nil {
		switch status.Code(err) {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
			return nil, errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "the token vault cannot tokenise the message now; retry")
		}
		return nil, errs.E(errs.Internal, reasons.TokenizeFailed, "the token vault refused the message (%s)", status.Code(err))
	}
	out := make([]string, len(resp.GetResults()))
	for i, r := range resp.GetResults() {
		if r.GetToken() == "" {
			return nil, errs.E(errs.Internal, reasons.TokenizeFailed, "the token vault refused value %d (%s)", i, r.GetError().GetReason())
		}
		out[i] = r.GetToken()
	}
	return out, nil
}

// DataType is the vault's data type for a finding: the matching type where
// the value passes the vault's validation of that type (so that the
// vault's masking and detokenize policy apply), free text otherwise (a
// national id with letters, a date of birth not written YYYY-MM-DD, an
// IBAN, an IP address, a secret, a customer's literal placeholder).
func DataType(t pii.Type, value string) tokenvaultv1.DataType {
	switch t {
	case pii.Card:
		if onlyDigitsSpacesDashes(value) {
			return tokenvaultv1.DataType_DATA_TYPE_CARD_NUMBER
		}
	case pii.Email:
		if validEmail(value) {
			return tokenvaultv1.DataType_DATA_TYPE_EMAIL
		}
	case pii.Phone:
		if validPhone(value) {
			return tokenvaultv1.DataType_DATA_TYPE_PHONE
		}
	case pii.Person:
		return tokenvaultv1.DataType_DATA_TYPE_NAME
	case pii.Address:
		return tokenvaultv1.DataType_DATA_TYPE_POSTAL_ADDRESS
	}
	return tokenvaultv1.DataType_DATA_TYPE_FREE_TEXT
}

func onlyDigitsSpacesDashes(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' || c == '-':
		default:
			return false
		}
	}
	return digits >= 12 && digits <= 19
}

// validEmail mirrors the vault's e-mail rules (one '@', a local part, a
// dotted domain without empty labels, no spaces or control characters).
func validEmail(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.Contains(domain, "@") && strings.Contains(domain, ".") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}

// validPhone mirrors the vault's phone rules: an optional leading '+' not
// followed by 0, digits with spaces, '-', '.', '(' and ')', 7 to 15 digits.
func validPhone(s string) bool {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	s = strings.TrimPrefix(s, "+")
	digits, first := 0, byte(0)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits == 0 {
				first = c
			}
			digits++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15 && !(plus && first == '0')
}
