// Package bench measures the running services against a reference, in one
// process and one run, so ratios can be compared across machines.
//
// TestTokenvaultVersusTransit starts a real Vault dev server (with Sotto's
// Transit keys and policies) and `sotto dev up` against it, then measures
// tokenvault's Tokenize and Detokenize over mTLS gRPC side by side with Vault
// Transit encrypt and decrypt over HTTP on the same values. It runs only with
// SOTTO_BENCH=1 (`make bench`), reports a markdown table with t.Log and, when
// SOTTO_BENCH_OUT names a file, writes the table there. It never asserts on
// time; it fails only if operations fail or return wrong values.
//
// Each run also reports CPU time per process (Linux /proc), and with
// SOTTO_BENCH_PERF=DIR it records a `perf record` profile of tokenvault and
// audit during each of Sotto's runs into DIR (read with `perf report -i`).
package bench

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/vaulttest"
	"github.com/sottohq/sotto/test/devsuite"
)

const (
	subjects    = 1000            // distinct subjects, cycled through by every phase
	opsPerLevel = 2000            // operations per concurrency level ...
	maxPerLevel = 5 * time.Second // ... or this long, whichever comes first
	batchSize   = 100             // values per batch request
	batchOps    = 300             // batch requests per level (30,000 values)
	kek         = "tokenvault-kek"
	purpose     = "order_support"
)

var levels = []int{1, 16, 64}

// floorOp names the rows of the no-op RPC.
const floorOp = "Floor: no-op RPC (health Check) vs Transit encrypt"

// value is the i-th test value: names, e-mails, phones and postal addresses in
// turn (the types policy.yaml lets "conversation" see for order_support),
// already in normalised form so a detokenized value equals the input.
func value(i int) (tokenvaultv1.DataType, string) {
	switch i % 4 {
	case 0:
		return tokenvaultv1.DataType_DATA_TYPE_NAME, fmt.Sprintf("Ada Lovelace %d", i)
	case 1:
		return tokenvaultv1.DataType_DATA_TYPE_EMAIL, fmt.Sprintf("customer%07d@example.com", i)
	case 2:
		return tokenvaultv1.DataType_DATA_TYPE_PHONE, fmt.Sprintf("+44791%07d", i)
	default:
		return tokenvaultv1.DataType_DATA_TYPE_POSTAL_ADDRESS, fmt.Sprintf("%d High Street, London N1 9GU", i)
	}
}

func subject(i int) string { return fmt.Sprintf("cus_%04d", i%subjects) }

// measurement is one run of an operation at one concurrency level.
type measurement struct {
	callers   int
	offered   int // open loop (runOpen): ops per second offered; 0 for a closed loop
	items     int // values per operation
	ops       int // operations completed (ok or not)
	errs      int
	late      int // open loop: ops not answered in time or not sent (runOpen)
	refused   int // ops the path refused at once, overloaded (errRefused)
	firstErr  error
	elapsed   time.Duration
	latencies []time.Duration // sorted
	cpu       cpuSnapshot     // CPU time per process during the run
}

// rate is successful values per second.
func (m measurement) rate() float64 {
	if m.elapsed <= 0 {
		return 0
	}
	return float64(m.answered()*m.items) / m.elapsed.Seconds()
}

// cpuPerValue is the CPU time of process name per successful value, in µs.
func (m measurement) cpuPerValue(name string) string {
	d, ok := m.cpu[name]
	values := m.answered() * m.items
	if !ok || values == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)/float64(values))
}

// coresBusy is how many cores the whole machine kept busy during the run.
func (m measurement) coresBusy() string {
	d, ok := m.cpu["machine"]
	if !ok || m.elapsed <= 0 {
		return "–"
	}
	busy := fmt.Sprintf("%.2f", d.Seconds()/m.elapsed.Seconds())
	// Time the hypervisor gave to other guests: a run where it is large
	// measured the neighbours as much as the path.
	if stolen := m.cpu["stolen"].Seconds() / m.elapsed.Seconds(); stolen >= 0.05 {
		busy += fmt.Sprintf(" (%.2f stolen)", stolen)
	}
	return busy
}

