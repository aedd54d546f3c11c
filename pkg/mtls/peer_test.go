package mtls_test

import (
	"context"
	"crypto/tls"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
)

// PeerID inside a handler on a properly configured server is covered by
// TestMutualTLSOverGRPC; these tests show it never invents an identity.
func TestPeerIDWithoutVerifiedIdentity(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "sotto.test")
	server := newSource(t, workloadFiles(t, ca, "audit"))

	// A server misconfigured to request but not verify client certificates:
	// the client's certificate is presented (and from a CA nobody trusts),
	// yet PeerID must not treat it as an identity.
	base := server.ServerTLSConfig()
	lax := &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c, err := base.GetConfigForClient(hello)
			if err != nil {
				return nil, err
			}
			c = c.Clone()
			c.ClientAuth = tls.RequestClientCert
			c.VerifyConnection = nil
			return c, nil
		},
	}
	rogue := newCA(t, "sotto.test")
	rogueClient := bareClient(rawLeaf(t, rogue, "spiffe://sotto.test/gateway"))

	tests := []struct {
		name   string
		server credentials.TransportCredentials
		client credentials.TransportCredentials
	}{
		{"unverified client certificate", credentials.NewTLS(lax), credentials.NewTLS(rogueClient)},
		{"plaintext connection", insecure.NewCredentials(), insecure.NewCredentials()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := serveWith(t, tt.server)
			got, err := checkWith(t, addr, tt.client)
			if status.Code(err) != codes.Unauthenticated || reasonOfStatus(err) != "NO_PEER_IDENTITY" {
				t.Fatalf("Check: peer %q, err %v; want Unauthenticated NO_PEER_IDENTITY", got, err)
			}
		})
	}
}

func TestPeerIDWithoutPeer(t *testing.T) {
	t.Parallel()
	if _, err := mtls.PeerID(context.Background()); errs.ReasonOf(err) != "NO_PEER_IDENTITY" || !errs.Is(err, errs.Unauthenticated) {
		t.Fatalf("PeerID(no peer) = %v, want Unauthenticated NO_PEER_IDENTITY", err)
	}
}

func reasonOfStatus(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.Reason
		}
	}
	return ""
}
