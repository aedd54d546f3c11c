// Package loopback picks loopback addresses for processes that bind them a
// moment later: dev up's services, and the tests that start replicas of
// them.
package loopback

import (
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"sync"
)

// FreeAddr picks a loopback port that is free now. It draws from below the
// kernel's ephemeral range (32768 and up on Linux): a port from that range
// (what ":0" gives) can be taken in between as the source port of any
// outgoing connection, and with a dozen listeners and their connections
// that happened.
func FreeAddr() (string, error) {
	for range 50 {
		port := 20000 + mathrand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		l.Close()
		return addr, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Distinct wraps pick so that it never returns an address twice, nor one
// of taken: a port given to a process that has not bound it yet, or that
// was released by one about to be started again, looks free to FreeAddr.
// The returned func is safe for concurrent use.
func Distinct(pick func() (string, error), taken ...string) func() (string, error) {
	var mu sync.Mutex
	given := map[string]bool{}
	for _, a := range taken {
		given[a] = true
	}
	return func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		for range 50 {
			addr, err := pick()
			if err != nil {
				return "", err
			}
			if !given[addr] {
				given[addr] = true
				return addr, nil
			}
		}
		return "", errors.New("no free loopback port")
	}
}

// next is this process's picker: every caller of Next shares it.
var next = Distinct(FreeAddr)

// Next is FreeAddr, never the same address twice in this process (tests
// that start several processes pick their addresses with it).
func Next() (string, error) { return next() }
