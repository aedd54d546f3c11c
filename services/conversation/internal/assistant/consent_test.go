package assistant

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/consentclient"
)

// TestConsentUnreachableRefusesPersonalisation: through pkg/consentclient,
// a consent service that cannot be reached refuses the personalisation
// purpose (it rests on consent), so the recommendation is the generic one.
func TestConsentUnreachableRefusesPersonalisation(t *testing.T) {
	// A port that was listening a moment ago and is closed now: nothing
	// answers there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := consentclient.New(consentv1.NewConsentServiceClient(conn), consentclient.Options{CallTimeout: time.Second})
	p := Consent{Client: client}
	ok, err := p.Allowed(context.Background(), "cus_alice", PurposePersonalisation)
	if ok || err == nil {
		t.Fatalf("Allowed = %v, %v; want a refusal with the error", ok, err)
	}
	r := NewBuiltin(testFixtures(t), p).Reply(context.Background(), Request{Caller: alice, Language: "en", Text: "recommend something"})
	if want := "A customer favourite right now: Day Pack 20."; r.Text != want {
		t.Errorf("reply %q, want the generic %q", r.Text, want)
	}
}
