package loopback

import (
	"net"
	"testing"
)

// TestDistinctNeverRepeatsAnAddress: a pick that keeps offering the same
// port (as the kernel may, for one just released) gets a different one, and
// an address marked taken is never handed out.
func TestDistinctNeverRepeatsAnAddress(t *testing.T) {
	offers := []string{"127.0.0.1:20001", "127.0.0.1:20001", "127.0.0.1:20002", "127.0.0.1:20002", "127.0.0.1:20003"}
	i := 0
	pick := Distinct(func() (string, error) {
		a := offers[i%len(offers)]
		i++
		return a, nil
	}, "127.0.0.1:20002")
	var got []string
	for range 2 {
		a, err := pick()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	if got[0] != "127.0.0.1:20001" || got[1] != "127.0.0.1:20003" {
		t.Errorf("got %v, want [127.0.0.1:20001 127.0.0.1:20003]: no repeat, nothing taken", got)
	}
	if _, err := pick(); err == nil {
		t.Error("a pick with nothing new to offer returned an address")
	}
}

// TestFreeAddrIsBelowTheEphemeralRange: the port is bindable, and below
// 32768, where no outgoing connection takes its source port.
func TestFreeAddrIsBelowTheEphemeralRange(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	if p, _ := net.LookupPort("tcp", port); p < 20000 || p >= 32000 {
		t.Errorf("port %s, want one in [20000, 32000)", port)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the picked address is not free: %v", err)
	}
	l.Close()
}
