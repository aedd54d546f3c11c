package server_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/reasons"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestConversationErasesOnlyItsChannelPseudonyms: the conversation
// workload may erase a messaging-platform user's pseudonymous subject
// ("chu_" and 26 base32 characters) when the account it was linked to is
// erased, and nothing else: an account id, a look-alike, or a pseudonym
// with anything around it is refused PermissionDenied
// NOT_CHANNEL_PSEUDONYM and keeps its values. consent erases any subject;
// other workloads none.
func TestConversationErasesOnlyItsChannelPseudonyms(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		c, conv, p := v.client(t, "consent"), v.client(t, "conversation"), v.privacy(t, "consent")
		ctx := context.Background()
		const pseudonym = "chu_abcdefghijklmnopqrstuvwxyz"
		a := put(t, c, "", "acc_alice", item("Alice Example", tokenvaultv1.DataType_DATA_TYPE_NAME))
		put(t, conv, "", pseudonym, item("+14155550123", tokenvaultv1.DataType_DATA_TYPE_PHONE))

		for _, s := range []string{"acc_alice", "chu_short", pseudonym + "a", "CHU_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			"chu_abcdefghijklmnopqrstuvwxy1", "x" + pseudonym, "chu_" + pseudonym[4:] + ".x"} {
			_, err := conv.EraseSubject(ctx, &tokenvaultv1.EraseSubjectRequest{Subject: s, RequestId: "dsr_conv"})
			if status.Code(err) != codes.PermissionDenied || errorInfo(err).GetReason() != reasons.NotChannelPseudonym {
				t.Errorf("conversation erases %q: %v; want PermissionDenied %s", s, err, reasons.NotChannelPseudonym)
			}
		}
		if got, err := detokenize(conv, a[0]); err != nil || got.GetResults()[0].GetValue() != "Alice Example" {
			t.Fatalf("alice after conversation's refused erasures: %v %v", got, err)
		}

		resp, err := conv.EraseSubject(ctx, &tokenvaultv1.EraseSubjectRequest{Subject: pseudonym, RequestId: "dsr_conv"})
		if err != nil || resp.GetEvidence().GetTokensAffected() != 1 {
			t.Fatalf("conversation erases its pseudonym: %v %v", resp, err)
		}
		if vals, _ := exportAll(t, p, subj(pseudonym), "dsr_export_pseudonym"); len(vals) != 0 {
			t.Fatalf("the pseudonym's values after its erasure: %d", len(vals))
		}
		again, err := conv.EraseSubject(ctx, &tokenvaultv1.EraseSubjectRequest{Subject: pseudonym, RequestId: "dsr_conv"})
		if err != nil || !again.GetEvidence().GetAlreadyErased() {
			t.Fatalf("the pseudonym's erasure repeated: %v %v", again, err)
		}

		for _, w := range []string{"identity", "gateway", "crmsync"} {
			_, err := v.client(t, w).EraseSubject(ctx, &tokenvaultv1.EraseSubjectRequest{Subject: "chu_bcdefghijklmnopqrstuvwxyz2", RequestId: "dsr_x"})
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s erases a pseudonym: %v; want PermissionDenied", w, err)
			}
		}
		if _, err := c.EraseSubject(ctx, &tokenvaultv1.EraseSubjectRequest{Subject: "acc_alice", RequestId: "dsr_alice"}); err != nil {
			t.Fatalf("consent erases an account: %v", err)
		}
	})
}
