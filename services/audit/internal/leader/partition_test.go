package leader_test

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/pkg/wait"
	"github.com/sottohq/sotto/services/audit/migrations"
)

// silentLink relays TCP to target until cut, then swallows every byte both
// ways without closing anything: a node that died, or a partition, as
// PostgreSQL sees it (no FIN, no RST).
type silentLink struct {
	addr string
	cut  atomic.Bool
}

func newSilentLink(t *testing.T, target string) *silentLink {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	l := &silentLink{addr: lis.Addr().String()}
	relay := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if err != nil {
				return
			}
			if !l.cut.Load() {
				_, _ = dst.Write(buf[:n])
			}
		}
	}
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
			go relay(s, c)
			go relay(c, s)
		}
	}()
	return l
}

// TestLeaderLostSilentlyIsReplaced: the leader's connection goes silent
// (its node vanished without closing it). PostgreSQL must end that session,
// releasing the lock, so that the standby takes over; without the session's
// idle timeout the lock stays held until TCP keepalive notices (two hours by
// default) and no replica sequences meanwhile (seen failing with the SET
// idle_session_timeout removed).
func TestLeaderLostSilentlyIsReplaced(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	direct, err := store.Open(ctx, dsn, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = direct.Close() })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	link := newSilentLink(t, u.Host)
	u.Host = link.addr
	viaLink, err := store.Open(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]keys.KeyType{"audit-checkpoint": keys.TypeEd25519, "audit-subject": keys.TypeAES256GCM} {
		if err := km.EnsureKey(ctx, name, typ); err != nil {
			t.Fatal(err)
		}
	}
	a := startReplica(t, viaLink, km)
	wait.For(t, "the first replica sequences", func() bool { return a.log.Sequencing() })
	b := startReplica(t, direct, km)
	if got := sequencers(a, b); len(got) != 1 || got[0] != a {
		t.Fatalf("sequencers before the partition: %d", len(got))
	}
	link.cut.Store(true)
	wait.For(t, "the standby takes over from the silent leader", func() bool { return b.log.Sequencing() })
	link.cut.Store(false) // let the cut replica's pool close at cleanup
}
