package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/dial"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/mtls"
)

// auditVerify checks the audit log end to end, trusting nothing the server
// says without checking it:
//  1. every checkpoint's signature (against a pinned verifier key when given);
//  2. consistency proofs between consecutive checkpoints;
//  3. every entry: its bytes decode, and their RFC 6962 leaf hash matches the
//     hash the server stored;
//  4. the tree recomputed from the entries has exactly each checkpoint's root.
//
// Problems are named by leaf index and event ID.
func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sotto audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", ".sotto", "dev state directory (address and CLI identity of a `sotto dev up` suite)")
	addr := fs.String("addr", "", "audit service address (default: from the dev state)")
	cert := fs.String("cert", "", "CLI workload certificate (default: from the dev state)")
	key := fs.String("key", "", "CLI workload key")
	bundle := fs.String("bundle", "", "trust bundle")
	vkey := fs.String("verifier-key", "", "pinned note verifier key of the log (default: the one the server advertises, with a warning)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files := mtls.Files{Cert: *cert, Key: *key, Bundle: *bundle}
	if *addr == "" || files.Cert == "" {
		st, err := readState(*state)
		if err != nil {
			return err
		}
		if *addr == "" {
			*addr = st.AuditAddr
		}
		if files.Cert == "" {
			files = st.CLI
		}
	}
	src, err := mtls.NewFileSource(files, logging.New(stderr, "sotto-cli", 8))
	if err != nil {
		return err
	}
	conn, err := dial.Service(*addr, src, "audit", nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	rep, err := verifyLog(ctx, auditv1.NewAuditServiceClient(conn), *vkey, stderr)
	if err != nil {
		return err
	}
	for _, p := range rep.problems {
		fmt.Fprintln(stdout, "FAIL:", p)
	}
	if len(rep.problems) > 0 {
		return fmt.Errorf("audit log verification failed: %d problem(s)", len(rep.problems))
	}
	fmt.Fprintf(stdout, "OK: %d entries, %d checkpoints verified (tree size %d, root %x)\n", rep.entries, rep.checkpoints, rep.size, rep.root)
	return nil
}

type verifyReport struct {
	entries, checkpoints int
	size                 int64
	root                 []byte
	problems             []string
}

func (r *verifyReport) fail(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func verifyLog(ctx context.Context, c auditv1.AuditServiceClient, pinned string, warn io.Writer) (*verifyReport, error) {
	latest, err := c.GetCheckpoint(ctx, &auditv1.GetCheckpointRequest{})
	if err != nil {
		return nil, fmt.Errorf("get checkpoint: %w", err)
	}
	if pinned == "" {
		fmt.Fprintln(warn, "warning: trusting the verifier key the server advertises; pin it with --verifier-key")
		pinned = latest.GetVerifierKey()
	}
	verifier, err := note.NewVerifier(pinned)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	origin := latest.GetOrigin()
	rep := &verifyReport{}

	// 1 and 2: signatures, then consistency between consecutive checkpoints.
	var cps []*log.Checkpoint
	var prev *log.Checkpoint
	token := ""
	for {
		resp, err := c.ListCheckpoints(ctx, &auditv1.ListCheckpointsRequest{PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list checkpoints: %w", err)
		}
		for _, pc := range resp.GetCheckpoints() {
			cp, _, _, err := log.ParseCheckpoint(pc.GetSignedNote(), origin, verifier)
			if err != nil {
				rep.fail("checkpoint at size %d: signature or format invalid: %v", pc.GetTreeSize(), err)
				continue
			}
			if int64(cp.Size) != pc.GetTreeSize() || !bytes.Equal(cp.Hash, pc.GetRootHash()) {
				rep.fail("checkpoint at size %d: signed note does not match the stored size/root", pc.GetTreeSize())
				continue
			}
			if prev != nil && prev.Size > 0 && cp.Size > prev.Size {
				cr, err := c.GetConsistencyProof(ctx, &auditv1.GetConsistencyProofRequest{FromSize: int64(prev.Size), ToSize: int64(cp.Size)})
				if err != nil {
					rep.fail("consistency %d→%d: no proof: %v", prev.Size, cp.Size, err)
				} else if err := proof.VerifyConsistency(rfc6962.DefaultHasher, prev.Size, cp.Size, cr.GetHashes(), prev.Hash, cp.Hash); err != nil {
					rep.fail("consistency %d→%d: proof invalid: the log was rewritten: %v", prev.Size, cp.Size, err)
				}
			}
			cps = append(cps, cp)
			prev = cp
			rep.checkpoints++
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(cps) == 0 {
		rep.fail("no valid checkpoint")
		return rep, nil
	}

	// 3 and 4: recompute the tree from the entries, comparing with every checkpoint.
	target := cps[len(cps)-1].Size
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	next := 0
	check := func() {
		for next < len(cps) && cps[next].Size == rng.End() {
			root := rfc6962.DefaultHasher.EmptyRoot()
			if rng.End() > 0 {
				root, _ = rng.GetRootHash(nil)
			}
			if !bytes.Equal(root, cps[next].Hash) {
				rep.fail("checkpoint at size %d: root recomputed from the stored entries differs from the signed root (an entry below index %d was altered)", cps[next].Size, cps[next].Size)
			}
			next++
		}
	}
	check()
	for start := int64(0); uint64(start) < target; {
		resp, err := c.ListEntries(ctx, &auditv1.ListEntriesRequest{StartIndex: start, PageSize: 10000})
		if err != nil {
			return nil, fmt.Errorf("list entries: %w", err)
		}
		if len(resp.GetEntries()) == 0 {
			rep.fail("log returned no entries from index %d but its checkpoint has size %d", start, target)
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
			leafHash := rfc6962.DefaultHasher.HashLeaf(e.GetLeafData())
			ev := &auditv1.Event{}
			if err := proto.Unmarshal(e.GetLeafData(), ev); err != nil {
				rep.fail("entry %d: stored bytes do not decode as an event", e.GetLeafIndex())
			}
			if !bytes.Equal(leafHash, e.GetLeafHash()) {
				rep.fail("entry %d (event %s): tampered: its data no longer matches the leaf hash recorded in the tree", e.GetLeafIndex(), ev.GetEventId())
			}
			if err := rng.Append(leafHash, nil); err != nil {
				return nil, err
			}
			rep.entries++
			check()
		}
		start = int64(rng.End())
	}
	rep.size = int64(rng.End())
	if rng.End() > 0 {
		rep.root, _ = rng.GetRootHash(nil)
	}
	return rep, nil
}
