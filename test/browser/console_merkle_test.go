package browser

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	esbuild "github.com/evanw/esbuild/pkg/api"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/test/devsuite"
)

// consoleBundle bundles the console's proof code (merkle.js, note.js,
// leaf.js) from the sources as they are, exposed as window.consoleTest.
func consoleBundle(t *testing.T) []byte {
	t.Helper()
	root, err := devsuite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	res := esbuild.Build(esbuild.BuildOptions{
		Stdin: &esbuild.StdinOptions{
			Contents: `import * as merkle from './merkle.js';
import * as note from './note.js';
import { decodeEvent } from './leaf.js';
const b = merkle.fromBase64;
// Each case resolves to "" (the proof holds) or the reason it was refused.
const outcome = (p) => p.then(() => '', (e) => (e instanceof merkle.ProofError ? e.message : 'THREW ' + e));
window.consoleTest = {
  async inclusion(cases) {
    return Promise.all(cases.map((c) => outcome(merkle.verifyInclusion(c.index, c.size, b(c.leaf), c.proof.map(b), b(c.root)))));
  },
  async consistency(cases) {
    return Promise.all(cases.map((c) => outcome(merkle.verifyConsistency(c.size1, c.size2, b(c.root1), b(c.root2), c.proof.map(b)))));
  },
  async leafHashes(leaves) {
    return Promise.all(leaves.map(async (l) => merkle.toBase64(await merkle.hashLeaf(b(l)))));
  },
  async checkpoint(cases) {
    return Promise.all(cases.map((c) => outcome((async () => {
      const vs = [];
      for (const k of c.keys) vs.push(await note.parseVerifierKey(k));
      await note.verifyCheckpoint(c.resp, vs);
    })())));
  },
  decode(leaf) {
    return decodeEvent(b(leaf));
  },
};`,
			ResolveDir: filepath.Join(root, "web", "src", "console"),
			Sourcefile: "console-test-entry.js",
		},
		Bundle:   true,
		Format:   esbuild.FormatIIFE,
		Target:   esbuild.ES2022,
		Charset:  esbuild.CharsetUTF8,
		LogLevel: esbuild.LogLevelSilent,
	})
	if len(res.Errors) > 0 || len(res.OutputFiles) != 1 {
		t.Fatalf("bundling the console's proof code: %v", res.Errors)
	}
	return res.OutputFiles[0].Contents
}

