package gateway

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// testBackend connects to addr (plaintext unless opts say otherwise) for
// the test's lifetime, as pkg/service does for the running gateway.
func testBackend(t testing.TB, name, addr string, opts ...grpc.DialOption) Backend {
	t.Helper()
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return Backend{Name: name, Conn: conn}
}