// answered is how many ops succeeded.
func (m measurement) answered() int { return m.ops - m.errs - m.refused - m.late }

// percentile is the nearest-rank percentile of the recorded latencies (an
// op refused or not answered in time sorts last, as never).
func (m measurement) percentile(p float64) time.Duration {
	if len(m.latencies) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(m.latencies))+0.999999) - 1
	return m.latencies[max(0, min(rank, len(m.latencies)-1))]
}

// answeredPercentile is percentile over the ops that were answered (with
// a result or an error), leaving out those refused or never answered.
func (m measurement) answeredPercentile(p float64) time.Duration {
	n := m.ops - m.refused - m.late
	if n <= 0 || n > len(m.latencies) {
		return never
	}
	return measurement{latencies: m.latencies[:n]}.percentile(p)
}

// run calls op with indexes 0, 1, ... from callers goroutines until maxOps
// operations have run or maxDur has passed. The indexes that ran are exactly
// 0..ops-1.
func run(callers, items, maxOps int, maxDur time.Duration, op func(ctx context.Context, i int) error) measurement {
	ctx := context.Background()
	var next atomic.Int64
	var mu sync.Mutex
	m := measurement{callers: callers, items: items}
	start := time.Now()
	deadline := start.Add(maxDur)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			var lat []time.Duration
			var errs, refused int
			var firstErr error
			for time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				if i >= maxOps {
					break
				}
				t0 := time.Now()
				err := op(ctx, i)
				lat = append(lat, time.Since(t0))
				if errors.Is(err, errRefused) {
					lat[len(lat)-1] = never
					refused++
				} else if err != nil {
					errs++
					if firstErr == nil {
						firstErr = fmt.Errorf("op %d: %w", i, err)
					}
				}
			}
			mu.Lock()
			m.latencies = append(m.latencies, lat...)
			m.errs += errs
			m.refused += refused
			if m.firstErr == nil {
				m.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	m.elapsed = time.Since(start)
	m.ops = len(m.latencies)
	slices.Sort(m.latencies)
	return m
}

// row is one line of the report: Sotto and its Transit reference.
type row struct {
	op      string
	unit    string // "ops/s" or "values/s"
	sotto   measurement
	transit measurement
}

func (r row) ratio() float64 {
	if r.transit.rate() == 0 {
		return 0
	}
	return r.sotto.rate() / r.transit.rate()
}

