package auditclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/servertest"
)

// TestNewFillsActorAndTraceFromContext: one constructor fills what the
// context knows (the calling workload, the end user, the trace), so no
// service builds those fields by hand.
func TestNewFillsActorAndTraceFromContext(t *testing.T) {
	pki := servertest.NewPKI(t)
	ctx := context.Background()
	if e := auditclient.New(ctx, "tokenvault.detokenize", auditclient.Success); e.CallerWorkload != "" || e.ActorSubject != "" || e.TraceID != "" {
		t.Errorf("an empty context filled %+v", e)
	}

	tid, _ := trace.TraceIDFromHex("0123456789abcdef0123456789abcdef")
	sid, _ := trace.SpanIDFromHex("0123456789abcdef")
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	ctx = auditclient.WithEndUser(ctx, "cus_42")
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{}, AuthInfo: peerAuth(t, pki)})
	e := auditclient.New(ctx, "tokenvault.detokenize", auditclient.Success)
	if e.CallerWorkload != servertest.ID(t, "conversation").String() || e.ActorSubject != "cus_42" || e.TraceID != tid.String() {
		t.Errorf("event %+v, want caller conversation, actor cus_42, trace %s", e, tid)
	}
	if err := auditclient.Validate(e); err != nil {
		t.Errorf("a filled event does not validate: %v", err)
	}
}

// peerAuth is what grpc-go puts in a server's context for a client that
// presented conversation's certificate and passed verification.
func peerAuth(t *testing.T, pki *servertest.PKI) credentials.AuthInfo {
	t.Helper()
	pemBytes, err := os.ReadFile(pki.Identity(t, "conversation").Cert)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert}}}}
}
