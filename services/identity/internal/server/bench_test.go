package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/identity/internal/password"
	"github.com/sottohq/sotto/services/identity/internal/throttle"
	"github.com/sottohq/sotto/services/identity/migrations"
)

// benchHarness is the server on SQLite with the limiter out of the way.
func benchHarness(b *testing.B) *harness {
	h := newHarness(b, storetest.SQLite(b, migrations.FS),
		options{throttle: &throttle.Config{Rate: 1e9, Burst: 1 << 30, Window: time.Minute, Threshold: 1 << 30, Penalty: 1}})
	return h
}

// BenchmarkLoginOverArgon2 reports a login RPC's time (gateway → identity
// over mTLS: vault lookup, lockout reservation, argon2id, session, refresh
// token, audit event, signed access token) as a ratio of the raw argon2id
// cost at the same parameters measured in the same run (target: under
// 1.10).
func BenchmarkLoginOverArgon2(b *testing.B) {
	h := benchHarness(b)
	h.signUp("shop", "bench@example.com")
	hasher, err := password.NewHasher(password.Options{})
	if err != nil {
		b.Fatal(err)
	}
	stored, _ := hasher.Hash(context.Background(), strongPassword)
	// The reference, timed in this run: as many raw verifications as
	// logins will run, interleaved, so both see the same machine.
	var raws, logins []time.Duration
	rawOne := func() {
		s := time.Now()
		hasher.Verify(context.Background(), strongPassword, stored)
		raws = append(raws, time.Since(s))
	}
	req := &identityv1.LoginRequest{Tenant: "shop", Email: "bench@example.com", Password: strongPassword}
	ctx := from("10.9.9.9")
	for b.Loop() {
		rawOne()
		s := time.Now()
		if _, err := h.gw().Login(ctx, req); err != nil {
			b.Fatal(err)
		}
		logins = append(logins, time.Since(s))
	}
	// Medians: the machine is shared, and a mean takes every stall.
	raw, login := median(raws), median(logins)
	b.ReportMetric(float64(login)/float64(raw), "login/argon2id")
	b.ReportMetric(float64(raw)/1e6, "argon2id-ms")
	b.ReportMetric(float64(login)/1e6, "login-ms")
}

// BenchmarkRefresh measures refresh-token rotations (spend, new token,
// signed access token) per second, one client.
func BenchmarkRefresh(b *testing.B) {
	h := benchHarness(b)
	tok := h.signUp("shop", "refresh@example.com")
	rt := tok.GetRefreshToken()
	ctx := from("10.9.9.9")
	start := time.Now()
	n := 0
	for b.Loop() {
		resp, err := h.gw().RefreshSession(ctx, &identityv1.RefreshSessionRequest{RefreshToken: rt})
		if err != nil {
			b.Fatal(err)
		}
		rt = resp.GetTokens().GetRefreshToken()
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rotations/s")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
