package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/consentclient"
)

// benchHarness is the real service on SQLite with subjects cus_0..n-1,
// half of whom granted marketing.
func benchHarness(b *testing.B, subjects int) *harness {
	b.Helper()
	h := sqlite(b)
	n := h.noticeB(b, "marketing")
	for i := range subjects {
		if i%2 == 1 {
			continue
		}
		_, err := h.gw().GrantConsent(h.customer(fmt.Sprintf("cus_%d", i)), &consentv1.GrantConsentRequest{PurposeId: "marketing",
			Notice: n, Channel: consentv1.Channel_CHANNEL_WEB, RequestId: "b"})
		if err != nil {
			b.Fatal(err)
		}
	}
	return h
}

func (h *harness) noticeB(b *testing.B, id string) *consentv1.NoticeRef {
	resp, err := h.gw().GetNoticeVersion(context.Background(), &consentv1.GetNoticeVersionRequest{NoticeId: id})
	if err != nil {
		b.Fatal(err)
	}
	return shown(resp.GetNotice(), "en")
}

func decisionsPerSecond(b *testing.B, perOp int) {
	b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkCheckCached: pkg/consentclient answering from its cache (the
// feed current), in process, from parallel goroutines.
func BenchmarkCheckCached(b *testing.B) {
	const subjects = 100
	h := benchHarness(b, subjects)
	c := consentclient.New(h.client("tokenvault"), consentclient.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	for c.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	for i := range subjects {
		if _, err := c.Check(ctx, fmt.Sprintf("cus_%d", i), "marketing"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			d, err := c.Check(ctx, fmt.Sprintf("cus_%d", i%subjects), "marketing")
			if err != nil || !d.Cached {
				b.Errorf("%v %v", d, err)
				return
			}
			i++
		}
	})
	decisionsPerSecond(b, 1)
}

// BenchmarkCheckGRPC: one Check RPC per decision over mTLS to the real
// server (SQLite), from parallel callers.
func BenchmarkCheckGRPC(b *testing.B) {
	const subjects = 100
	h := benchHarness(b, subjects)
	client := h.client("tokenvault")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := client.Check(ctx, &consentv1.CheckRequest{Subject: fmt.Sprintf("cus_%d", i%subjects), PurposeId: "marketing"}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	decisionsPerSecond(b, 1)
}

// BenchmarkBatchCheckGRPC: BatchCheck RPCs of 100 and 1000 decisions.
func BenchmarkBatchCheckGRPC(b *testing.B) {
	h := benchHarness(b, 100)
	client := h.client("tokenvault")
	ctx := context.Background()
	for _, size := range []int{100, 1000} {
		req := &consentv1.BatchCheckRequest{}
		for i := range size {
			purpose := "marketing"
			if i%3 == 0 {
				purpose = "order_support"
			}
			req.Checks = append(req.Checks, &consentv1.CheckRequest{Subject: fmt.Sprintf("cus_%d", i%100), PurposeId: purpose})
		}
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.BatchCheck(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			decisionsPerSecond(b, size)
		})
	}
}

// BenchmarkWithdrawalPropagation: from sending a withdrawal to a cached
// client (another workload's) denying; ns/op is the latency.
func BenchmarkWithdrawalPropagation(b *testing.B) {
	h := sqlite(b)
	c := consentclient.New(h.client("crmsync"), consentclient.Options{CacheTTL: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	for c.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	cust := h.customer("cus_1")
	n := h.noticeB(b, "marketing")
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := h.gw().GrantConsent(cust, &consentv1.GrantConsentRequest{PurposeId: "marketing", Notice: n,
			Channel: consentv1.Channel_CHANNEL_WEB, RequestId: fmt.Sprintf("g%d", i)}); err != nil {
			b.Fatal(err)
		}
		for {
			d, err := c.Check(ctx, "cus_1", "marketing")
			if err == nil && d.Allowed && d.Cached {
				break
			}
		}
		b.StartTimer()
		start := time.Now()
		if _, err := h.gw().WithdrawConsent(cust, &consentv1.WithdrawConsentRequest{PurposeId: "marketing",
			Channel: consentv1.Channel_CHANNEL_WEB, RequestId: fmt.Sprintf("w%d", i)}); err != nil {
			b.Fatal(err)
		}
		for {
			if d, err := c.Check(ctx, "cus_1", "marketing"); err == nil && !d.Allowed {
				break
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/withdrawal")
}
