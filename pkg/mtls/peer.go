package mtls

import (
	"context"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/sottohq/sotto/pkg/errs"
)

// PeerID returns the SPIFFE ID of the workload that made the gRPC call in ctx,
// taken from its verified client certificate. It fails with Unauthenticated
// (NO_PEER_IDENTITY) when the call did not arrive over mutual TLS with a
// verified chain, so callers can never mistake an anonymous call for a
// workload. There is deliberately no way to plant an ID in a context: the
// only source of identity is the handshake.
func PeerID(ctx context.Context) (spiffeid.ID, error) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return spiffeid.ID{}, errs.E(errs.Unauthenticated, "NO_PEER_IDENTITY", "caller has no workload identity")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	// VerifiedChains is empty unless the standard library verified the client
	// chain against our bundle (ServerTLSConfig), so its presence is the
	// proof that the certificate is trusted, not merely presented.
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.PeerCertificates) == 0 {
		return spiffeid.ID{}, errs.E(errs.Unauthenticated, "NO_PEER_IDENTITY", "caller has no workload identity")
	}
	id, err := x509svid.IDFromCert(info.State.PeerCertificates[0])
	if err != nil {
		return spiffeid.ID{}, errs.Wrap(err, errs.Unauthenticated, "NO_PEER_IDENTITY", "caller has no workload identity")
	}
	return id, nil
}
