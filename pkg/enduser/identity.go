package enduser

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
)

// fetchTimeout bounds one GetJwks call: a request may be waiting on it.
const fetchTimeout = 5 * time.Second

// IdentityKeys is a KeySource over identity's GetJwks, cached for the max
// age identity gives and refetched on an unknown kid at most every few
// seconds (accesstoken.RemoteKeys). Run it in the background (RemoteKeys.Run)
// so requests rarely wait for a fetch.
func IdentityKeys(client identityv1.IdentityServiceClient, opts ...accesstoken.RemoteOption) *accesstoken.RemoteKeys {
	return accesstoken.NewRemoteKeys(func(ctx context.Context) ([]byte, time.Duration, error) {
		ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		defer cancel()
		resp, err := client.GetJwks(ctx, &identityv1.GetJwksRequest{})
		if err != nil {
			return nil, 0, err
		}
		return resp.GetJwksJson(), resp.GetMaxAge().AsDuration(), nil
	}, opts...)
}

// IdentityRevocations is a RevocationSource over identity's
// WatchRevocations stream.
type IdentityRevocations struct {
	client identityv1.IdentityServiceClient
}

var _ RevocationSource = IdentityRevocations{}

// NewIdentityRevocations follows client's WatchRevocations.
func NewIdentityRevocations(client identityv1.IdentityServiceClient) IdentityRevocations {
	return IdentityRevocations{client: client}
}

// Watch implements RevocationSource.
func (s IdentityRevocations) Watch(ctx context.Context, cursor string, fn func(Revocation) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := s.client.WatchRevocations(ctx, &identityv1.WatchRevocationsRequest{Cursor: cursor})
	if err != nil {
		return err
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if cursor != "" {
				// A cursor the feed refuses (pkg/events: FailedPrecondition
				// CURSOR_EXPIRED once trimmed, InvalidArgument CURSOR_INVALID
				// from another log): start over from the backlog, which holds
				// everything that may still matter; retrying it would loop.
				switch status.Code(err) {
				case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange, codes.NotFound:
					return errors.Join(ErrCursorInvalid, err)
				}
			}
			return err
		}
		rev := Revocation{
			Cursor: msg.GetCursor(), SessionID: msg.GetSessionId(), ClientID: msg.GetClientId(),
		}
		if msg.GetRevokeTime() != nil {
			rev.RevokeTime = msg.GetRevokeTime().AsTime()
		}
		if msg.GetExpireTime() != nil {
			rev.ExpireTime = msg.GetExpireTime().AsTime()
		}
		if err := fn(rev); err != nil {
			return err
		}
		if rev.Cursor != "" {
			cursor = rev.Cursor
		}
	}
}
