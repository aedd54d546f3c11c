package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.yaml.in/yaml/v3"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/channeltest"
	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/conversation/internal/channels"
)

// channelRig is what the messaging channels need around the service under
// test: a jobs runner on the service's database with a fake clock, the
// Graph API send emulator (pkg/channeltest) behind a real pkg/egress
// client, the shop's credentials, a domain clock the test can move, and a
// stand-in for the token vault's Detokenize and RevealMasked that decides
// by the shipped policy.yaml's workload rules.
type channelRig struct {
	mu     sync.Mutex
	offset time.Duration

	clock   *clockwork.FakeClock
	jobs    *jobs.Runner
	egress  *egress.Client
	secrets secretMap
	api     *channeltest.SendAPI
	standin *deliveryVault
	vault   channels.Vault
	// stop ends the runner, as a shutdown does.
	stop func()
}

// The shop "shop"'s WhatsApp number id, Messenger page and their tokens.
const (
	waPhoneNumberID = "106540352242922"
	waToken         = "EAAwhatsapp-test-token"
	pageToken       = "EAApage-test-token"
)

type secretMap map[string]map[string]string

func (m secretMap) Get(_ context.Context, path string) (map[string]string, error) {
	if v, ok := m[path]; ok {
		return v, nil
	}
	return nil, errs.E(errs.NotFound, "SECRET_NOT_FOUND", "no secret at this path")
}

func newChannelRig(t testing.TB, h *harness, db *store.DB, logger *slog.Logger) *channelRig {
	t.Helper()
	r := &channelRig{clock: clockwork.NewFakeClockAt(time.Now()), api: channeltest.NewSendAPI(t)}
	r.api.AddWhatsAppNumber(waPhoneNumberID, waToken)
	r.api.AddPage(pageToken)
	r.secrets = secretMap{
		"sotto/channels/shop/whatsapp":  {"access_token": waToken, "phone_number_id": waPhoneNumberID},
		"sotto/channels/shop/messenger": {"page_access_token": pageToken},
	}
	var err error
	r.jobs, err = jobs.New(db, jobs.Config{Clock: r.clock, Logger: logger, PollInterval: time.Second,
		BackoffBase: time.Second, BackoffMax: 4 * time.Second, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.egress, err = egress.New(egress.Config{AllowedHosts: []string{r.api.Host()}, AllowPrivateCIDRs: channeltest.Loopback(),
		RootCAs: r.api.RootCAs(), MaxRetries: -1}, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.standin = &deliveryVault{tokens: h.vault, rules: shippedRules(t)}
	srv := h.pki.NewServer(t, "tokenvault", authz.Policy{
		tokenvaultv1.TokenVaultService_Detokenize_FullMethodName:   {"conversation"},
		tokenvaultv1.TokenVaultService_RevealMasked_FullMethodName: {"conversation"},
	})
	tokenvaultv1.RegisterTokenVaultServiceServer(srv.GRPC(), r.standin)
	r.vault = tokenvaultv1.NewTokenVaultServiceClient(h.pki.Dial(t, "conversation", "tokenvault", servertest.Start(t, srv)))
	return r
}

// start runs the jobs runner until the test ends (or stop).
func (r *channelRig) start(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.jobs.Run(ctx) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			r.clock.Advance(time.Minute) // past the shutdown grace
			<-done
		})
	}
	t.Cleanup(r.stop)
}

// now is the domain's clock: the real time, moved forward by advance.
func (r *channelRig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Now().Add(r.offset)
}

func (r *channelRig) advance(d time.Duration) {
	r.mu.Lock()
	r.offset += d
	r.mu.Unlock()
}

