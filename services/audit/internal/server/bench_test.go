package server_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
)

// BenchmarkAppendOverMTLS measures appends as a service sees them: real
// loopback sockets, mTLS, the full interceptor chain, SQLite underneath.
// Compare with the ledger benchmarks (same machine, same run of make bench)
// for the cost of the RPC layer.
func BenchmarkAppendOverMTLS(b *testing.B) {
	b.Run("batch1000", func(b *testing.B) {
		client := benchClient(b)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			req := &auditv1.AppendEventsRequest{}
			for j := 0; j < 1000; j++ {
				req.Events = append(req.Events, validEvent())
			}
			b.StartTimer()
			if _, err := client.AppendEvents(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "appends/s")
	})
	b.Run("single-64callers", func(b *testing.B) {
		client := benchClient(b)
		ctx := context.Background()
		work := make(chan struct{}, b.N)
		for i := 0; i < b.N; i++ {
			work <- struct{}{}
		}
		close(work)
		var mu sync.Mutex
		lat := make([]time.Duration, 0, b.N)
		var wg sync.WaitGroup
		b.ResetTimer()
		for c := 0; c < 64; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range work {
					start := time.Now()
					if _, err := client.AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{validEvent()}}); err != nil {
						b.Error(err)
						return
					}
					d := time.Since(start)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
}

func benchClient(b *testing.B) auditv1.AuditServiceClient {
	env := startAudit(b)
	pki, addr := env.pki, env.addr
	return auditv1.NewAuditServiceClient(pki.Dial(b, "tokenvault", "audit", addr))
}
