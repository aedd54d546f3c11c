package conversation

import (
	"context"
	"testing"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// TestAskerIsLinkedOnlyForTheAccount: the assistant acts for an account
// only when the caller is the conversation's customer by their own token:
// not a channel user who has not linked the account (Stranger), not
// without a caller, not another subject. (Fails without the Stranger
// check.)
func TestAskerIsLinkedOnlyForTheAccount(t *testing.T) {
	conv := storage.Conversation{Tenant: "shop", CustomerSubject: "cus_alice"}
	customer := Caller{Subject: "cus_alice", Tenant: "shop", Kind: accesstoken.KindCustomer, AAL: 2}
	if a := asker(withAsker(context.Background(), customer), conv); !a.Linked || a.AAL != 2 || a.Subject != "cus_alice" || a.Tenant != "shop" {
		t.Errorf("the customer: %+v", a)
	}
	stranger := customer
	stranger.Stranger = true
	other := customer
	other.Subject = "cus_bob"
	staff := Caller{Subject: "cus_alice", Kind: accesstoken.KindStaff, AAL: 2}
	for name, ctx := range map[string]context.Context{
		"no caller":     context.Background(),
		"stranger":      withAsker(context.Background(), stranger),
		"other subject": withAsker(context.Background(), other),
		"staff":         withAsker(context.Background(), staff),
	} {
		if a := asker(ctx, conv); a.Linked {
			t.Errorf("%s: linked %+v", name, a)
		}
	}
}