// waitDeliveries moves the runner's clock a poll at a time until the
// emulator has accepted n deliveries (or fails after many polls).
func (r *channelRig) waitDeliveries(t testing.TB, n int) []channeltest.SentMessage {
	t.Helper()
	for range 500 {
		if d := r.api.Deliveries(); len(d) >= n {
			return d
		}
		r.clock.Advance(time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	// Dead-lettered deliveries say why they never arrived.
	dead, err := r.jobs.Dead(context.Background(), 0, 10)
	t.Fatalf("%d deliveries, want %d (dead jobs: %v, %v)", len(r.api.Deliveries()), n, dead, err)
	return nil
}

// settle lets the runner poll a few times, for tests that check nothing
// more is sent.
func (r *channelRig) settle() {
	for range 20 {
		r.clock.Advance(time.Second)
		time.Sleep(5 * time.Millisecond)
	}
}

// policyRule is a workload rule of services/tokenvault/policy.yaml.
type policyRule struct {
	Name      string   `yaml:"name"`
	Callers   []string `yaml:"callers"`
	Purposes  []string `yaml:"purposes"`
	DataTypes []string `yaml:"data_types"`
	Actions   []string `yaml:"actions"`
	EndUser   any      `yaml:"end_user"`
}

func shippedRules(t testing.TB) []policyRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "tokenvault", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Rules []policyRule `yaml:"rules"`
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p.Rules
}

// deliveryVault answers Detokenize and RevealMasked for the values the
// stand-in vault (harness.go) tokenised, deciding each token by the
// shipped policy's workload rules for the caller "conversation".
type deliveryVault struct {
	tokenvaultv1.UnimplementedTokenVaultServiceServer
	tokens *vault
	rules  []policyRule

	mu       sync.Mutex
	purposes []string
}

func typeName(dt tokenvaultv1.DataType) string {
	return strings.ToLower(strings.TrimPrefix(dt.String(), "DATA_TYPE_"))
}

// lookup returns a token's value and data type (from the Tokenize request
// that made it).
func (d *deliveryVault) lookup(tok string) (string, tokenvaultv1.DataType, bool) {
	v := d.tokens
	v.mu.Lock()
	defer v.mu.Unlock()
	value, ok := v.values[tok]
	if !ok {
		return "", 0, false
	}
	for _, req := range v.calls {
		for _, it := range req.GetItems() {
			if it.GetValue() == value {
				return value, it.GetDataType(), true
			}
		}
	}
	return "", 0, false
}

func (d *deliveryVault) allowed(purpose string, dt tokenvaultv1.DataType) (string, bool) {
	for _, r := range d.rules {
		if r.EndUser != nil || !slices.Contains(r.Callers, "conversation") || !slices.Contains(r.Purposes, purpose) ||
			(len(r.Actions) > 0 && !slices.Contains(r.Actions, "detokenize")) {
			continue
		}
		if slices.Contains(r.DataTypes, typeName(dt)) {
			return r.Name, true
		}
	}
	return "default-deny", false
}

func (d *deliveryVault) Detokenize(_ context.Context, req *tokenvaultv1.DetokenizeRequest) (*tokenvaultv1.DetokenizeResponse, error) {
	d.mu.Lock()
	d.purposes = append(d.purposes, req.GetPurpose())
	d.mu.Unlock()
	out := &tokenvaultv1.DetokenizeResponse{}
	for _, tok := range req.GetTokens() {
		r := &tokenvaultv1.DetokenizeResult{Token: tok}
		value, dt, ok := d.lookup(tok)
		if !ok {
			r.Error = &tokenvaultv1.ItemError{Reason: "TOKEN_NOT_FOUND"}
		} else {
			rule, allow := d.allowed(req.GetPurpose(), dt)
			r.DataType, r.Decision = dt, &tokenvaultv1.Decision{Allowed: allow, Rule: rule}
			if allow {
				r.Value = value
			}
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}

func (d *deliveryVault) RevealMasked(_ context.Context, req *tokenvaultv1.RevealMaskedRequest) (*tokenvaultv1.RevealMaskedResponse, error) {
	out := &tokenvaultv1.RevealMaskedResponse{}
	for _, tok := range req.GetTokens() {
		value, dt, ok := d.lookup(tok)
		r := &tokenvaultv1.MaskedResult{Token: tok, DataType: dt}
		if ok && dt == tokenvaultv1.DataType_DATA_TYPE_CARD_NUMBER {
			digits := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, value)
			r.Masked = "•••• " + digits[len(digits)-4:]
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}

func (d *deliveryVault) asked() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.purposes...)
}

// waNumber is a random WhatsApp user id (an E.164 number without "+"),
// and wamid a message id that embeds it as WhatsApp's do.
func waNumber(t testing.TB) string {
	t.Helper()
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	n := []byte("447")
	for _, c := range b {
		n = append(n, '0'+c%10)
	}
	return string(n)
}

func wamid(t testing.TB, number string) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "wamid.HBgM" + base64.StdEncoding.EncodeToString(append([]byte(number), b...))
}
