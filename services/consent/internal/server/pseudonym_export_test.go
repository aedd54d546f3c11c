package server_test

import (
	"strings"
	"testing"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/consent/migrations"
)

// TestExportIncludesLinkedChannelPseudonyms: what a WhatsApp user sent
// before linking the customer's account is held in tokenvault under the
// stranger's pseudonym, which conversation's export names
// (conversation.channel_pseudonym); the download adds tokenvault's export
// of that subject, so the stranger chat's placeholders get their values.
// A "pseudonym" not of conversation's form (an account id) is not
// exported: a participant cannot pull another account's values into the
// file.
func TestExportIncludesLinkedChannelPseudonyms(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		const pseudonym = "chu_abcdefghijklmnopqrstuvwxyz"
		h.parts["conversation"].set(func(p *standIn) {
			p.items = []*privacyv1.Item{
				{Category: "conversation.placeholder", Id: "con_1/[NAME_1]", Fields: []*privacyv1.Field{{Name: "value", Token: "tok_prelink"}}},
				{Category: "conversation.channel_pseudonym", Id: pseudonym},
				{Category: "conversation.channel_pseudonym", Id: "cus_other"},
			}
		})
		h.parts["tokenvault"].set(func(p *standIn) {
			p.items = []*privacyv1.Item{{Category: "tokenvault.value", Id: "tok_own", Fields: []*privacyv1.Field{{Name: "value", Value: "own value"}}}}
			p.bySubject = map[string][]*privacyv1.Item{
				pseudonym:   {{Category: "tokenvault.value", Id: "tok_prelink", Fields: []*privacyv1.Field{{Name: "value", Value: "prelink value"}}}},
				"cus_other": {{Category: "tokenvault.value", Id: "tok_other", Fields: []*privacyv1.Field{{Name: "value", Value: "another account's value"}}}},
			}
		})
		r := h.create(t, h.customer2("cus_1"), &consentv1.CreateRequestRequest{Type: consentv1.RequestType_REQUEST_TYPE_ACCESS, RequestKey: "a"})
		h.waitFor(t, r.GetRequestId(), consentv1.RequestState_REQUEST_STATE_COMPLETED)
		body, err := h.dsr().DownloadExport(h.customer2("cus_1"), &consentv1.DownloadExportRequest{RequestId: r.GetRequestId(),
			Format: consentv1.ExportFormat_EXPORT_FORMAT_CSV})
		if err != nil {
			t.Fatal(err)
		}
		file := string(body.GetData())
		for _, want := range []string{"tokenvault,tokenvault.value,tok_prelink,value,prelink value",
			"conversation,conversation.placeholder,con_1/[NAME_1],value,prelink value", "own value"} {
			if !strings.Contains(file, want) {
				t.Errorf("the export lacks %q:\n%s", want, file)
			}
		}
		if strings.Contains(file, "another account's value") {
			t.Errorf("a participant's non-pseudonym subject was exported:\n%s", file)
		}
	})
}