// consoleTestPage serves a blank page with the bundle, on loopback (a
// secure context, as WebCrypto needs), and opens it.
func consoleTestPage(t *testing.T) context.Context {
	t.Helper()
	bundle := consoleBundle(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>proofs</title><script src="/t.js"></script></head><body></body></html>`))
	})
	mux.HandleFunc("GET /t.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(bundle)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := Start(t).Ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`typeof window.consoleTest === "object"`)); err != nil {
		t.Fatalf("the test bundle did not load: %v", err)
	}
	return ctx
}

func consoleCall[T any](t *testing.T, ctx context.Context, fn string, arg any) T {
	t.Helper()
	raw, err := json.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	out, err := chromedp.Run(tctx, chromedp.Evaluate[T](fmt.Sprintf("window.consoleTest.%s(%s)", fn, raw), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return out
}

var b64 = base64.StdEncoding.EncodeToString

func b64s(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}

type inclusionCase struct {
	Index, Size uint64
	Leaf, Root  string
	Proof       []string
	want        bool
	what        string
}

func (c inclusionCase) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"index": fmt.Sprint(c.Index), "size": fmt.Sprint(c.Size), "leaf": c.Leaf, "root": c.Root, "proof": append([]string{}, c.Proof...)})
}

type consistencyCase struct {
	Size1, Size2 uint64
	Root1, Root2 string
	Proof        []string
	want         bool
	what         string
}

func (c consistencyCase) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"size1": fmt.Sprint(c.Size1), "size2": fmt.Sprint(c.Size2), "root1": c.Root1, "root2": c.Root2, "proof": append([]string{}, c.Proof...)})
}

func unb64s(t []string) [][]byte {
	out := make([][]byte, len(t))
	for i, s := range t {
		out[i], _ = base64.StdEncoding.DecodeString(s)
	}
	return out
}

func unb64(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

// goInclusion and goConsistency are the Go library's verdicts on a case:
// the oracle for altered proofs (a few alterations still describe a valid
// proof, e.g. the same path for a tree one larger; both sides must agree).
func goInclusion(c inclusionCase) bool {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, c.Index, c.Size, unb64(c.Leaf), unb64s(c.Proof), unb64(c.Root)) == nil
}

func goConsistency(c consistencyCase) bool {
	return proof.VerifyConsistency(rfc6962.DefaultHasher, c.Size1, c.Size2, unb64s(c.Proof), unb64(c.Root1), unb64(c.Root2)) == nil
}

func flip(h []byte) []byte {
	c := append([]byte(nil), h...)
	c[len(c)/2] ^= 0x01
	return c
}

// TestConsoleProofsAgainstGo runs the console's RFC 9162 verifier
// (web/src/console/merkle.js) in Chromium against the proofs of
// github.com/transparency-dev/merkle, the library the audit service uses:
// the RFC 6962 test leaves and their known roots, then every inclusion
// proof and every consistency proof of trees up to 40 leaves (all must
// hold), and altered ones (a flipped bit in a proof hash, the leaf or a
// root, a hash dropped or added, another index or size), where the page
// must give Go's proof.Verify* verdict (nearly all are refusals).
// Then the checkpoint check (note.js) against notes signed by Go's
// x/mod/sumdb/note, and the leaf decoder against Go's deterministic
// serialisation of an audit event.
func TestConsoleProofsAgainstGo(t *testing.T) {
	ChromiumPath(t)
	ctx := consoleTestPage(t)

	// The RFC 6962 leaves: leaf hashes computed in the page, roots
	// against the published values.
	leaves := testonly.LeafInputs()
	got := consoleCall[[]string](t, ctx, "leafHashes", b64s(leaves))
	tree := testonly.New(rfc6962.DefaultHasher)
	for i, l := range leaves {
		if want := b64(rfc6962.DefaultHasher.HashLeaf(l)); got[i] != want {
			t.Fatalf("leaf hash %d: %s, want %s", i, got[i], want)
		}
		tree.AppendData(l)
		if want := testonly.RootHashes()[i+1]; string(tree.Hash()) != string(want) {
			t.Fatalf("the Go tree's root of %d leaves is not the published one", i+1)
		}
	}
	// More leaves, so that trees have several levels of ragged right edge.
	for i := len(leaves); i < 40; i++ {
		tree.AppendData([]byte(fmt.Sprintf("leaf %d", i)))
	}
	n := tree.Size()

	var inc []inclusionCase
	for size := uint64(1); size <= n; size++ {
		root := tree.HashAt(size)
		for index := uint64(0); index < size; index++ {
			p, err := tree.InclusionProof(index, size)
			if err != nil {
				t.Fatal(err)
			}
			leaf := tree.LeafHash(index)
			c := inclusionCase{Index: index, Size: size, Leaf: b64(leaf), Root: b64(root), Proof: b64s(p), want: true, what: "valid"}
			inc = append(inc, c)
			if (index+size)%3 != 0 {
				continue
			}
			bad := func(what string, f func(*inclusionCase)) {
				d := c
				d.Proof = append([]string(nil), c.Proof...)
				d.want, d.what = false, what
				f(&d)
				d.want = goInclusion(d)
				inc = append(inc, d)
			}
			bad("leaf flipped", func(d *inclusionCase) { d.Leaf = b64(flip(leaf)) })
			bad("root flipped", func(d *inclusionCase) { d.Root = b64(flip(root)) })
			bad("hash added", func(d *inclusionCase) { d.Proof = append(d.Proof, b64(leaf)) })
			bad("size+1", func(d *inclusionCase) { d.Size++ })
			bad("index past size", func(d *inclusionCase) { d.Index = size })
			if len(p) > 0 {
				bad("proof hash flipped", func(d *inclusionCase) { d.Proof[len(p)-1] = b64(flip(p[len(p)-1])) })
				bad("hash dropped", func(d *inclusionCase) { d.Proof = d.Proof[:len(p)-1] })
			}
			if size > 1 {
				bad("other index", func(d *inclusionCase) { d.Index = (index + 1) % size })
			}
		}
	}
	res := consoleCall[[]string](t, ctx, "inclusion", inc)
	checked := map[bool]int{}
	for i, c := range inc {
		if (res[i] == "") != c.want {
			t.Errorf("inclusion %s index %d size %d: page says %q", c.what, c.Index, c.Size, res[i])
		}
		checked[c.want]++
	}
	t.Logf("inclusion: %d proofs held, %d refused, as in Go", checked[true], checked[false])
	if checked[false] < len(inc)/2 {
		t.Errorf("only %d of %d inclusion cases were refused: the alterations test little", checked[false], len(inc))
	}

	var cons []consistencyCase
	for s1 := uint64(1); s1 <= n; s1++ {
		for s2 := s1; s2 <= n; s2++ {
			p, err := tree.ConsistencyProof(s1, s2)
			if err != nil {
				t.Fatal(err)
			}
			r1, r2 := tree.HashAt(s1), tree.HashAt(s2)
			c := consistencyCase{Size1: s1, Size2: s2, Root1: b64(r1), Root2: b64(r2), Proof: b64s(p), want: true, what: "valid"}
			cons = append(cons, c)
			if (s1+s2)%3 != 0 {
				continue
			}
			bad := func(what string, f func(*consistencyCase)) {
				d := c
				d.Proof = append([]string(nil), c.Proof...)
				d.want, d.what = false, what
				f(&d)
				d.want = goConsistency(d)
				cons = append(cons, d)
			}
			bad("first root flipped", func(d *consistencyCase) { d.Root1 = b64(flip(r1)) })
			bad("second root flipped", func(d *consistencyCase) { d.Root2 = b64(flip(r2)) })
			bad("hash added", func(d *consistencyCase) { d.Proof = append(d.Proof, b64(r1)) })
			bad("shrunk", func(d *consistencyCase) { d.Size1, d.Size2, d.Root1, d.Root2 = s2+1, s2, b64(r2), b64(r2) })
			if len(p) > 0 {
				bad("proof hash flipped", func(d *consistencyCase) { d.Proof[0] = b64(flip(p[0])) })
				bad("hash dropped", func(d *consistencyCase) { d.Proof = d.Proof[:len(p)-1] })
				bad("second size+1", func(d *consistencyCase) { d.Size2++ })
			}
		}
	}
	cres := consoleCall[[]string](t, ctx, "consistency", cons)
	checked = map[bool]int{}
	for i, c := range cons {
		if (cres[i] == "") != c.want {
			t.Errorf("consistency %s %d→%d: page says %q", c.what, c.Size1, c.Size2, cres[i])
		}
		checked[c.want]++
	}
	t.Logf("consistency: %d proofs held, %d refused, as in Go", checked[true], checked[false])
	if checked[false] < len(cons)/3 {
		t.Errorf("only %d of %d consistency cases were refused: the alterations test little", checked[false], len(cons))
	}

	// Checkpoints: a C2SP checkpoint signed as the audit service signs it
	// (x/mod/sumdb/note, Ed25519), checked by note.js with WebCrypto.
	const origin = "sotto.local/audit"
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	otherS, otherV, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(sk string, size uint64, root []byte) string {
		s, err := note.NewSigner(sk)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", origin, size, b64(root))}, s)
		if err != nil {
			t.Fatal(err)
		}
		return b64(msg)
	}
	root := tree.Hash()
	resp := func(signed string, size uint64, root []byte) map[string]any {
		return map[string]any{"checkpoint": map[string]any{"tree_size": fmt.Sprint(size), "root_hash": b64(root), "signed_note": signed}}
	}
	good := signWith(skey, n, root)
	tampered, _ := base64.StdEncoding.DecodeString(good)
	tampered = []byte(string(tampered[:len(origin)+1]) + fmt.Sprint(n+1) + string(tampered[len(origin)+1+len(fmt.Sprint(n)):]))
	cpCases := []struct {
		keys []string
		resp map[string]any
		want bool
		what string
	}{
		{[]string{vkey}, resp(good, n, root), true, "signed by the pinned key"},
		{[]string{otherV, vkey}, resp(good, n, root), true, "one of two pinned keys"},
		{[]string{vkey}, resp(signWith(otherS, n, root), n, root), false, "signed by another key of the same name"},
		{[]string{vkey}, resp(b64(tampered), n+1, root), false, "size altered after signing"},
		{[]string{vkey}, resp(good, n-1, tree.HashAt(n-1)), false, "response fields differ from the note"},
		{[]string{vkey}, resp(good, n, flip(root)), false, "response root differs from the note"},
		{[]string{vkey[:len(vkey)-4] + "AAA="}, resp(good, n, root), false, "verifier key with a wrong hash"},
	}
	var keys []any
	for _, c := range cpCases {
		keys = append(keys, map[string]any{"keys": c.keys, "resp": c.resp})
	}
	cpRes := consoleCall[[]string](t, ctx, "checkpoint", keys)
	for i, c := range cpCases {
		if (cpRes[i] == "") != c.want {
			t.Errorf("checkpoint %s: page says %q", c.what, cpRes[i])
		}
	}

	// The leaf decoder against Go's deterministic serialisation.
	ev := &auditv1.Event{EventId: "0b0e7c57-3f4e-4c1a-9d62-2d0f3c1b9a77", OccurTime: timestamppb.New(time.Date(2026, 11, 30, 3, 4, 5, 678e6, time.UTC)),
		RecordTime: timestamppb.New(time.Date(2026, 11, 30, 3, 4, 6, 0, time.UTC)), ActorWorkload: "spiffe://sotto.local/conversation",
		ActorSubjectHash: "a1b2", SubjectHash: "c3d4", Action: "conversation.reveal_value", ResourceType: "conversation", ResourceId: "cnv_1",
		Purpose: "order_support", Outcome: auditv1.Outcome_OUTCOME_DENIED, Reason: "POLICY_DENIED", HmacKeyVersion: 2, CallerWorkload: "spiffe://sotto.local/gateway"}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	dec := consoleCall[map[string]string](t, ctx, "decode", b64(data))
	want := map[string]string{"event_id": ev.EventId, "occur_time": "2026-11-30T03:04:05.678Z", "record_time": "2026-11-30T03:04:06.000Z",
		"actor_workload": ev.ActorWorkload, "actor_subject_hash": "a1b2", "subject_hash": "c3d4", "action": ev.Action, "resource_type": "conversation",
		"resource_id": "cnv_1", "purpose": "order_support", "outcome": "OUTCOME_DENIED", "reason": "POLICY_DENIED", "hmac_key_version": "2", "caller_workload": ev.CallerWorkload}
	for k, v := range want {
		if dec[k] != v {
			t.Errorf("decoded %s = %q, want %q", k, dec[k], v)
		}
	}
}
