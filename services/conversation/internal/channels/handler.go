package channels

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/pii"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// Purposes the conversation service states to the token vault when it
// delivers (policy.yaml's rules conversation-channel-delivery and
// conversation-channel-reply).
const (
	// PurposeDelivery reads the recipient's platform id back.
	PurposeDelivery = "channel_delivery"
	// PurposeReply re-identifies the placeholders of a reply sent to the
	// customer's own channel.
	PurposeReply = "channel_reply"
)

// Mask stands for a value the vault neither reveals nor masks.
const Mask = "•••"

// Vault is what delivery needs of the token vault's client.
type Vault interface {
	Detokenize(ctx context.Context, in *tokenvaultv1.DetokenizeRequest, opts ...grpc.CallOption) (*tokenvaultv1.DetokenizeResponse, error)
	RevealMasked(ctx context.Context, in *tokenvaultv1.RevealMaskedRequest, opts ...grpc.CallOption) (*tokenvaultv1.RevealMaskedResponse, error)
}

// Deliverer runs delivery jobs.
type Deliverer struct {
	store  *storage.Store
	vault  Vault
	sender *Sender
	logger *slog.Logger
}

// NewDeliverer builds the job handler.
func NewDeliverer(st *storage.Store, vault Vault, sender *Sender, logger *slog.Logger) *Deliverer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Deliverer{store: st, vault: vault, sender: sender, logger: logger}
}

// Options are the delivery kind's job settings: a platform outage is
// retried with pkg/jobs' backoff for about a day (1 s doubling to the
// runner's maximum, an hour by default).
var Options = jobs.Options{MaxAttempts: 30}

// Handle is the jobs.Handler of DeliveryKind: it loads the identity and the
// reply, re-identifies the reply (Reidentify), detokenises the recipient
// and sends. Failures that a retry cannot fix are permanent. Logs carry ids
// and reasons only.
func (d *Deliverer) Handle(ctx context.Context, job jobs.Job) error {
	var del Delivery
	if err := json.Unmarshal(job.Args, &del); err != nil || del.IdentityID == "" {
		return jobs.Permanent(errs.E(errs.Internal, reasons.ChannelIdentityNotFound, "malformed delivery"))
	}
	ident, err := d.store.ChannelIdentity(ctx, d.store.DB(), del.IdentityID)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return jobs.Permanent(err)
		}
		return err
	}
	var text string
	if del.Notice != "" {
		if text = noticeText[del.Notice]; text == "" {
			return jobs.Permanent(errs.E(errs.Internal, reasons.ChannelSendFailed, "unknown notice"))
		}
	} else {
		msg, err := d.store.Message(ctx, d.store.DB(), del.ConversationID, del.MessageID)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				// Erased or deleted by retention meanwhile: nothing to send.
				return jobs.Permanent(err)
			}
			return err
		}
		if text, err = d.Reidentify(ctx, ident.Tenant, del.ConversationID, msg.Text); err != nil {
			return err
		}
	}
	to, err := d.recipient(ctx, ident.Tenant, ident.UserToken)
	if err != nil {
		return err
	}
	if err := d.sender.Send(ctx, ident.Tenant, ident.Channel, to, text); err != nil {
		d.logger.WarnContext(ctx, "channel delivery failed", "identity", ident.ID, "channel", ident.Channel,
			"attempt", job.Attempt, "reason", errs.ReasonOf(err))
		if errs.Is(err, errs.FailedPrecondition) && errs.ReasonOf(err) == reasons.ChannelSendFailed {
			return jobs.Permanent(err)
		}
		return err
	}
	d.logger.InfoContext(ctx, "channel reply delivered", "identity", ident.ID, "channel", ident.Channel, "attempt", job.Attempt)
	return nil
}

// recipient is the platform id behind the identity's token, as the vault's
// policy gives it to this service for delivery.
func (d *Deliverer) recipient(ctx context.Context, tenant, token string) (string, error) {
	resp, err := d.vault.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: []string{token}, Purpose: PurposeDelivery, Tenant: tenant})
	if err != nil {
		return "", vaultErr(err)
	}
	rs := resp.GetResults()
	if len(rs) != 1 || !rs[0].GetDecision().GetAllowed() || rs[0].GetValue() == "" {
		// Refused by the policy, erased, expired: retrying will not help.
		return "", jobs.Permanent(errs.E(errs.FailedPrecondition, reasons.ChannelRecipientUnavailable, "the token vault did not give the recipient back"))
	}
	return rs[0].GetValue(), nil
}

func vaultErr(err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
		return errs.E(errs.Unavailable, reasons.TokenVaultUnavailable, "the token vault cannot be reached")
	}
	return errs.E(errs.FailedPrecondition, reasons.ChannelRecipientUnavailable, "the token vault refused (%s)", status.Code(err))
}

// Reidentify replaces the placeholders of a reply with what the customer
// may see on their own channel: the value where the token vault's policy
// allows this service to reveal it for PurposeReply (contact details and
// names), else its masked view ("•••• 4242"), else Mask. Only the
// conversation's own placeholders are looked at; any other text stays as
// it is (the reply was checked for invented placeholders when stored).
func (d *Deliverer) Reidentify(ctx context.Context, tenant, conversationID, text string) (string, error) {
	phs, err := d.store.Placeholders(ctx, d.store.DB(), conversationID)
	if err != nil {
		return "", err
	}
	var used []storage.Placeholder
	for _, p := range phs {
		if strings.Contains(text, p.Placeholder) {
			used = append(used, p)
		}
	}
	if len(used) == 0 {
		return text, nil
	}
	toks := make([]string, len(used))
	for i, p := range used {
		toks[i] = p.Token
	}
	resp, err := d.vault.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: toks, Purpose: PurposeReply, Tenant: tenant})
	if err != nil {
		return "", vaultErr(err)
	}
	values := make(map[string]string, len(used))
	var masked []int
	for i, p := range used {
		var r *tokenvaultv1.DetokenizeResult
		if i < len(resp.GetResults()) {
			r = resp.GetResults()[i]
		}
		if r != nil && r.GetToken() == p.Token && r.GetDecision().GetAllowed() && r.GetValue() != "" {
			values[p.Placeholder] = r.GetValue()
			continue
		}
		values[p.Placeholder] = Mask
		masked = append(masked, i)
	}
	if len(masked) > 0 {
		req := &tokenvaultv1.RevealMaskedRequest{Tenant: tenant}
		for _, i := range masked {
			req.Tokens = append(req.Tokens, used[i].Token)
		}
		mresp, err := d.vault.RevealMasked(ctx, req)
		if err != nil && status.Code(err) != codes.PermissionDenied && status.Code(err) != codes.Unimplemented {
			return "", vaultErr(err)
		}
		for j, r := range mresp.GetResults() {
			if j < len(masked) && r.GetToken() == used[masked[j]].Token && r.GetMasked() != "" {
				values[used[masked[j]].Placeholder] = r.GetMasked()
			}
		}
	}
	return pii.Restore(ctx, mapScope(values), text)
}

// mapScope is a pii.Scope that knows only the values of one reply.
type mapScope map[string]string

func (m mapScope) Placeholder(context.Context, pii.Type, string) (string, error) {
	return "", errs.E(errs.Internal, reasons.OutputUnsafe, "not for pseudonymisation")
}

func (m mapScope) Lookup(context.Context, pii.Type, string) (string, bool, error) {
	return "", false, nil
}

func (m mapScope) Value(_ context.Context, placeholder string) (string, bool, error) {
	v, ok := m[placeholder]
	return v, ok, nil
}
