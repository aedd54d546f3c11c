package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"google.golang.org/protobuf/proto"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/sealclient"
	"github.com/sottohq/sotto/services/conversation/internal/reasons"
	"github.com/sottohq/sotto/services/conversation/internal/sealing"
)

// maxTextBytes is PostMessageRequest.text's limit, which protovalidate
// cannot apply to a sealed text.
const maxTextBytes = 4096

// WithSealing lets the server open end-to-end sealed messages and serve
// GetSealingKeys with keys; without it both are FailedPrecondition.
func (s *Server) WithSealing(keys *sealing.Keys) *Server {
	s.sealing = keys
	return s
}

func (s *Server) sealingKeys() (*sealing.Keys, error) {
	if s.sealing == nil {
		return nil, errs.E(errs.FailedPrecondition, reasons.SealingKeyUnavailable, "end-to-end sealing is not configured")
	}
	return s.sealing, nil
}

// GetSealingKeys implements the RPC: the current and the previous key,
// newest first. No person is behind the call (the keys are public).
func (s *Server) GetSealingKeys(ctx context.Context, _ *conversationv1.GetSealingKeysRequest) (*conversationv1.GetSealingKeysResponse, error) {
	k, err := s.sealingKeys()
	if err != nil {
		return nil, err
	}
	pub, err := k.Published(ctx)
	if err != nil {
		return nil, err
	}
	out := &conversationv1.GetSealingKeysResponse{}
	for _, p := range pub {
		out.Keys = append(out.Keys, &conversationv1.SealingKey{KeyId: p.ID, KemId: uint32(sealing.KEM.ID()),
			KdfId: uint32(sealing.KDF.ID()), AeadId: uint32(sealing.AEAD.ID()), PublicKey: p.Bytes, ExpireTime: ts(p.Expire)})
	}
	return out, nil
}

// postSealed opens a sealed message (the conversation id and the reply
// key's digest are the associated data, so it cannot be replayed into
// another conversation nor its reply redirected), posts the
// text as any other, and seals the reply to the client's key. The
// response's message and reply carry no text: the gateway relays
// ciphertext both ways. A message that does not open is refused before
// anything is stored. Who may post is PostMessage's to decide, as for a
// message in the clear (the end-user interceptor ran before either).
func (s *Server) postSealed(ctx context.Context, req *conversationv1.PostMessageRequest) (*conversationv1.PostMessageResponse, error) {
	k, err := s.sealingKeys()
	if err != nil {
		return nil, err
	}
	sealed := req.GetSealed()
	// The reply key is checked first: a message whose answer could not be
	// sealed must not be stored and answered in the clear.
	replyKey, err := sealing.ReplyKey(sealed.GetReplyPublicKey())
	if err != nil {
		return nil, err
	}
	// The reply key is bound to the ciphertext: a relay that swapped it
	// for its own would get SEALED_INVALID, not the reply.
	text, err := k.Open(ctx, sealed.GetKeyId(), sealed.GetEnc(), sealed.GetCiphertext(),
		sealclient.MessageAAD(req.GetConversationId(), sealed.GetReplyPublicKey()))
	if err != nil {
		return nil, err
	}
	if len(text) == 0 || len(text) > maxTextBytes {
		return nil, errs.E(errs.InvalidArgument, reasons.TextInvalid, "the sealed text must be 1 to %d bytes", maxTextBytes)
	}
	plain := proto.CloneOf(req)
	plain.Sealed = nil
	plain.Text = string(text)
	clear(text)
	if plain.ChannelMessageId == "" {
		// The encapsulated key is fresh for every seal, so its digest
		// names this ciphertext: a relay replaying it gets the first
		// answer (sealed to the same, bound, reply key) and stores
		// nothing twice.
		d := sha256.Sum256(sealed.GetEnc())
		plain.ChannelMessageId = "sealed:" + hex.EncodeToString(d[:16])
	}
	resp, err := s.PostMessage(ctx, plain)
	if err != nil {
		return nil, err
	}
	if resp.GetReply() != nil {
		enc, ct, err := sealing.SealReply(replyKey, []byte(req.GetConversationId()), []byte(resp.GetReply().GetText()))
		if err != nil {
			return nil, err
		}
		resp.SealedReply = &conversationv1.Sealed{Enc: enc, Ciphertext: ct}
		resp.Reply.Text = ""
	}
	if resp.GetMessage() != nil {
		resp.Message.Text = ""
	}
	return resp, nil
}
