package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/suite"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// auditVerify checks the audit log end to end, trusting nothing the server
// says without checking it:
//  1. every checkpoint's signature, against pinned verifier keys;
//  2. checkpoint sizes strictly increase, and consistency proofs hold between
//     consecutive checkpoints and from the last checkpoint this verifier
//     accepted on an earlier run (the witness file), so a log rewritten and
//     re-signed since then is caught;
//  3. every entry: its bytes decode, their RFC 6962 leaf hash matches the hash
//     the server stored, and its search columns match its contents;
//  4. the tree recomputed from the entries has exactly each checkpoint's root.
//
// Problems are named by leaf index and event ID.
func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sotto audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", ".sotto", "dev state directory (address, CLI identity and verifier keys of a `sotto dev up` suite)")
	addr := fs.String("addr", "", "audit service address (default: from the dev state)")
	cert := fs.String("cert", "", "CLI workload certificate (default: from the dev state)")
	key := fs.String("key", "", "CLI workload key")
	bundle := fs.String("bundle", "", "trust bundle")
	var vkeys stringList
	fs.Var(&vkeys, "verifier-key", "note verifier key of the log, obtained out of band; repeat for rotated keys (default: from the dev state)")
	witness := fs.String("witness", "", "file holding the last verified checkpoint (default: <state>/audit-witness.note)")
	trustServer := fs.Bool("trust-server-key", false, "accept the verifier key the server advertises (unsafe: only for a first look)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files := mtls.Files{Cert: *cert, Key: *key, Bundle: *bundle}
	if *addr == "" || files.Cert == "" || len(vkeys) == 0 {
		st, err := suite.ReadState(*state)
		if err != nil && (*addr == "" || files.Cert == "") {
			return err
		}
		if *addr == "" {
			*addr = st.Services["audit"].GRPC
		}
		if files.Cert == "" {
			files = st.CLI
		}
		if len(vkeys) == 0 {
			vkeys = st.AuditVerifierKeys
		}
	}
	if *witness == "" {
		*witness = filepath.Join(*state, "audit-witness.note")
	}
	src, err := mtls.NewFileSource(files, logging.New(stderr, "sotto-cli", 8))
	if err != nil {
		return err
	}
	conn, err := dial.Service(*addr, src, "audit", nil, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := auditv1.NewAuditServiceClient(conn)

	if len(vkeys) == 0 {
		if !*trustServer {
			return errors.New("no verifier key: pass --verifier-key (obtained out of band) or run against a `sotto dev up` state")
		}
		latest, err := client.GetCheckpoint(ctx, &auditv1.GetCheckpointRequest{})
		if err != nil {
			return fmt.Errorf("get checkpoint: %w", err)
		}
		fmt.Fprintln(stderr, "warning: trusting the verifier key the server advertises")
		vkeys = append(vkeys, latest.GetVerifierKey())
	}
	var verifiers []note.Verifier
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return fmt.Errorf("verifier key: %w", err)
		}
		verifiers = append(verifiers, v)
	}
	var prior []byte
	if b, err := os.ReadFile(*witness); err == nil {
		prior = b
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}

	rep, err := verifyLog(ctx, client, verifiers, prior)
	if err != nil {
		return err
	}
	for _, p := range rep.problems {
		fmt.Fprintln(stdout, "FAIL:", p)
	}
	if len(rep.problems) > 0 {
		return fmt.Errorf("audit log verification failed: %d problem(s)", len(rep.problems))
	}
	if err := os.WriteFile(*witness, rep.latestNote, 0o600); err != nil {
		return fmt.Errorf("record witness: %w", err)
	}
	fmt.Fprintf(stdout, "OK: %d entries, %d checkpoints verified (tree size %d, root %x)\n", rep.entries, rep.checkpoints, rep.size, rep.root)
	return nil
}

type verifyReport struct {
	entries, checkpoints int
	size                 int64
	root                 []byte
	latestNote           []byte
	problems             []string
}

