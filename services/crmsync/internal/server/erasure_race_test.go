package server_test

import (
	"context"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/services/crmsync/internal/config"
)

// holdProxy forwards TCP to a CRM emulator. While hold is on, the next
// connection that carries a request is held (its bytes kept back) until
// release: a send in flight, for as long as the test wants.
type holdProxy struct {
	lis      net.Listener
	mu       sync.Mutex
	hold     bool
	held     int // connections held
	answered int // answers that came back on a held connection
	release  chan struct{}
}

func newHoldProxy(t *testing.T, target string) *holdProxy {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{lis: lis, release: make(chan struct{})}
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go p.pipe(c, s)
		}
	}()
	t.Cleanup(func() { lis.Close() })
	return p
}

func (p *holdProxy) pipe(c, s net.Conn) {
	var mu sync.Mutex
	held := false
	go func() { // CRM -> crmsync
		buf := make([]byte, 32<<10)
		for {
			n, err := s.Read(buf)
			if err != nil {
				c.Close()
				return
			}
			mu.Lock()
			if held {
				p.mu.Lock()
				p.answered++
				p.mu.Unlock()
			}
			mu.Unlock()
			c.Write(buf[:n])
		}
	}()
	buf := make([]byte, 32<<10)
	for { // crmsync -> CRM
		n, err := c.Read(buf)
		if err != nil {
			s.Close()
			return
		}
		p.mu.Lock()
		mu.Lock()
		if p.hold && !held {
			held = true
			p.hold = false // only this one
			p.held++
		}
		h := held
		mu.Unlock()
		p.mu.Unlock()
		if h {
			<-p.release
		}
		s.Write(buf[:n])
	}
}

func (p *holdProxy) count() (held, answered int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held, p.answered
}

// TestErasureWaitsForAnInFlightSend: an upsert of the customer already on
// its way to HubSpot when the erasure comes must not put the record back
// after the erasure is reported done. The erasure waits for the send's
// lease (the send was past the batch's checks), deletes after it, and the
// CRM does not have the customer once both are over. Seen failing with
// the lease wait in PrivacyErase removed (answered DONE while the upsert
// was held, then HubSpot had the customer again). From the security
// review's TestReviewErasureRacesAnInFlightSend.
func TestErasureWaitsForAnInFlightSend(t *testing.T) {
	var p *holdProxy
	dialects(t, func(t *testing.T, h *harness) {
		c := h.customer("sub_race01", true)
		h.delivered(c)
		p.mu.Lock()
		p.hold = true // the next HubSpot request: the upsert of this edit
		p.mu.Unlock()
		h.record(c, map[string]string{"last_name": c.tLast})
		h.until(time.Millisecond, "the upsert in flight", func() bool { held, _ := p.count(); return held > 0 })

		type result struct {
			resp *privacyv1.EraseResponse
			err  error
		}
		done := make(chan result, 1)
		go func() {
			resp, err := h.privacy.Erase(context.Background(), &privacyv1.EraseRequest{Subject: shopSubject(c.subject), RequestId: "dsr-race-1"})
			done <- result{resp, err}
		}()
		// Give the erasure its chance to answer while the upsert is held;
		// it must not (nothing is asserted about how long it takes).
		var res result
		early := false
		select {
		case res = <-done:
			early = true
		case <-time.After(2 * time.Second):
		}
		close(p.release) // the held upsert reaches HubSpot
		if !early {
			select {
			case res = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatal("the erasure never answered")
			}
		}
		h.until(time.Millisecond, "HubSpot's answer to the held upsert", func() bool { _, answered := p.count(); return answered > 0 })
		if early {
			t.Errorf("the erasure answered (%v, %v) while an upsert of the customer was in flight", res.resp.GetEvidence(), res.err)
		}
		if res.err != nil {
			t.Fatalf("erase: %v", res.err)
		}
		ev := res.resp.GetEvidence()
		if ev.GetOutcome() != privacyv1.Outcome_OUTCOME_DONE || ev.GetCounts()["crm_records_confirmed_gone"] != 2 {
			t.Fatalf("evidence: %v", ev)
		}
		if _, ok := h.hubspot.Record(c.subject); ok {
			t.Error("the erasure was reported done, and HubSpot has the customer again after the in-flight upsert")
		}
		if _, ok := h.sf.Record(c.subject); ok {
			t.Error("Salesforce has the customer after the erasure")
		}
	}, func(cfg *config.Config) {
		u, err := url.Parse(cfg.HubSpotURL)
		if err != nil {
			t.Fatal(err)
		}
		p = newHoldProxy(t, u.Host)
		u.Host = p.lis.Addr().String()
		cfg.HubSpotURL = u.String()
	})
}
