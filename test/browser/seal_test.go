package browser

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	esbuild "github.com/evanw/esbuild/pkg/api"
	collectortracev1 "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/sealclient"
	"github.com/sottohq/sotto/test/devsuite"
)

// sealBundle bundles web/test-seal/entry.js (which exposes
// web/src/lib/seal.js as window.sealTest) from the sources as they are, so
// the test never runs a stale build. The @hpke packages come from
// web/node_modules (`npm ci` in web/).
func sealBundle(t *testing.T) []byte {
	t.Helper()
	root, err := devsuite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(root, "web")
	if _, err := os.Stat(filepath.Join(web, "node_modules", "@hpke", "core")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("web/node_modules is missing: CI must run `npm ci` in web/ before the browser tests")
		}
		t.Skip("web/node_modules is missing; run `npm ci` in web/")
	}
	res := esbuild.Build(esbuild.BuildOptions{
		EntryPoints:   []string{filepath.Join(web, "test-seal", "entry.js")},
		AbsWorkingDir: web,
		Bundle:        true,
		Format:        esbuild.FormatIIFE,
		Target:        esbuild.ES2022,
		Charset:       esbuild.CharsetUTF8,
		LogLevel:      esbuild.LogLevelSilent,
	})
	if len(res.Errors) > 0 || len(res.OutputFiles) != 1 {
		t.Fatalf("bundling web/test-seal: %v", res.Errors)
	}
	return res.OutputFiles[0].Contents
}

