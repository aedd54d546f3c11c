package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/channeltest"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/vaulttest"
)

// TestChannelWebhooksThroughTheSuite plays WhatsApp and Messenger against
// the real binaries: the shop's channel secrets in the suite's secrets
// file, the subscription handshake, then signed deliveries carrying canary
// values (the sender's number, which the wamid embeds, a Page-scoped id,
// an e-mail address and a card number) to the gateway, which hands them
// to the conversation service. A delivery replayed is stored once, a
// forged one not at all. The conversation's database (file and WAL) and
// the gateway's and conversation's logs hold none of the canaries.
func TestChannelWebhooksThroughTheSuite(t *testing.T) {
	t.Run("secrets file", func(t *testing.T) { channelWebhooks(t, nil) })
	// The gateway reads the secrets from Vault KV with its own policy's
	// token (deploy/vault/policies/gateway.hcl).
	t.Run("vault", func(t *testing.T) { channelWebhooks(t, vaulttest.Start(t)) })
}

func channelWebhooks(t *testing.T, v *vaulttest.Server) {
	state := t.TempDir()
	const (
		tenant   = "default"
		waSecret = "e2e-wa-app-secret-0123456789abcdef"
		msSecret = "e2e-ms-app-secret-0123456789abcdef"
		phoneID  = "106540352242922"
		pageID   = "104953292345678"
	)
	shop := map[string]map[string]string{
		secrets.ChannelPath(tenant, secrets.WhatsApp): {
			secrets.KeyAppSecret: waSecret, secrets.KeyVerifyToken: "e2e-verify", secrets.KeyPhoneNumberID: phoneID,
			secrets.KeyAccessToken: "EAAG-e2e-access",
		},
		secrets.ChannelPath(tenant, secrets.Messenger): {
			secrets.KeyAppSecret: msSecret, secrets.KeyVerifyToken: "e2e-verify", secrets.KeyPageID: pageID,
			secrets.KeyPageAccessToken: "EAAG-e2e-page",
		},
	}
	var env []string
	if v == nil {
		if err := secrets.WriteFile(filepath.Join(state, "secrets.json"), shop); err != nil {
			t.Fatal(err)
		}
	} else {
		for path, secret := range shop {
			data := map[string]any{}
			for k, val := range secret {
				data[k] = val
			}
			if _, err := v.Client.KVv2("secret").Put(context.Background(), path, data); err != nil {
				t.Fatal(err)
			}
		}
		env = vaultEnv(t, v)
	}
	s := startSuite(t, state, env...)
	ctx := context.Background()
	wa := channeltest.Webhook{URL: s.Info.GatewayURL + "/v1/channels/whatsapp/" + tenant + "/webhook", AppSecret: waSecret}
	ms := channeltest.Webhook{URL: s.Info.GatewayURL + "/v1/channels/messenger/" + tenant + "/webhook", AppSecret: msSecret}

	challenge := channeltest.NewChallenge()
	if r, err := wa.Subscribe(ctx, "e2e-verify", challenge); err != nil || r.Status != http.StatusOK || r.Body != challenge {
		t.Fatalf("handshake: %+v, %v", r, err)
	}

	email, card := sealingCanaries(t)
	number := canaryDigits(t, "4477009", 12)
	psid := canaryDigits(t, "67505", 16)
	wamid := channeltest.NewWamID(number)
	text := "Where is my order? My e-mail is " + email + " and I paid with " + card
	waBody := channeltest.WhatsAppDelivery{PhoneNumberID: phoneID, Messages: []channeltest.WhatsAppMessage{
		{From: number, ID: wamid, Text: text, Name: "Canary Customer"},
	}}.JSON()
	deliver := func(w channeltest.Webhook, body []byte, want int) {
		t.Helper()
		r, err := w.Deliver(ctx, body)
		if err != nil || r.Status != want {
			t.Fatalf("delivery to %s: %d %q, %v; want %d", w.URL, r.Status, r.Body, err, want)
		}
	}
	deliver(wa, waBody, http.StatusOK)
	deliver(wa, waBody, http.StatusOK) // the platform's retry
	forged := channeltest.WhatsAppDelivery{PhoneNumberID: phoneID, Messages: []channeltest.WhatsAppMessage{{From: number, Text: "forged " + email}}}.JSON()
	if r, err := wa.DeliverSigned(ctx, forged, channeltest.Sign("not-the-app-secret-0123456789abcdef", forged)); err != nil || r.Status != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %+v, %v", r, err)
	}
	deliver(ms, channeltest.MessengerDelivery{PageID: pageID, Events: []channeltest.MessengerEvent{{SenderID: psid, Text: "Hi, my e-mail is " + email}}}.JSON(), http.StatusOK)

	// What the conversation service stored: one inbound row per platform
	// message (the replay added none), and the WhatsApp text as
	// placeholders.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(state, "data", "conversation.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var inbound, tokenised int
	if err := db.QueryRow(`SELECT count(*) FROM channel_messages WHERE message_id <> ''`).Scan(&inbound); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM messages WHERE text LIKE '%[EMAIL_1]%[CARD_1]%'`).Scan(&tokenised); err != nil {
		t.Fatal(err)
	}
	if inbound != 2 || tokenised != 1 {
		t.Fatalf("stored %d inbound channel messages (want 2) and %d tokenised WhatsApp texts (want 1)", inbound, tokenised)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	canaries := []string{number, psid, wamid, email, email[:strings.IndexByte(email, '@')], card}
	files := map[string][]byte{}
	for _, f := range []string{"data/conversation.db", "data/conversation.db-wal", "logs/gateway.log", "logs/conversation.log"} {
		b, err := os.ReadFile(filepath.Join(state, f))
		if err != nil && !(os.IsNotExist(err) && strings.HasSuffix(f, "-wal")) {
			t.Fatal(err)
		}
		files[f] = b
	}
	if len(files["logs/gateway.log"]) == 0 {
		t.Fatal("the gateway logged nothing; the search would prove nothing")
	}
	for f, b := range files {
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("%s holds the canary %q", f, c)
			}
		}
	}
}

// canaryDigits is prefix followed by random digits, n digits in all.
func canaryDigits(t *testing.T, prefix string, n int) string {
	t.Helper()
	out := prefix
	for len(out) < n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprint(d)
	}
	return out
}
