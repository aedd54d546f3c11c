package server_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

func noticeIDs(ns []*consentv1.NoticeVersion) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.GetNoticeId())
	}
	return out
}

// TestEveryConsentPurposeHasAListedNotice is what a consent page does:
// for each purpose that rests on consent, ListNotices (anonymously, as
// GetNoticeVersion) finds the latest notice asking for it, and a grant
// naming that notice and its text is recorded, including purposes whose
// notice has another id (analytics, model_improvement, crm_sync).
func TestEveryConsentPurposeHasAListedNotice(t *testing.T) {
	h := sqlite(t)
	ctx := context.Background()
	all, err := h.gw().ListNotices(ctx, &consentv1.ListNoticesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"analytics-and-improvement", "crm-sharing", "marketing", "personalisation"}, noticeIDs(all.GetNotices())); diff != "" {
		t.Errorf("the catalogue's notices (-want +got):\n%s", diff)
	}
	if all.GetNextPageToken() != "" {
		t.Errorf("one page holds them all, got a next page token")
	}
	purposes, err := h.gw().ListPurposes(ctx, &consentv1.ListPurposesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	granted := 0
	for _, p := range purposes.GetPurposes() {
		if p.GetLegalBasis() != consentv1.LegalBasis_LEGAL_BASIS_CONSENT {
			continue
		}
		resp, err := h.gw().ListNotices(ctx, &consentv1.ListNoticesRequest{PurposeId: p.GetPurposeId()})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetNotices()) == 0 {
			t.Errorf("%s: no notice asks for it", p.GetPurposeId())
			continue
		}
		n := resp.GetNotices()[0]
		h.grant(t, h.customer("cus_1"), &consentv1.GrantConsentRequest{PurposeId: p.GetPurposeId(), Notice: shown(n, "en"), RequestId: "g-" + p.GetPurposeId()})
		if c := h.check(t, "cus_1", p.GetPurposeId()); !c.GetAllowed() {
			t.Errorf("%s after a grant with the listed notice: %v", p.GetPurposeId(), c)
		}
		granted++
	}
	if granted < 5 {
		t.Errorf("granted %d consent purposes, the catalogue has 5", granted)
	}
}

// TestListNotices: the latest version of each notice, filtered by a purpose
// of that version; pages whose tokens belong to their query; bad filters
// and invalid tokens refused.
func TestListNotices(t *testing.T) {
	h := sqlite(t)
	ctx := context.Background()
	// A new version that no longer asks for model_improvement: the listing
	// shows it, and the filter follows the new version.
	nv, err := h.gw().CreateNoticeVersion(h.officer(), &consentv1.CreateNoticeVersionRequest{NoticeId: "analytics-and-improvement",
		PurposeIds: []string{"analytics"}, Texts: []*consentv1.NoticeText{{Language: "en", Text: "May we measure how you use our shop?"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		purpose string
		want    []string
	}{
		{"analytics", []string{"analytics-and-improvement/2"}},
		{"model_improvement", nil},
		{"crm_sync", []string{"crm-sharing/1"}},
		{"order_support", nil},
		// Not a purpose: nothing asks for it (the filter is no oracle of
		// anything but the public catalogue).
		{"telepathy", nil},
	} {
		resp, err := h.gw().ListNotices(ctx, &consentv1.ListNoticesRequest{PurposeId: tc.purpose})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range resp.GetNotices() {
			got = append(got, n.GetNoticeId()+"/"+strconv.FormatInt(n.GetVersion(), 10))
			if len(n.GetTexts()) == 0 || n.GetTexts()[0].GetTextSha256() == "" {
				t.Errorf("%s: a notice without its texts and hashes: %v", tc.purpose, n)
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("notices for %s (-want +got):\n%s", tc.purpose, diff)
		}
	}
	// The listed version is the one a grant names now.
	resp, err := h.gw().ListNotices(ctx, &consentv1.ListNoticesRequest{PurposeId: "analytics"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nv.GetNotice().GetTexts(), resp.GetNotices()[0].GetTexts(), protocmp.Transform()); diff != "" {
		t.Errorf("listed texts (-created +listed):\n%s", diff)
	}

	// Pages of one, in id order; each token only for its own query.
	var got []string
	token := ""
	for {
		resp, err := h.gw().ListNotices(ctx, &consentv1.ListNoticesRequest{PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, noticeIDs(resp.GetNotices())...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
		_, err = h.gw().ListNotices(ctx, &consentv1.ListNoticesRequest{PurposeId: "marketing", PageSize: 1, PageToken: token})
		wantErr(t, "token of another query", err, codes.InvalidArgument, reasons.PageTokenInvalid)
		_, err = h.gw().ListConsentRecords(h.customer("cus_1"), &consentv1.ListConsentRecordsRequest{PageSize: 1, PageToken: token})
		wantErr(t, "token of another RPC", err, codes.InvalidArgument, reasons.PageTokenInvalid)
		changed := []byte(token)
		if i := len(changed) / 2; changed[i] == 'A' {
			changed[i] = 'B'
		} else {
			changed[i] = 'A'
		}
		_, err = h.gw().ListNotices(ctx, &consentv1.ListNoticesRequest{PageSize: 1, PageToken: string(changed)})
		wantErr(t, "changed token", err, codes.InvalidArgument, reasons.PageTokenInvalid)
	}
	if diff := cmp.Diff([]string{"analytics-and-improvement", "crm-sharing", "marketing", "personalisation"}, got); diff != "" {
		t.Errorf("paged (-want +got):\n%s", diff)
	}

	for name, req := range map[string]*consentv1.ListNoticesRequest{
		"purpose not an id": {PurposeId: "Analytics!"},
		"page too large":    {PageSize: 101},
	} {
		_, err := h.gw().ListNotices(ctx, req)
		wantErr(t, name, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	}

	// Public, but a token that is sent must be valid (pkg/enduser's
	// Optional rule): one signed by another key is refused, not ignored.
	forged := newTokens(t).issue(t, accesstoken.Claims{Subject: "cus_1", Kind: accesstoken.KindCustomer, Tenant: "shop", AAL: accesstoken.AAL1, AMR: []string{"pwd"}})
	_, err = h.gw().ListNotices(bearer(forged), &consentv1.ListNoticesRequest{})
	wantErr(t, "forged token", err, codes.Unauthenticated, accesstoken.ReasonTokenInvalid)
	// Signed-in people of any shop read the same catalogue: notices are
	// the deployment's, not a shop's (ADR 0012, "Finding the notice").
	other := bearer(h.tokens.issue(t, accesstoken.Claims{Subject: "cus_2", Kind: accesstoken.KindCustomer, Tenant: "other-shop", AAL: accesstoken.AAL1, AMR: []string{"pwd"}}))
	for name, c := range map[string]context.Context{"customer": h.customer("cus_1"), "customer of another shop": other} {
		resp, err := h.gw().ListNotices(c, &consentv1.ListNoticesRequest{})
		if err != nil || len(resp.GetNotices()) != 4 {
			t.Errorf("%s: %d notices, %v", name, len(resp.GetNotices()), err)
		}
	}
	// Any workload of the trust domain may read them (as GetNoticeVersion).
	if _, err := h.client("tokenvault").ListNotices(ctx, &consentv1.ListNoticesRequest{}); err != nil {
		t.Errorf("a workload of the trust domain: %v", err)
	}
}