// sealPage serves the test page and its bundle from a server of the test's
// own, on loopback (a secure context, as WebCrypto needs).
func sealPage(t *testing.T) string {
	t.Helper()
	root, err := devsuite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(root, "web", "test-seal", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	bundle := sealBundle(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("GET /seal-test.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(bundle)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// sealBrowser starts headless Chromium with a fresh profile and opens url,
// then waits for the test bundle to be there.
func sealBrowser(t *testing.T, url string) context.Context {
	t.Helper()
	ctx := Start(t).Ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`typeof window.sealTest === "object"`)); err != nil {
		t.Fatalf("the test bundle did not load: %v", err)
	}
	return ctx
}

// sealOutcome is what every window.sealTest function resolves to.
type sealOutcome struct {
	OK      bool            `json:"ok"`
	Value   json.RawMessage `json:"value"`
	Reason  string          `json:"reason"`
	Message string          `json:"message"`
}

// sealCall awaits window.sealTest[fn](args...) in the page.
func sealCall(t *testing.T, ctx context.Context, fn string, args ...any) sealOutcome {
	t.Helper()
	var parts []string
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := chromedp.Run(tctx, chromedp.Evaluate[sealOutcome](
		fmt.Sprintf("window.sealTest.%s(%s)", fn, strings.Join(parts, ",")), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return out
}

// sealMust is sealCall for a step that has to succeed, decoding its value into v.
func sealMust(t *testing.T, ctx context.Context, v any, fn string, args ...any) {
	t.Helper()
	out := sealCall(t, ctx, fn, args...)
	if !out.OK {
		t.Fatalf("%s: %s %s", fn, out.Reason, out.Message)
	}
	if v != nil {
		if err := json.Unmarshal(out.Value, v); err != nil {
			t.Fatalf("%s: %v in %s", fn, err, out.Value)
		}
	}
}

// sealKeyList is a GetSealingKeys answer as the gateway writes it (protojson
// with the proto's field names), for the page to pick from.
func sealKeyList(t *testing.T, keys ...*conversationv1.SealingKey) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for _, k := range keys {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func xwingKey(id string, pk hpke.PublicKey, expire time.Time) *conversationv1.SealingKey {
	return &conversationv1.SealingKey{KeyId: id, KemId: uint32(sealclient.KEM.ID()), KdfId: uint32(sealclient.KDF.ID()),
		AeadId: uint32(sealclient.AEAD.ID()), PublicKey: pk.Bytes(), ExpireTime: timestamppb.New(expire)}
}

func sealedOf(t *testing.T, raw json.RawMessage) *conversationv1.Sealed {
	t.Helper()
	s := &conversationv1.Sealed{}
	if err := protojson.Unmarshal(raw, s); err != nil {
		t.Fatalf("the page's Sealed is not the proto's: %v in %s", err, raw)
	}
	return s
}

func sealedJSON(t *testing.T, s *conversationv1.Sealed) json.RawMessage {
	t.Helper()
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openAsService opens a message as the conversation service does
// (internal/sealing.Keys.Open, with the AAD its server builds).
func openAsService(sk hpke.PrivateKey, conversationID string, s *conversationv1.Sealed) ([]byte, error) {
	r, err := hpke.NewRecipient(s.GetEnc(), sk, sealclient.KDF, sealclient.AEAD, []byte(sealclient.InfoMessage))
	if err != nil {
		return nil, err
	}
	return r.Open(sealclient.MessageAAD(conversationID, s.GetReplyPublicKey()), s.GetCiphertext())
}

// sealReplyAsService seals a reply as the service does
// (internal/sealing.SealReply with the conversation id as AAD).
func sealReplyAsService(t *testing.T, replyKey []byte, aad, text string) *conversationv1.Sealed {
	t.Helper()
	pk, err := sealclient.KEM.NewPublicKey(replyKey)
	if err != nil {
		t.Fatalf("the page's reply key is not an X-Wing public key: %v", err)
	}
	enc, s, err := hpke.NewSender(pk, sealclient.KDF, sealclient.AEAD, []byte(sealclient.InfoReply))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.Seal([]byte(aad), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return &conversationv1.Sealed{Enc: enc, Ciphertext: ct}
}

// TestSealInteropWithGo runs web/src/lib/seal.js in Chromium against Go's
// crypto/hpke and pkg/sealclient: the published X-Wing vector opens in the
// browser; a message the page seals to a key Go made opens with Go as the
// service opens it; a reply Go seals to the page's session key opens in the
// page; and the page refuses what the Go client refuses (a reply bound to
// another conversation, key lists without a usable key of the suite).
func TestSealInteropWithGo(t *testing.T) {
	ctx := sealBrowser(t, sealPage(t))
	const conv = "cnv_0123456789abcdefghijklmnop"
	now := time.Now()

	t.Run("suite", func(t *testing.T) {
		var suite struct{ KEM, KDF, AEAD uint16 }
		sealMust(t, ctx, &suite, "suite")
		if suite.KEM != sealclient.KEM.ID() || suite.KDF != sealclient.KDF.ID() || suite.AEAD != sealclient.AEAD.ID() {
			t.Fatalf("seal.js suite %#x/%#x/%#x, pkg/sealclient %#x/%#x/%#x", suite.KEM, suite.KDF, suite.AEAD,
				sealclient.KEM.ID(), sealclient.KDF.ID(), sealclient.AEAD.ID())
		}
	})

	t.Run("known answer", func(t *testing.T) {
		root, err := devsuite.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(root, "services", "conversation", "internal", "sealing", "testdata", "vectors.json"))
		if err != nil {
			t.Fatal(err)
		}
		var file struct {
			Vectors []struct {
				KEM         uint16 `json:"kem_id"`
				KDF         uint16 `json:"kdf_id"`
				AEAD        uint16 `json:"aead_id"`
				SkRm, PkRm  string
				Enc, Info   string
				Encryptions []struct {
					Aad string `json:"aad"`
					Ct  string `json:"ct"`
					Pt  string `json:"pt"`
				}
			}
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			t.Fatal(err)
		}
		v := file.Vectors[0]
		if v.KEM != sealclient.KEM.ID() || v.KDF != sealclient.KDF.ID() || v.AEAD != sealclient.AEAD.ID() || len(v.Encryptions) == 0 {
			t.Fatalf("the first vector is not the suite's: %#x/%#x/%#x", v.KEM, v.KDF, v.AEAD)
		}
		var got struct {
			PublicKey string
			Opened    []string
		}
		sealMust(t, ctx, &got, "knownAnswer", map[string]any{"skRm": v.SkRm, "enc": v.Enc, "info": v.Info, "encryptions": v.Encryptions})
		if got.PublicKey != sealHexB64(t, v.PkRm) {
			t.Fatal("the public key from skRm is not the vector's pkRm")
		}
		if len(got.Opened) != len(v.Encryptions) {
			t.Fatalf("opened %d of %d", len(got.Opened), len(v.Encryptions))
		}
		for i, e := range v.Encryptions {
			if got.Opened[i] != sealHexB64(t, e.Pt) {
				t.Fatalf("encryption %d opened to other bytes", i)
			}
		}
	})

	sk, err := sealclient.KEM.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys := sealKeyList(t, xwingKey("xwing-1", sk.PublicKey(), now.Add(time.Hour)))
	var session struct{ ID, ReplyPublicKey string }
	sealMust(t, ctx, &session, "newSession", keys, now.UnixMilli())
	replyKey, err := base64.StdEncoding.DecodeString(session.ReplyPublicKey)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("message AAD", func(t *testing.T) {
		var aad string
		sealMust(t, ctx, &aad, "messageAAD", conv, session.ReplyPublicKey)
		if want := base64.StdEncoding.EncodeToString(sealclient.MessageAAD(conv, replyKey)); aad != want {
			t.Fatalf("seal.js messageAAD %s, sealclient.MessageAAD %s", aad, want)
		}
	})

	// Non-ASCII text and a character outside the BMP: both sides must
	// agree on UTF-8.
	const text = "Where is my order? Grüße, Zoë 🙂 jane@example.com"

	t.Run("browser seals, Go opens", func(t *testing.T) {
		var raw json.RawMessage
		sealMust(t, ctx, &raw, "seal", session.ID, conv, text)
		sealed := sealedOf(t, raw)
		if sealed.GetKeyId() != "xwing-1" || !bytes.Equal(sealed.GetReplyPublicKey(), replyKey) {
			t.Fatalf("sealed to %q with reply key %x…", sealed.GetKeyId(), sealed.GetReplyPublicKey()[:8])
		}
		if bytes.Contains(raw, []byte("jane")) {
			t.Fatal("the sealed message holds the plaintext")
		}
		pt, err := openAsService(sk, conv, sealed)
		if err != nil {
			t.Fatalf("Go does not open the page's message: %v", err)
		}
		if string(pt) != text {
			t.Fatalf("opened %q, sealed %q", pt, text)
		}
		// The AAD binds the conversation and the reply key: the same
		// ciphertext does not open for another conversation, nor with a
		// reply key a relay swapped in.
		if _, err := openAsService(sk, "cnv_zzzzzzzzzzzzzzzzzzzzzzzzzz", sealed); err == nil {
			t.Fatal("the message opened for another conversation")
		}
		other, err := sealclient.KEM.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		swapped := &conversationv1.Sealed{KeyId: sealed.GetKeyId(), Enc: sealed.GetEnc(), Ciphertext: sealed.GetCiphertext(), ReplyPublicKey: other.PublicKey().Bytes()}
		if _, err := openAsService(sk, conv, swapped); err == nil {
			t.Fatal("the message opened with a swapped reply key")
		}
	})

	t.Run("Go seals the reply, browser opens", func(t *testing.T) {
		const reply = "I will send the tracking details to jane@example.com — danke!"
		var got string
		sealMust(t, ctx, &got, "openReply", session.ID, conv, sealedJSON(t, sealReplyAsService(t, replyKey, conv, reply)))
		if got != reply {
			t.Fatalf("opened %q, sealed %q", got, reply)
		}
	})

	t.Run("a reply bound to another conversation does not open", func(t *testing.T) {
		out := sealCall(t, ctx, "openReply", session.ID, conv, sealedJSON(t, sealReplyAsService(t, replyKey, "cnv_zzzzzzzzzzzzzzzzzzzzzzzzzz", "hello")))
		if out.OK || out.Reason != sealclient.ReasonReplyInvalid {
			t.Fatalf("got %+v, want %s", out, sealclient.ReasonReplyInvalid)
		}
	})

	t.Run("a reply sealed with the message info does not open", func(t *testing.T) {
		pk, err := sealclient.KEM.NewPublicKey(replyKey)
		if err != nil {
			t.Fatal(err)
		}
		enc, s, err := hpke.NewSender(pk, sealclient.KDF, sealclient.AEAD, []byte(sealclient.InfoMessage))
		if err != nil {
			t.Fatal(err)
		}
		ct, err := s.Seal([]byte(conv), []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		out := sealCall(t, ctx, "openReply", session.ID, conv, sealedJSON(t, &conversationv1.Sealed{Enc: enc, Ciphertext: ct}))
		if out.OK || out.Reason != sealclient.ReasonReplyInvalid {
			t.Fatalf("got %+v, want %s", out, sealclient.ReasonReplyInvalid)
		}
	})

	t.Run("posting", func(t *testing.T) {
		type answer struct {
			Status int    `json:"status"`
			Body   any    `json:"body"`
			sealed string // when set, Body becomes a sealed reply of this text
		}
		refusal := func(status int, reason string) answer {
			return answer{Status: status, Body: map[string]any{"error": map[string]any{"code": status, "reason": reason, "message": "refused"}}}
		}
		sealed := func(text string) answer { return answer{Status: 200, sealed: text} }
		for _, tc := range []struct {
			name         string
			answers      []answer
			posts, keys  int
			reply, fails string // the opened reply, or the reason it fails with
		}{
			{"sealed reply", []answer{sealed("Your order ships today, Zoë.")}, 1, 1, "Your order ships today, Zoë.", ""},
			{"no reply yet", []answer{{Status: 200, Body: map[string]any{"message": map[string]any{}}}}, 1, 1, "", ""},
			{"a reply in the clear is refused", []answer{{Status: 200, Body: map[string]any{"message": map[string]any{}, "reply": map[string]any{"text": "Hello jane@example.com"}}}},
				1, 1, "", "SEALED_REPLY_MISSING"},
			{"an expired key: fetched again, sealed again", []answer{refusal(412, sealclient.ReasonKeyExpired), sealed("ok")}, 2, 2, "ok", ""},
			{"an unknown key: fetched again, sealed again", []answer{refusal(400, sealclient.ReasonKeyUnknown), sealed("ok")}, 2, 2, "ok", ""},
			{"refused twice: no third try", []answer{refusal(412, sealclient.ReasonKeyExpired), refusal(412, sealclient.ReasonKeyExpired)}, 2, 2, "", sealclient.ReasonKeyExpired},
			{"another refusal: no retry", []answer{refusal(400, "SEALED_INVALID")}, 1, 1, "", "SEALED_INVALID"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var session struct{ ID, ReplyPublicKey string }
				sealMust(t, ctx, &session, "standInSession", sealKeyList(t, xwingKey("xwing-1", sk.PublicKey(), now.Add(time.Hour))), now.UnixMilli())
				replyKey, err := base64.StdEncoding.DecodeString(session.ReplyPublicKey)
				if err != nil {
					t.Fatal(err)
				}
				for i, a := range tc.answers {
					if a.sealed != "" {
						tc.answers[i].Body = map[string]any{"message": map[string]any{},
							"sealed_reply": json.RawMessage(sealedJSON(t, sealReplyAsService(t, replyKey, conv, a.sealed)))}
					}
				}
				var got struct {
					Sent []struct {
						URL  string          `json:"url"`
						Body json.RawMessage `json:"body"`
					}
					KeyFetches int
					Result     sealOutcome
				}
				sealMust(t, ctx, &got, "standInPost", session.ID, tc.answers, conv, text)
				if len(got.Sent) != tc.posts || got.KeyFetches != tc.keys {
					t.Fatalf("%d posts and %d key fetches, want %d and %d", len(got.Sent), got.KeyFetches, tc.posts, tc.keys)
				}
				for _, p := range got.Sent {
					req := &conversationv1.PostMessageRequest{}
					if err := protojson.Unmarshal(p.Body, req); err != nil {
						t.Fatalf("the page's post is not a PostMessageRequest: %v in %s", err, p.Body)
					}
					if !strings.HasSuffix(p.URL, "/v1/conversations/"+conv+"/messages") || req.GetConversationId() != conv || req.GetText() != "" {
						t.Fatalf("posted %s %s", p.URL, p.Body)
					}
					if pt, err := openAsService(sk, conv, req.GetSealed()); err != nil || string(pt) != text {
						t.Fatalf("the posted message does not open: %q, %v", pt, err)
					}
				}
				if tc.fails != "" {
					if got.Result.OK || got.Result.Reason != tc.fails {
						t.Fatalf("got %+v, want %s", got.Result, tc.fails)
					}
					return
				}
				var r struct{ Reply string }
				if !got.Result.OK || json.Unmarshal(got.Result.Value, &r) != nil || r.Reply != tc.reply {
					t.Fatalf("got %+v, want the reply %q", got.Result, tc.reply)
				}
			})
		}
	})

	t.Run("key choice", func(t *testing.T) {
		usable := xwingKey("xwing-2", sk.PublicKey(), now.Add(time.Hour))
		otherAEAD := xwingKey("xwing-aes", sk.PublicKey(), now.Add(time.Hour))
		otherAEAD.AeadId = uint32(hpke.AES128GCM().ID())
		otherKDF := xwingKey("xwing-sha384", sk.PublicKey(), now.Add(time.Hour))
		otherKDF.KdfId = uint32(hpke.HKDFSHA384().ID())
		x25519, err := hpke.DHKEM(ecdh.X25519()).GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		classical := &conversationv1.SealingKey{KeyId: "x25519-1", KemId: uint32(hpke.DHKEM(ecdh.X25519()).ID()),
			KdfId: uint32(sealclient.KDF.ID()), AeadId: uint32(sealclient.AEAD.ID()), PublicKey: x25519.PublicKey().Bytes(),
			ExpireTime: timestamppb.New(now.Add(time.Hour))}
		// A key labelled X-Wing whose bytes are not one.
		mislabelled := xwingKey("xwing-short", sk.PublicKey(), now.Add(time.Hour))
		mislabelled.PublicKey = x25519.PublicKey().Bytes()
		// X-Wing bytes under another KEM's id.
		otherKEM := xwingKey("mlkem-1", sk.PublicKey(), now.Add(time.Hour))
		otherKEM.KemId = uint32(hpke.MLKEM768().ID())
		expired := xwingKey("xwing-old", sk.PublicKey(), now.Add(-time.Second))
		noExpiry := xwingKey("xwing-forever", sk.PublicKey(), now)
		noExpiry.ExpireTime = nil
		noID := xwingKey("", sk.PublicKey(), now.Add(time.Hour))

		for _, tc := range []struct {
			name string
			keys []*conversationv1.SealingKey
			want string // the key id sealed to; "" for a refusal
		}{
			{"the usable key after others", []*conversationv1.SealingKey{classical, otherKEM, otherAEAD, otherKDF, expired, mislabelled, noExpiry, noID, usable}, "xwing-2"},
			{"another AEAD", []*conversationv1.SealingKey{otherAEAD}, ""},
			{"another KDF", []*conversationv1.SealingKey{otherKDF}, ""},
			{"a classical KEM", []*conversationv1.SealingKey{classical}, ""},
			{"another KEM's id", []*conversationv1.SealingKey{otherKEM}, ""},
			{"not an X-Wing key", []*conversationv1.SealingKey{mislabelled}, ""},
			{"expired", []*conversationv1.SealingKey{expired}, ""},
			{"no expiry", []*conversationv1.SealingKey{noExpiry}, ""},
			{"no id", []*conversationv1.SealingKey{noID}, ""},
			{"none", nil, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var s struct{ ID string }
				sealMust(t, ctx, &s, "newSession", sealKeyList(t, tc.keys...), now.UnixMilli())
				out := sealCall(t, ctx, "seal", s.ID, conv, text)
				if tc.want == "" {
					if out.OK || out.Reason != sealclient.ReasonNoUsableKey {
						t.Fatalf("got %+v, want %s", out, sealclient.ReasonNoUsableKey)
					}
					return
				}
				if !out.OK {
					t.Fatalf("seal: %s %s", out.Reason, out.Message)
				}
				sealed := sealedOf(t, out.Value)
				if sealed.GetKeyId() != tc.want {
					t.Fatalf("sealed to %q, want %q", sealed.GetKeyId(), tc.want)
				}
				if pt, err := openAsService(sk, conv, sealed); err != nil || string(pt) != text {
					t.Fatalf("open: %q, %v", pt, err)
				}
			})
		}
	})
}

func sealHexB64(t *testing.T, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// sealCollector is an OTLP/gRPC trace receiver: the suite's services export
// their spans to it as to an OpenTelemetry Collector, and it keeps each
// export's bytes by the exporting service's name.
type sealCollector struct {
	collectortracev1.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans map[string][]byte
}

func (c *sealCollector) Export(_ context.Context, req *collectortracev1.ExportTraceServiceRequest) (*collectortracev1.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		name := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				name = a.GetValue().GetStringValue()
			}
		}
		b, err := protojson.Marshal(rs)
		if err != nil {
			return nil, err
		}
		c.spans[name] = append(c.spans[name], b...)
	}
	return &collectortracev1.ExportTraceServiceResponse{}, nil
}

func (c *sealCollector) of(service string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.spans[service])
}

func startSealCollector(t *testing.T) (*sealCollector, string) {
	t.Helper()
	c := &sealCollector{spans: map[string][]byte{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	collectortracev1.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return c, ln.Addr().String()
}

// sealCustomer signs a customer up in the default shop through the
// gateway, verifies the address with the code identity wrote to the dev
// mailbox (found by the keyed HMAC of the address, as someone with the
// state directory could), signs in (aal1) and returns the access token.
func sealCustomer(t *testing.T, s *devsuite.Suite) string {
	t.Helper()
	var b [12]byte
	rand.Read(b[:])
	email, password := "sealer-"+hex.EncodeToString(b[:4])+"@example.com", "browser "+hex.EncodeToString(b[:])+" Kestrel"
	creds := `{"tenant":"default","email":"` + email + `","password":"` + password + `"}`
	if r := s.Request(http.MethodPost, "/v1/accounts:signUp", "", creds); r.Code != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.Code, r.Raw)
	}
	km, err := keys.NewLocal(filepath.Join(s.State, "keys", "identity.json"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := km.HMAC(context.Background(), "identity-secrets", 1, []byte("sotto/identity/mailbox-recipient"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(email))
	want := hex.EncodeToString(mac.Sum(nil))
	mailbox, err := os.ReadFile(filepath.Join(s.State, "data", "identity-mailbox.jsonl"))
	if err != nil {
		t.Fatalf("dev mailbox: %v", err)
	}
	code := ""
	for _, line := range bytes.Split(mailbox, []byte("\n")) {
		var e struct {
			Kind, Code    string
			RecipientHMAC string `json:"recipient_hmac"`
		}
		if json.Unmarshal(line, &e) == nil && e.Kind == "verify_email" && e.RecipientHMAC == want {
			code = e.Code
		}
	}
	if code == "" {
		t.Fatal("no verification code for the address in the dev mailbox")
	}
	if r := s.Request(http.MethodPost, "/v1/accounts:verifyEmail", "", `{"code":"`+code+`"}`); r.Code != http.StatusOK {
		t.Fatalf("verify e-mail: %d %s", r.Code, r.Raw)
	}
	r := s.Request(http.MethodPost, "/v1/sessions:login", "", creds)
	tokens, _ := r.Body["tokens"].(map[string]any)
	tok, _ := tokens["access_token"].(string)
	if r.Code != http.StatusOK || tok == "" {
		t.Fatalf("login: %d %s", r.Code, r.Raw)
	}
	return tok
}

// sealCanaries are an e-mail address and a card number (Luhn-valid) no
// other test uses, to search for.
func sealCanaries(t *testing.T) (email, card string) {
	t.Helper()
	b := make([]byte, 5)
	rand.Read(b)
	digits := []byte("4")
	r := make([]byte, 14)
	rand.Read(r)
	for _, x := range r {
		digits = append(digits, '0'+x%10)
	}
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return "odile." + hex.EncodeToString(b) + "@example.com", string(digits) + string(rune('0'+(10-sum%10)%10))
}

// TestSealedChatFromTheBrowser: through the real binaries (`sotto dev
// up`), a signed-in customer's page at the gateway's origin seals a
// message with web/src/lib/seal.js, posts it through the gateway's REST
// route and opens the re-identified reply with its session key. The
// conversation service opened and tokenised it (the stored text has the
// placeholders); the gateway's log file, the spans it exported over OTLP
// and its whole memory (every readable mapping of /proc/<pid>/mem) hold
// neither the canary values nor the reply. A message the page then posts
// in the clear is found in the gateway's memory, which shows the search
// finds what is there.
func TestSealedChatFromTheBrowser(t *testing.T) {
	bundle := sealBundle(t)
	traces, otlp := startSealCollector(t)
	s := devsuite.Start(t, devsuite.BinDir(t), t.TempDir(), "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp, "OTEL_EXPORTER_OTLP_INSECURE=true")
	tok := sealCustomer(t, s)
	conv := s.Request(http.MethodPost, "/v1/conversations", tok, `{"channel":"CHAT_CHANNEL_WEB"}`)
	cv, _ := conv.Body["conversation"].(map[string]any)
	id, _ := cv["conversation_id"].(string)
	if conv.Code != http.StatusOK || id == "" {
		t.Fatalf("create conversation: %d %s", conv.Code, conv.Raw)
	}

	// The widget's page at the gateway's origin, under its CSP (connect-src
	// 'self'), with the test bundle added through DevTools: seal.js calls
	// the gateway same-origin, as the widget does.
	ctx := Start(t).Ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(s.Info.GatewayURL+"/widget/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(bundle))); err != nil {
		t.Fatalf("loading the test bundle: %v", err)
	}

	email, card := sealCanaries(t)
	text := "Hello, where is my order? My e-mail is " + email + " and I paid with card " + card + "."
	var session struct{ ID string }
	sealMust(t, ctx, &session, "gatewaySession", tok)
	var posted struct {
		Reply    string
		Response map[string]json.RawMessage
	}
	sealMust(t, ctx, &posted, "post", session.ID, id, text, map[string]string{"view": "MESSAGE_VIEW_REIDENTIFIED"})
	// Re-identified for her: the reply names her address, and only the
	// session key opened it.
	if !strings.Contains(posted.Reply, email) {
		t.Fatalf("reply %q, want it to name %s", posted.Reply, email)
	}
	if _, ok := posted.Response["sealed_reply"]; !ok {
		t.Fatalf("the response has no sealed_reply: %v", posted.Response)
	}
	for k, v := range posted.Response {
		if bytes.Contains(v, []byte(email)) || bytes.Contains(v, []byte(card)) {
			t.Fatalf("the gateway's response (%s) holds a canary in the clear", k)
		}
	}

	// The service opened and tokenised it. Read straight from the service:
	// ListMessages is not sealed, and would put the text in the gateway.
	cli := conversationv1.NewConversationServiceClient(s.Dial("gateway", "conversation", s.Info.Services["conversation"].GRPC))
	list, err := cli.ListMessages(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok),
		&conversationv1.ListMessagesRequest{ConversationId: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetMessages()) != 2 || !strings.Contains(list.GetMessages()[0].GetText(), "[EMAIL_1]") ||
		!strings.Contains(list.GetMessages()[0].GetText(), "[CARD_1]") {
		t.Fatalf("stored %v, want the opened text tokenised", list.GetMessages())
	}

	// A key id the service no longer takes: the page refetches the keys
	// once and seals again, as pkg/sealclient does.
	out := sealCall(t, ctx, "postWithStaleKey", session.ID, id, "Are you open on Sunday?")
	if !out.OK {
		t.Fatalf("post after the key was retired: %s %s", out.Reason, out.Message)
	}

	// The widget's path: lib/seal-transport.js builds the body and reads
	// the answer around lib/api.js's post.
	email2, card2 := sealCanaries(t)
	var widget struct {
		Sent     map[string]json.RawMessage
		Messages []struct{ Author, Text string }
	}
	sealMust(t, ctx, &widget, "transportPost", tok, id, "Where is my parcel? Write to "+email2+", card "+card2+".", "MESSAGE_VIEW_REIDENTIFIED")
	if _, ok := widget.Sent["text"]; ok || widget.Sent["sealed"] == nil {
		t.Fatalf("the widget's body: %v", widget.Sent)
	}
	if len(widget.Messages) != 1 || widget.Messages[0].Author != "AUTHOR_ASSISTANT" || !strings.Contains(widget.Messages[0].Text, email2) {
		t.Fatalf("the widget's messages: %+v, want the opened reply naming %s", widget.Messages, email2)
	}

	// The gateway's batch exporter sends every 5 s.
	deadline := time.Now().Add(30 * time.Second)
	for !bytes.Contains(traces.of("gateway"), []byte("/messages")) && !bytes.Contains(traces.of("gateway"), []byte("PostMessage")) {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway exported no span of the post: %.500s", traces.of("gateway"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	logs, err := os.ReadFile(filepath.Join(s.State, "logs", "gateway.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("gateway log: %d bytes, %v", len(logs), err)
	}
	spans := traces.of("gateway")
	gw := devsuite.ChildNamed(t, s.PID(), "gateway")
	mem := devsuite.ProcessMemory(t, gw)
	for _, v := range []string{email, email[:strings.IndexByte(email, '@')], card, posted.Reply, email2, card2, widget.Messages[0].Text} {
		for where, b := range map[string][]byte{"log": logs, "spans": spans, "memory": mem} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("the gateway's %s holds %q", where, v)
			}
		}
	}

	// The control: the same page posting in the clear through the same
	// gateway, whose memory then holds the value.
	clearEmail, _ := sealCanaries(t)
	sealMust(t, ctx, nil, "postClear", tok, id, "My new e-mail is "+clearEmail)
	if !bytes.Contains(devsuite.ProcessMemory(t, gw), []byte(clearEmail)) {
		t.Error("the search did not find a value the gateway passed in the clear")
	}
}