func (r *verifyReport) fail(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// entryPageSize keeps a page of maximum-size entries well under the 4 MiB
// default message limit.
const entryPageSize = 1000

func verifyLog(ctx context.Context, c auditv1.AuditServiceClient, verifiers []note.Verifier, prior []byte) (*verifyReport, error) {
	origin := verifiers[0].Name()
	// Any pinned key version may have signed a checkpoint (keys rotate).
	parse := func(n []byte) (*log.Checkpoint, error) {
		var err error
		for _, v := range verifiers {
			var cp *log.Checkpoint
			if cp, _, _, err = log.ParseCheckpoint(n, origin, v); err == nil {
				return cp, nil
			}
		}
		return nil, err
	}
	rep := &verifyReport{}
	consistent := func(from, to *log.Checkpoint, what string) {
		if from.Size == 0 || from.Size == to.Size {
			if from.Size == to.Size && !bytes.Equal(from.Hash, to.Hash) {
				rep.fail("%s: two signed roots for size %d: the log forked", what, to.Size)
			}
			return
		}
		cr, err := c.GetConsistencyProof(ctx, &auditv1.GetConsistencyProofRequest{FromSize: int64(from.Size), ToSize: int64(to.Size)})
		if err != nil {
			rep.fail("%s %d→%d: no consistency proof: %v", what, from.Size, to.Size, err)
		} else if err := proof.VerifyConsistency(rfc6962.DefaultHasher, from.Size, to.Size, cr.GetHashes(), from.Hash, to.Hash); err != nil {
			rep.fail("%s %d→%d: consistency proof invalid: the log was rewritten: %v", what, from.Size, to.Size, err)
		}
	}

	// The latest checkpoint, as the server states it.
	latestResp, err := c.GetCheckpoint(ctx, &auditv1.GetCheckpointRequest{})
	if err != nil {
		return nil, fmt.Errorf("get checkpoint: %w", err)
	}
	latest, err := parse(latestResp.GetCheckpoint().GetSignedNote())
	if err != nil {
		rep.fail("latest checkpoint: signature or format invalid: %v", err)
		return rep, nil
	}
	rep.latestNote = latestResp.GetCheckpoint().GetSignedNote()

	// 1 and 2: every checkpoint, in strictly increasing size, consistent.
	var cps []*log.Checkpoint
	var entryIDs = map[uint64]string{}
	token := ""
	for {
		resp, err := c.ListCheckpoints(ctx, &auditv1.ListCheckpointsRequest{PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list checkpoints: %w", err)
		}
		for _, pc := range resp.GetCheckpoints() {
			cp, err := parse(pc.GetSignedNote())
			if err != nil {
				rep.fail("checkpoint at size %d: signature or format invalid: %v", pc.GetTreeSize(), err)
				continue
			}
			if int64(cp.Size) != pc.GetTreeSize() || !bytes.Equal(cp.Hash, pc.GetRootHash()) {
				rep.fail("checkpoint at size %d: signed note does not match the stored size/root", pc.GetTreeSize())
				continue
			}
			if n := len(cps); n > 0 {
				if cp.Size <= cps[n-1].Size {
					rep.fail("checkpoint at size %d listed after size %d: sizes must strictly increase", cp.Size, cps[n-1].Size)
					continue
				}
				consistent(cps[n-1], cp, "consistency")
			}
			cps = append(cps, cp)
			rep.checkpoints++
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(cps) == 0 || cps[len(cps)-1].Size != latest.Size || !bytes.Equal(cps[len(cps)-1].Hash, latest.Hash) {
		rep.fail("the latest checkpoint (size %d) is not the last one listed", latest.Size)
		return rep, nil
	}
	if prior != nil {
		if was, err := parse(prior); err != nil {
			rep.fail("witness: the checkpoint accepted earlier no longer verifies: %v", err)
		} else if was.Size > latest.Size {
			rep.fail("witness: the log shrank from %d to %d entries since the last verification", was.Size, latest.Size)
		} else {
			consistent(was, latest, "since the last verification")
		}
	}

	// 3 and 4: recompute the tree from the entries, comparing with every
	// checkpoint. While the recomputed roots match, nothing was altered.
	// From the first checkpoint whose root differs on, roots can no longer
	// tell anything apart (every later root covers the altered entry too), so
	// each entry from there is checked on its own: its recomputed leaf hash
	// must be included in the first signed tree that covers it. That names
	// the entry that changed, not the checkpoints after it.
	target := latest.Size
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	next := 0
	var (
		lastGood   uint64
		diverged   bool
		leafHashes [][]byte
		tampered   = map[uint64]bool{} // already named by verifyEntry
	)
	// pinpoint names the entries in [from, cp.Size) that the signed tree of
	// cp does not include. The audit path comes from the server; only a
	// proof that verifies against the signed root clears an entry. first
	// says cp is the first checkpoint whose root differs: only there must
	// the difference lie among these entries (a later root differs anyway,
	// because it covers the earlier alteration).
	pinpoint := func(from uint64, cp *log.Checkpoint, first bool) {
		named := 0
		for i := from; i < cp.Size; i++ {
			if tampered[i] {
				continue
			}
			pr, err := c.GetInclusionProof(ctx, &auditv1.GetInclusionProofRequest{EventId: entryIDs[i], TreeSize: int64(cp.Size)})
			if err == nil && uint64(pr.GetLeafIndex()) == i &&
				proof.VerifyInclusion(rfc6962.DefaultHasher, i, cp.Size, leafHashes[i], pr.GetHashes(), cp.Hash) == nil {
				continue
			}
			named++
			rep.fail("entry %d (event %s): altered together with its stored hash: it is not in the tree the checkpoint at size %d signed", i, entryIDs[i], cp.Size)
		}
		if first && named == 0 && !anyTampered(tampered, from, cp.Size) {
			rep.fail("checkpoint at size %d: the root recomputed from the stored entries differs from the signed root, and no single entry among %d..%d can be named (the stored tree was rewritten too)", cp.Size, from, cp.Size-1)
		}
	}
	check := func() {
		for next < len(cps) && cps[next].Size == rng.End() {
			cp := cps[next]
			root := rfc6962.DefaultHasher.EmptyRoot()
			if rng.End() > 0 {
				root, _ = rng.GetRootHash(nil)
			}
			switch {
			case !diverged && bytes.Equal(root, cp.Hash):
			case !diverged:
				diverged = true
				pinpoint(lastGood, cp, true)
			default:
				pinpoint(lastGood, cp, false)
			}
			lastGood = cp.Size
			next++
		}
	}
	check()
	for uint64(rng.End()) < target {
		resp, err := c.ListEntries(ctx, &auditv1.ListEntriesRequest{StartIndex: int64(rng.End()), PageSize: entryPageSize})
		if err != nil {
			return nil, fmt.Errorf("list entries: %w", err)
		}
		if len(resp.GetEntries()) == 0 {
			rep.fail("log returned no entries from index %d but its checkpoint has size %d", rng.End(), target)
			break
		}
		for _, e := range resp.GetEntries() {
			if uint64(e.GetLeafIndex()) >= target {
				break
			}
			if e.GetLeafIndex() != int64(rng.End()) {
				rep.fail("entry %d: missing (got index %d next)", rng.End(), e.GetLeafIndex())
				return rep, nil
			}
			if !verifyEntry(rep, e) {
				tampered[uint64(e.GetLeafIndex())] = true
			}
			entryIDs[uint64(e.GetLeafIndex())] = e.GetIndexed().GetEventId()
			leaf := rfc6962.DefaultHasher.HashLeaf(e.GetLeafData())
			leafHashes = append(leafHashes, leaf)
			if err := rng.Append(leaf, nil); err != nil {
				return nil, err
			}
			rep.entries++
			check()
		}
	}
	rep.size = int64(rng.End())
	if rng.End() > 0 {
		rep.root, _ = rng.GetRootHash(nil)
	}
	return rep, nil
}

// anyTampered reports whether an entry in [from, to) was already named.
func anyTampered(tampered map[uint64]bool, from, to uint64) bool {
	for i := from; i < to; i++ {
		if tampered[i] {
			return true
		}
	}
	return false
}

// verifyEntry checks one entry's bytes against its stored hash and its
// search columns against its bytes. It returns false when the entry's bytes
// are not what the tree recorded (its leaf is then named already).
func verifyEntry(rep *verifyReport, e *auditv1.Entry) bool {
	ev := &auditv1.Event{}
	if err := proto.Unmarshal(e.GetLeafData(), ev); err != nil {
		rep.fail("entry %d: stored bytes do not decode as an event", e.GetLeafIndex())
		return false
	}
	intact := true
	if !bytes.Equal(rfc6962.DefaultHasher.HashLeaf(e.GetLeafData()), e.GetLeafHash()) {
		rep.fail("entry %d (event %s): tampered: its data no longer matches the leaf hash recorded in the tree", e.GetLeafIndex(), ev.GetEventId())
		intact = false
	}
	ix := e.GetIndexed()
	if ix.GetEventId() != ev.GetEventId() || ix.GetSubjectHash() != ev.GetSubjectHash() ||
		ix.GetActorSubjectHash() != ev.GetActorSubjectHash() || ix.GetActorWorkload() != ev.GetActorWorkload() ||
		ix.GetAction() != ev.GetAction() || !ix.GetOccurTime().AsTime().Equal(ev.GetOccurTime().AsTime()) {
		rep.fail("entry %d (event %s): its search columns were altered (they no longer match the entry), which hides it from or misplaces it in searches", e.GetLeafIndex(), ev.GetEventId())
	}
	return intact
}