func TestTokenvaultVersusTransit(t *testing.T) {
	if os.Getenv("SOTTO_BENCH") != "1" {
		t.Skip("benchmark: set SOTTO_BENCH=1 (make bench) to run it")
	}
	// Read before the binaries start: what the tree held when they were built
	// (`make bench` builds first), not what it holds at the end.
	src := sourceVersion()
	v := vaulttest.Start(t)
	s := startSuite(t,
		"SOTTO_VAULT_ADDR="+v.Addr, "SOTTO_VAULT_TOKEN=",
		"SOTTO_AUDIT_VAULT_TOKEN="+v.ClientWithPolicies(t, "audit").Token(),
		"SOTTO_GATEWAY_VAULT_TOKEN="+v.ClientWithPolicies(t, "gateway").Token(),
		"SOTTO_TOKENVAULT_VAULT_TOKEN="+v.ClientWithPolicies(t, "tokenvault").Token(),
		"SOTTO_LOG_LEVEL=warn")
	conn := s.Dial("conversation", "tokenvault", s.Info.Services["tokenvault"].GRPC)
	tv := tokenvaultv1.NewTokenVaultServiceClient(conn)
	hc := healthpb.NewHealthClient(conn)

	// The reference: Vault's own client over plain HTTP on loopback, with a
	// connection pool big enough for every caller (the default keeps only
	// GOMAXPROCS+1 idle connections, which would make Transit pay for new
	// connections at 16 and 64 callers).
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		t.Fatal(cfg.Error)
	}
	cfg.Address = v.Addr
	tr := cfg.HttpClient.Transport.(*http.Transport)
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
	vc, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(v.Token)

	ps := findProcs(s.PID())
	t.Logf("processes: %v", ps)
	prof := newProfiler(t, ps, "tokenvault", "audit")
	// measure runs op like run does, recording CPU time per process and,
	// for Sotto's side, a profile when SOTTO_BENCH_PERF is set.
	measure := func(profile string, callers, items, maxOps int, maxDur time.Duration, op func(ctx context.Context, i int) error) measurement {
		stop := func() {}
		if profile != "" {
			stop = prof.start(profile)
		}
		before := ps.snapshot()
		m := run(callers, items, maxOps, maxDur, op)
		m.cpu = ps.snapshot().since(before)
		stop()
		return m
	}

	// Results of the single-value phases, indexed by the value's sequence
	// number, so detokenize and decrypt read back exactly what was written.
	total := subjects + len(levels)*opsPerLevel
	toks := make([]string, total)
	cts := make([]string, total)
	var seq int // next single-value sequence number

	tokenize := func(base int) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			n := base + i
			dt, val := value(n)
			resp, err := tv.Tokenize(ctx, &tokenvaultv1.TokenizeRequest{Subject: subject(n),
				Items: []*tokenvaultv1.TokenizeItem{{Value: val, DataType: dt}}})
			if err != nil {
				return err
			}
			if len(resp.GetResults()) != 1 || resp.GetResults()[0].GetToken() == "" {
				return fmt.Errorf("tokenize returned %v", resp.GetResults())
			}
			toks[n] = resp.GetResults()[0].GetToken()
			return nil
		}
	}
	transitEncrypt := func(ctx context.Context, val string) (string, error) {
		sec, err := vc.Logical().WriteWithContext(ctx, "transit/encrypt/"+kek,
			map[string]any{"plaintext": base64.StdEncoding.EncodeToString([]byte(val))})
		if err != nil {
			return "", err
		}
		ct, _ := sec.Data["ciphertext"].(string)
		if ct == "" {
			return "", fmt.Errorf("encrypt returned %v", sec.Data)
		}
		return ct, nil
	}
	encrypt := func(base int) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			n := base + i
			_, val := value(n)
			ct, err := transitEncrypt(ctx, val)
			cts[n] = ct
			return err
		}
	}

	// Untimed: open the connections.
	for i := range 4 {
		if _, err := vc.Logical().Write("transit/encrypt/"+kek, map[string]any{"plaintext": "d2FybQ=="}); err != nil {
			t.Fatalf("transit: %v", err)
		}
		if _, err := tv.RevealMasked(context.Background(), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{fmt.Sprintf("warm%d", i)}}); err != nil {
			t.Fatalf("tokenvault: %v", err)
		}
	}

	var rows []row
	add := func(r row) {
		rows = append(rows, r)
		t.Logf("%-48s callers %2d  Sotto %9.0f %s (p50 %s p99 %s, %d ops, %d errors)  Transit %9.0f %s (p50 %s p99 %s, %d ops, %d errors)  ratio %.2f",
			r.op, r.sotto.callers, r.sotto.rate(), r.unit, ms(r.sotto.percentile(50)), ms(r.sotto.percentile(99)), r.sotto.ops, r.sotto.errs,
			r.transit.rate(), r.unit, ms(r.transit.percentile(50)), ms(r.transit.percentile(99)), r.transit.ops, r.transit.errs, r.ratio())
	}
	settle := func(phase string) {
		d := s.settle()
		t.Logf("  (after %s: the audit log stopped growing within %s)", phase, d.Round(100*time.Millisecond))
	}

	// The floor: an RPC that does no work (grpc.health.v1 Check) on the same
	// connection, through the same TLS session and interceptor chain as
	// Tokenize. No Sotto operation over gRPC can beat it, so its ratio to
	// Transit bounds every ratio below on this machine.
	for _, c := range levels {
		tm := measure("", c, 1, opsPerLevel, maxPerLevel, func(ctx context.Context, i int) error {
			_, val := value(i)
			_, err := transitEncrypt(ctx, val)
			return err
		})
		sm := measure("", c, 1, opsPerLevel, maxPerLevel, func(ctx context.Context, i int) error {
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
			if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				err = fmt.Errorf("health: %v", resp.GetStatus())
			}
			return err
		})
		add(row{op: floorOp, unit: "ops/s", sotto: sm, transit: tm})
	}

	// First use of each subject: tokenvault creates a data key and wraps it
	// with Transit. Afterwards every phase cycles through the same subjects,
	// whose unwrapped keys are cached, as in steady-state production.
	{
		tm := measure("", 1, 1, subjects, time.Minute, encrypt(seq))
		sm := measure("tokenize-new-subject", 1, 1, subjects, time.Minute, tokenize(seq))
		seq += max(sm.ops, tm.ops)
		add(row{op: "Tokenize 1 value, new subject (creates a data key)", unit: "ops/s", sotto: sm, transit: tm})
		settle("new subjects")
	}

	for _, c := range levels {
		tm := measure("", c, 1, opsPerLevel, maxPerLevel, encrypt(seq))
		sm := measure(fmt.Sprintf("tokenize-c%d", c), c, 1, opsPerLevel, maxPerLevel, tokenize(seq))
		seq += max(sm.ops, tm.ops)
		add(row{op: "Tokenize 1 value vs Transit encrypt", unit: "ops/s", sotto: sm, transit: tm})
		settle("tokenize")
	}

	// Detokenize and decrypt read back what the phases above wrote (only
	// indexes both sides wrote), each level starting where the last stopped.
	var readable []int
	for i := range seq {
		if toks[i] != "" && cts[i] != "" {
			readable = append(readable, i)
		}
	}
	if len(readable) == 0 {
		t.Fatal("nothing was tokenized")
	}
	var dseq int
	for _, c := range levels {
		base := dseq
		tm := measure("", c, 1, opsPerLevel, maxPerLevel, func(ctx context.Context, i int) error {
			n := readable[(base+i)%len(readable)]
			_, want := value(n)
			sec, err := vc.Logical().WriteWithContext(ctx, "transit/decrypt/"+kek, map[string]any{"ciphertext": cts[n]})
			if err != nil {
				return err
			}
			pt, _ := sec.Data["plaintext"].(string)
			if got, err := base64.StdEncoding.DecodeString(pt); err != nil || string(got) != want {
				return fmt.Errorf("decrypt returned %q", pt)
			}
			return nil
		})
		sm := measure(fmt.Sprintf("detokenize-c%d", c), c, 1, opsPerLevel, maxPerLevel, func(ctx context.Context, i int) error {
			n := readable[(base+i)%len(readable)]
			_, want := value(n)
			resp, err := tv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: []string{toks[n]}, Purpose: purpose})
			if err != nil {
				return err
			}
			r := resp.GetResults()
			if len(r) != 1 || !r[0].GetDecision().GetAllowed() || r[0].GetValue() != want {
				return fmt.Errorf("detokenize returned %v", r)
			}
			return nil
		})
		dseq += max(sm.ops, tm.ops)
		add(row{op: "Detokenize 1 token (audited) vs Transit decrypt", unit: "ops/s", sotto: sm, transit: tm})
		settle("detokenize")
	}

	// Batches of 100 values, for the same subjects (cached keys).
	var bseq int
	for _, c := range levels {
		base := bseq
		tm := measure("", c, batchSize, batchOps, maxPerLevel, func(ctx context.Context, i int) error {
			n := base + i
			in := make([]map[string]any, batchSize)
			for k := range in {
				_, val := value(total + n*batchSize + k)
				in[k] = map[string]any{"plaintext": base64.StdEncoding.EncodeToString([]byte(val))}
			}
			sec, err := vc.Logical().WriteWithContext(ctx, "transit/encrypt/"+kek, map[string]any{"batch_input": in})
			if err != nil {
				return err
			}
			out, _ := sec.Data["batch_results"].([]any)
			if len(out) != batchSize {
				return fmt.Errorf("batch encrypt returned %d results", len(out))
			}
			for _, o := range out {
				if r, _ := o.(map[string]any); r["ciphertext"] == nil || r["ciphertext"] == "" {
					return fmt.Errorf("batch encrypt item: %v", o)
				}
			}
			return nil
		})
		sm := measure(fmt.Sprintf("tokenize-batch-c%d", c), c, batchSize, batchOps, maxPerLevel, func(ctx context.Context, i int) error {
			n := base + i
			req := &tokenvaultv1.TokenizeRequest{Subject: subject(n), Items: make([]*tokenvaultv1.TokenizeItem, batchSize)}
			for k := range req.Items {
				dt, val := value(total + n*batchSize + k)
				req.Items[k] = &tokenvaultv1.TokenizeItem{Value: val, DataType: dt}
			}
			resp, err := tv.Tokenize(ctx, req)
			if err != nil {
				return err
			}
			if len(resp.GetResults()) != batchSize {
				return fmt.Errorf("batch tokenize returned %d results", len(resp.GetResults()))
			}
			for _, r := range resp.GetResults() {
				if r.GetToken() == "" {
					return fmt.Errorf("batch tokenize item: %v", r)
				}
			}
			return nil
		})
		bseq += max(sm.ops, tm.ops)
		add(row{op: "Tokenize batch of 100 vs Transit batch encrypt of 100", unit: "values/s", sotto: sm, transit: tm})
		settle("batch tokenize")
	}

	report := markdown(rows, src)
	t.Log("\n" + report)
	if out := os.Getenv("SOTTO_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			t.Errorf("write %s: %v", out, err)
		} else {
			t.Logf("wrote %s", out)
		}
	}
	for _, r := range rows {
		for name, m := range map[string]measurement{"Sotto": r.sotto, "Transit": r.transit} {
			if m.errs > 0 {
				t.Errorf("%s, %d callers, %s: %d of %d operations failed; first: %v", r.op, m.callers, name, m.errs, m.ops, m.firstErr)
			}
		}
	}
}

