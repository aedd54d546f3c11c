// Package crmtest emulates HubSpot's and Salesforce's REST APIs in tests,
// in their real wire formats: the requests' paths, methods, bodies and
// bearer tokens are checked as the CRMs check them, and answers and error
// bodies are shaped as theirs are (429 with Retry-After, 5xx, 401 for an
// expired session). Each emulator counts what it received and keeps the
// records it holds, so tests can say what reached the CRM, and how often.
package crmtest

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
)

// Loopback is the egress exemption the emulators need (they listen on
// 127.0.0.1).
func Loopback() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }

// Fault is how the emulator answers the next requests of a route instead of
// serving them.
type Fault struct {
	Status int
	// RetryAfter, if set, is sent as Retry-After (seconds).
	RetryAfter int
	// Apply serves the request (the change is made) and then answers
	// Status anyway: a response lost after the CRM acted.
	Apply bool
}

// Counts is what an emulator received.
type Counts struct {
	Requests int // every request, tokens included
	Creates  int // records created
	Updates  int // records updated
	Deletes  int // records deleted
	Rejected int // requests answered with a fault or an auth error
}

// base is what both emulators share: the TLS server, faults, counts.
type base struct {
	srv *httptest.Server

	mu     sync.Mutex
	faults []Fault
	counts Counts
	// records by external ID: property → value.
	records map[string]map[string]string
	// history of every property set, per external ID (what the CRM saw).
	seen map[string][]map[string]string
	// deleteLag is how many reads still find a record after its delete
	// was accepted (DeleteLag); lagging counts them down per record.
	deleteLag int
	lagging   map[string]int
	// events numbers the webhook events of edits (Edit).
	events int64
}

func newBase(t testing.TB, h http.Handler) *base {
	b := &base{records: map[string]map[string]string{}, seen: map[string][]map[string]string{}, lagging: map[string]int{}}
	b.srv = httptest.NewTLSServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

// URL is the emulator's root URL (https://127.0.0.1:port).
func (b *base) URL() string { return b.srv.URL }

// Host is host:port, for egress's allow-list.
func (b *base) Host() string { return b.srv.Listener.Addr().String() }

// Certificate is the emulator's TLS certificate.
func (b *base) Certificate() *x509.Certificate { return b.srv.Certificate() }

// RootCAs trusts the emulator's certificate.
func (b *base) RootCAs() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(b.srv.Certificate())
	return p
}

// Fail queues faults for the next data requests, in order.
func (b *base) Fail(f ...Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, f...)
}

// Counts returns what the emulator received so far.
func (b *base) Counts() Counts {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts
}

// Record returns the properties the CRM holds for an external ID.
func (b *base) Record(externalID string) (map[string]string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.records[externalID]
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for k, v := range r {
		out[k] = v
	}
	return out, true
}

// Seen returns every property map the CRM was sent for an external ID.
func (b *base) Seen(externalID string) []map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]map[string]string(nil), b.seen[externalID]...)
}

// DeleteLag makes a delete take effect only after reads more reads of the
// record (they still find it): a CRM whose delete is asynchronous, as
// HubSpot's GDPR delete is. A negative reads keeps deleted records for
// good: a CRM that accepts a delete and does not carry it out.
func (b *base) DeleteLag(reads int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deleteLag = reads
}

// remove deletes a record as the CRM does (b.mu held): at once, or after
// the delete lag. It reports whether the record was there.
func (b *base) remove(externalID string) bool {
	if _, ok := b.records[externalID]; !ok {
		return false
	}
	if _, pending := b.lagging[externalID]; pending {
		return true
	}
	b.counts.Deletes++
	if b.deleteLag != 0 {
		b.lagging[externalID] = b.deleteLag
		return true
	}
	delete(b.records, externalID)
	return true
}

// read returns a record as a read of it finds it (b.mu held), counting
// down a pending delete.
func (b *base) read(externalID string) (map[string]string, bool) {
	rec, ok := b.records[externalID]
	if !ok {
		return nil, false
	}
	if n, pending := b.lagging[externalID]; pending && n >= 0 {
		if n == 0 {
			delete(b.records, externalID)
			delete(b.lagging, externalID)
			return nil, false
		}
		b.lagging[externalID] = n - 1
	}
	return rec, true
}

// takeFault pops the next fault (b.mu held).
func (b *base) takeFault() (Fault, bool) {
	if len(b.faults) == 0 {
		return Fault{}, false
	}
	f := b.faults[0]
	b.faults = b.faults[1:]
	return f, true
}

// upsert sets properties (b.mu held) and counts a create or an update.
func (b *base) upsert(externalID string, props map[string]string) (created bool) {
	delete(b.lagging, externalID)
	r, ok := b.records[externalID]
	if !ok {
		r = map[string]string{}
		b.records[externalID] = r
		b.counts.Creates++
	} else {
		b.counts.Updates++
	}
	cp := map[string]string{}
	for k, v := range props {
		r[k] = v
		cp[k] = v
	}
	b.seen[externalID] = append(b.seen[externalID], cp)
	return !ok
}

func writeFault(w http.ResponseWriter, f Fault, body string) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
}

// Heal drops the faults not served yet: the CRM answers normally again.
func (b *base) Heal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = nil
}