// markdown renders the rows and the targets.
func markdown(rows []row, src string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run of %s at %s, %s, %d CPUs (GOMAXPROCS %d), Vault %s dev server (in-memory storage), Sotto on SQLite.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), src, runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), vaultVersion())
	b.WriteString("| operation | callers | Sotto | Vault Transit | Sotto/Transit | Sotto p50 / p99 | Transit p50 / p99 | ops (Sotto / Transit) |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s %s | %s %s | **%.2f** | %s / %s | %s / %s | %d / %d |\n",
			r.op, r.sotto.callers, thousands(r.sotto.rate()), r.unit, thousands(r.transit.rate()), r.unit, r.ratio(),
			ms(r.sotto.percentile(50)), ms(r.sotto.percentile(99)), ms(r.transit.percentile(50)), ms(r.transit.percentile(99)),
			r.sotto.ops, r.transit.ops)
	}

	b.WriteString("\nWhere the CPU went during each run: CPU time per value (µs) by process, from /proc, and how many of the\n" +
		"machine's cores were busy (every process counted, including other work on the machine).\n\n")
	b.WriteString("| operation | callers | Sotto: tokenvault / audit / vault / client | cores busy | Transit: vault / client | cores busy |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s / %s / %s / %s | %s | %s / %s | %s |\n", r.op, r.sotto.callers,
			r.sotto.cpuPerValue("tokenvault"), r.sotto.cpuPerValue("audit"), r.sotto.cpuPerValue("vault"), r.sotto.cpuPerValue("client"), r.sotto.coresBusy(),
			r.transit.cpuPerValue("vault"), r.transit.cpuPerValue("client"), r.transit.coresBusy())
	}

	b.WriteString("\nTargets:\n\n")
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**NOT met**"
	}
	var ratios []string
	allTen := true
	var bestBatch float64
	var bestBatchCallers int
	var p99 []string
	p99ok := true
	var floor []string
	var floorBest float64
	var floorP99 time.Duration
	for _, r := range rows {
		switch {
		case r.op == floorOp:
			floor = append(floor, fmt.Sprintf("%.2f× Transit and p99 %s at %d", r.ratio(), ms(r.sotto.percentile(99)), r.sotto.callers))
			floorBest = max(floorBest, r.ratio())
			if r.sotto.callers == 64 {
				floorP99 = r.sotto.percentile(99)
			}
			continue
		case strings.HasPrefix(r.op, "Tokenize 1 value vs"):
			ratios = append(ratios, fmt.Sprintf("%.2f× at %d", r.ratio(), r.sotto.callers))
			allTen = allTen && r.ratio() >= 10
		case strings.HasPrefix(r.op, "Tokenize batch"):
			if r.sotto.rate() > bestBatch {
				bestBatch, bestBatchCallers = r.sotto.rate(), r.sotto.callers
			}
		}
		if r.sotto.callers == 64 && !strings.HasPrefix(r.op, "Tokenize batch") {
			name, _, _ := strings.Cut(r.op, " vs ")
			p99 = append(p99, fmt.Sprintf("%s %s", strings.TrimSuffix(name, " (audited)"), ms(r.sotto.percentile(99))))
			p99ok = p99ok && r.sotto.percentile(99) < 5*time.Millisecond
		}
	}
	fmt.Fprintf(&b, "- Tokenize at least 10× Transit's throughput: %s (Sotto/Transit %s callers; the no-op RPC floor reaches at most %.2f×).\n", met(allTen), strings.Join(ratios, ", "), floorBest)
	fmt.Fprintf(&b, "- Batch Tokenize of 100 values at 100,000 values/s or more: %s (best %s values/s, at %d callers; compare `BenchmarkStorageInsert`, the bare durable insert of the same rows).\n", met(bestBatch >= 100_000), thousands(bestBatch), bestBatchCallers)
	fmt.Fprintf(&b, "- p99 under 5 ms at 64 concurrent callers: %s (p99 at 64 callers: %s; the no-op RPC floor: %s).\n", met(p99ok), strings.Join(p99, "; "), ms(floorP99))
	fmt.Fprintf(&b, "\nThe floor, an RPC that does nothing on the same connection and interceptor chain: %s callers.\n", strings.Join(floor, ", "))
	return b.String()
}

// sourceVersion names the commit the binaries were presumably built from,
// and whether the service code differed from it.
func sourceVersion() string {
	root, err := devsuite.RepoRoot()
	if err != nil {
		return "unknown commit"
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown commit"
	}
	v := "commit " + strings.TrimSpace(string(head))
	if out, err := exec.Command("git", "-C", root, "status", "--porcelain", "--", "services", "pkg", "cmd", "gen").Output(); err == nil && len(out) > 0 {
		v += " (with uncommitted changes to the services)"
	}
	return v
}

func vaultVersion() string {
	bin := os.Getenv("SOTTO_VAULT_BIN")
	if i := strings.Index(bin, "vault-v"); i >= 0 {
		v, _, _ := strings.Cut(bin[i+len("vault-"):], "/")
		return v
	}
	return "(version unknown)"
}

func ms(d time.Duration) string {
	if d == never {
		return "∞"
	}
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f < 10:
		return fmt.Sprintf("%.2f ms", f)
	case f < 100:
		return fmt.Sprintf("%.1f ms", f)
	default:
		return fmt.Sprintf("%.0f ms", f)
	}
}

func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
