// Package channels is the gateway's ingress for messaging platforms: the
// webhook endpoints the WhatsApp Cloud API and Messenger call with a shop's
// customers' messages, which it passes to the conversation service's
// IngestChannelMessage.
//
//	GET  /v1/channels/{whatsapp|messenger}/{tenant}/webhook   subscription handshake
//	POST /v1/channels/{whatsapp|messenger}/{tenant}/webhook   deliveries
//
// Each shop's secrets (app secret, verify token, and the phone number or
// Page the account is) come from pkg/secrets at
// sotto/channels/<tenant>/<platform>. A delivery is read to at most
// MaxBodyBytes and its X-Hub-Signature-256 checked on the raw bytes, in
// constant time, before anything parses it (pkg/webhook's Meta scheme).
// Replays are forwarded: the conversation service is idempotent by the
// platform's message id, so a platform's retry of a delivery that was
// partly stored completes it and stores nothing twice.
//
// Sender ids, message ids (a WhatsApp wamid embeds the sender's number) and
// texts are personal data: they go to the conversation service and nowhere
// else, not to logs, metrics or answers.
package channels

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/webhook"
)

// PathPrefix is where the channel endpoints live; Mount sends requests
// under it here.
const PathPrefix = "/v1/channels/"

// routePattern names the endpoint in logs (never the URL, which holds the
// shop).
const routePattern = "/v1/channels/{platform}/{tenant}/webhook"

// Defaults of Options' zero fields.
const (
	// DefaultMaxBodyBytes bounds a delivery. Meta batches deliveries, but
	// a text is at most 4096 characters; 1 MiB is far above a real batch.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultIngestTimeout bounds one IngestChannelMessage call.
	DefaultIngestTimeout = 5 * time.Second
	// DefaultDeliveryTimeout bounds the hand-over of a whole delivery;
	// messages not handed over by then fail (500) and come back with the
	// platform's retry, rather than a slow conversation service holding
	// one request for the sum of every message's timeout.
	DefaultDeliveryTimeout = 20 * time.Second
)

// Options are the Handler's dependencies and limits.
type Options struct {
	// Secrets holds each shop's channel secrets (a secrets.Cache).
	Secrets secrets.Store
	// Conversation is the conversation service, over the gateway's mTLS
	// connection.
	Conversation conversationv1.ConversationServiceClient
	// Logger gets refusals and summaries: reasons, statuses and counts.
	Logger *slog.Logger
	// MaxBodyBytes bounds a delivery (DefaultMaxBodyBytes); a larger one
	// is 413 and is not read further.
	MaxBodyBytes int64
	// IngestTimeout bounds each message's IngestChannelMessage
	// (DefaultIngestTimeout).
	IngestTimeout time.Duration
	// DeliveryTimeout bounds the hand-over of one delivery's messages
	// (DefaultDeliveryTimeout).
	DeliveryTimeout time.Duration
	// Meter gets the delivery and message counters; nil: none.
	Meter metric.MeterProvider
	// RatePerMinute and Burst limit the requests to the channel routes per
	// client address (DefaultRatePerMinute, DefaultBurst): 429 with
	// Retry-After beyond, before the shop's secrets are looked up.
	RatePerMinute, Burst int
	// TrustedProxies are the load balancers whose X-Forwarded-For names
	// the client (the gateway's SOTTO_GATEWAY_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// Now is the limiter's clock (time.Now).
	Now func() time.Time
}

// Handler serves the channel endpoints.
type Handler struct {
	opts       Options
	mux        *http.ServeMux
	limiter    *AddressLimiter
	deliveries metric.Int64Counter
	messages   metric.Int64Counter
}

// New builds the handler.
func New(o Options) (*Handler, error) {
	if o.Secrets == nil || o.Conversation == nil || o.Logger == nil {
		return nil, errors.New("channels: secrets, the conversation service and a logger are required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.IngestTimeout <= 0 {
		o.IngestTimeout = DefaultIngestTimeout
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if o.Meter == nil {
		o.Meter = noop.NewMeterProvider()
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = DefaultRatePerMinute
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Logger = o.Logger.With(slog.String("component", "channels"), slog.String("path", routePattern))
	h := &Handler{opts: o, mux: http.NewServeMux(), limiter: NewAddressLimiter(o.RatePerMinute, o.Burst, o.TrustedProxies, o.Now)}
	meter := o.Meter.Meter("github.com/sottohq/sotto/services/gateway/internal/channels")
	var err error
	if h.deliveries, err = meter.Int64Counter("sotto.gateway.channels.deliveries",
		metric.WithDescription("Messaging-platform webhook requests, by platform and HTTP status")); err != nil {
		return nil, err
	}
	if h.messages, err = meter.Int64Counter("sotto.gateway.channels.messages",
		metric.WithDescription("Messages of verified deliveries, by platform and outcome (stored, refused, failed, foreign)")); err != nil {
		return nil, err
	}
	h.mux.HandleFunc("GET "+routePattern, h.handshake)
	h.mux.HandleFunc("POST "+routePattern, h.deliver)
	return h, nil
}

// ServeHTTP serves requests under PathPrefix; anything else is 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if ok, wait := h.limiter.Allow(r); !ok {
		// Before anything costs a secrets read or a signature check.
		rec.Header().Set("Retry-After", RetryAfter(wait))
		h.answer(r.Context(), rec, http.StatusTooManyRequests, "RATE_LIMITED", slog.LevelInfo)
	} else {
		h.mux.ServeHTTP(rec, r)
	}
	h.deliveries.Add(r.Context(), 1, metric.WithAttributes(
		platformAttr(r), attribute.String("method", methodLabel(r.Method)), attribute.Int("status", rec.status)))
}

// platformAttr labels a request by platform; anything else in the path
// is "other", so that callers cannot add label values.
func platformAttr(r *http.Request) attribute.KeyValue {
	name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, PathPrefix), "/")
	if _, ok := platforms[name]; !ok {
		name = "other"
	}
	return attribute.String("platform", name)
}

func methodLabel(m string) string {
	if m == http.MethodGet || m == http.MethodPost {
		return m
	}
	return "other"
}

// statusWriter remembers the status answered.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController (and MaxBytesReader's connection
// close) reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Mount returns a handler that serves the channel endpoints and passes
// every other request to next unchanged.
func (h *Handler) Mount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, PathPrefix) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tenantPattern is the proto's (IngestChannelMessageRequest.tenant); it
// also keeps the secret path inside the shop's subtree.
var tenantPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// challengePattern: what is echoed is only ever a short token of safe
// characters, so the endpoint cannot be made to serve chosen content.
var challengePattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)

// account is one shop's account on one platform, from its secrets.
type account struct {
	platform    *platform
	tenant      string
	appSecrets  [][]byte
	verifyToken string
	id          string // the phone number id or Page id deliveries must be for
}

// lookup finds the shop's account for the request, or answers it: 404 for
// an unknown platform, a malformed or unknown shop or incomplete secrets
// (the same answer for each, so shops cannot be probed for which is
// which), 503 when the secrets cannot be read now (the platform retries).
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request) (account, bool) {
	p, ok := platforms[r.PathValue("platform")]
	tenant := r.PathValue("tenant")
	if !ok || !tenantPattern.MatchString(tenant) {
		h.answer(r.Context(), w, http.StatusNotFound, "CHANNEL_NOT_FOUND", slog.LevelInfo)
		return account{}, false
	}
	s, err := h.opts.Secrets.Get(r.Context(), secrets.ChannelPath(tenant, p.name))
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		h.answer(r.Context(), w, http.StatusNotFound, "CHANNEL_NOT_FOUND", slog.LevelInfo)
		return account{}, false
	case err != nil:
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "channel secrets unreadable", logging.Err(err))
		h.answer(r.Context(), w, http.StatusServiceUnavailable, "CHANNEL_SECRETS_UNAVAILABLE", slog.LevelInfo)
		return account{}, false
	}
	a := account{platform: p, tenant: tenant, verifyToken: s[secrets.KeyVerifyToken], id: s[p.idKey]}
	for _, k := range []string{secrets.KeyAppSecret, secrets.KeyAppSecretPrevious} {
		if v := s[k]; v != "" {
			a.appSecrets = append(a.appSecrets, []byte(v))
		}
	}
	if s[secrets.KeyAppSecret] == "" || a.verifyToken == "" || a.id == "" {
		// An operator's mistake: said in the log, not to the caller.
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "channel secrets incomplete",
			slog.String("reason", "CHANNEL_SECRETS_INCOMPLETE"))
		h.answer(r.Context(), w, http.StatusNotFound, "CHANNEL_NOT_FOUND", slog.LevelInfo)
		return account{}, false
	}
	return a, true
}

// handshake answers the platform's subscription check: hub.mode=subscribe
// with the shop's verify token gets hub.challenge back, as text; anything
// else is 403.
func (h *Handler) handshake(w http.ResponseWriter, r *http.Request) {
	a, ok := h.lookup(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	challenge := q.Get("hub.challenge")
	if q.Get("hub.mode") != "subscribe" || !equalSecret(q.Get("hub.verify_token"), a.verifyToken) {
		h.answer(r.Context(), w, http.StatusForbidden, "WEBHOOK_VERIFY_TOKEN_MISMATCH", slog.LevelWarn)
		return
	}
	if !challengePattern.MatchString(challenge) {
		h.answer(r.Context(), w, http.StatusForbidden, "WEBHOOK_CHALLENGE_INVALID", slog.LevelWarn)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, challenge)
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "channel webhook subscribed", slog.Int("status", http.StatusOK))
}

// equalSecret compares in constant time, also in the length: digests of
// both are compared rather than the strings.
func equalSecret(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && want != ""
}

// deliver takes one delivery: the body read within the limit, its
// signature checked, then parsed and each message forwarded.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request) {
	a, ok := h.lookup(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.answer(r.Context(), w, http.StatusRequestEntityTooLarge, "WEBHOOK_BODY_TOO_LARGE", slog.LevelWarn)
		} else {
			h.answer(r.Context(), w, http.StatusBadRequest, "WEBHOOK_BODY_UNREADABLE", slog.LevelWarn)
		}
		return
	}
	verifier, err := webhook.New(webhook.Config{Scheme: webhook.MetaSHA256, Secrets: a.appSecrets}, h.opts.Logger)
	if err != nil {
		// An app secret shorter than any Meta issues: misconfigured.
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "channel app secret unusable", logging.Err(err))
		h.answer(r.Context(), w, http.StatusServiceUnavailable, "CHANNEL_SECRETS_UNAVAILABLE", slog.LevelInfo)
		return
	}
	if _, err := verifier.Check(r.Header, body); err != nil {
		h.answer(r.Context(), w, http.StatusUnauthorized, errs.ReasonOf(err), slog.LevelWarn)
		return
	}

	msgs, foreign, err := a.platform.parse(body, a.id)
	if err != nil {
		h.answer(r.Context(), w, http.StatusBadRequest, "WEBHOOK_PAYLOAD_INVALID", slog.LevelWarn)
		return
	}
	if foreign > 0 {
		// Signed by the app, but for another number or Page than this
		// shop's: one app may serve several shops, and a delivery posted
		// to another shop's URL must not become its customer's message.
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "channel messages for another account skipped",
			slog.String("reason", "WEBHOOK_FOREIGN_ACCOUNT"), slog.Int("count", foreign))
	}
	stored, rejected, failed := h.forward(r.Context(), a, msgs)
	for outcome, n := range map[string]int{"stored": stored, "refused": rejected, "failed": failed, "foreign": foreign} {
		if n > 0 {
			h.messages.Add(r.Context(), int64(n), metric.WithAttributes(
				attribute.String("platform", a.platform.name), attribute.String("outcome", outcome)))
		}
	}
	code := http.StatusOK
	if failed > 0 {
		// The platform retries the whole delivery; what was stored is
		// recognised by its message id and not stored again.
		code = http.StatusInternalServerError
	}
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "channel webhook delivered",
		slog.Int("status", code), slog.Int("count", stored), slog.Int("size", len(msgs)))
	if rejected > 0 {
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "channel messages refused by conversation",
			slog.String("reason", "CHANNEL_MESSAGE_REFUSED"), slog.Int("count", rejected))
	}
	if failed > 0 {
		h.answer(r.Context(), w, code, "CHANNEL_MESSAGES_NOT_STORED", slog.LevelWarn)
		return
	}
	w.WriteHeader(code)
}

// inbound is one message to forward.
type inbound struct {
	userID, messageID, text string
}

// forward passes each message on, in order, and counts what became of
// them: stored (or already stored), rejected for good (a retry would be
// too: outcomeOf), failed (worth a retry). One message's failure does not
// stop the others.
func (h *Handler) forward(ctx context.Context, a account, msgs []inbound) (stored, rejected, failed int) {
	// Messages already received are stored even if the platform hangs up,
	// within the delivery's own bound.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.DeliveryTimeout)
	defer cancel()
	for _, m := range msgs {
		callCtx, cancel := context.WithTimeout(ctx, h.opts.IngestTimeout)
		_, err := h.opts.Conversation.IngestChannelMessage(callCtx, &conversationv1.IngestChannelMessageRequest{
			Tenant: a.tenant, Channel: a.platform.channel,
			ChannelUserId: m.userID, ChannelMessageId: m.messageID, Text: m.text,
		})
		cancel()
		switch outcomeOf(err) {
		case outcomeStored:
			stored++
		case outcomeRefused:
			rejected++
			h.logCallError(ctx, err)
		default:
			failed++
			h.logCallError(ctx, err)
		}
	}
	return stored, rejected, failed
}

// What became of one message handed to the conversation service.
const (
	outcomeStored = iota
	outcomeRefused
	outcomeFailed
)

// Reasons of refusals that are about the deployment, not the message: the
// gateway's workload not admitted (pkg/authz), channel delivery not set up
// in the conversation service. A retry after the operator's fix stores
// the message, so they fail (500) rather than refuse (200, lost).
var deploymentReasons = map[string]bool{
	"CALLER_NOT_ALLOWED":     true,
	"CHANNEL_NOT_CONFIGURED": true,
}

// outcomeOf sorts a conversation answer. A refusal no retry can cure is
// refused: the delivery is answered 200, otherwise the platform would
// retry it, and every other customer's message batched with it, for days
// (a blocked sender, SESSION_BLOCKED, is PermissionDenied; a restricted
// subject or a step-up FailedPrecondition; invalid text InvalidArgument).
// What time or the operator can cure fails, so the platform retries:
// Unavailable, DeadlineExceeded, Aborted, ResourceExhausted (a throttle
// ends), Internal, Unknown, Unauthenticated (the gateway's own workload
// identity: no message carries a token here) and anything unforeseen.
func outcomeOf(err error) int {
	st := status.Convert(err)
	switch st.Code() {
	case codes.OK, codes.AlreadyExists:
		// AlreadyExists: the message id was taken before.
		return outcomeStored
	case codes.InvalidArgument, codes.OutOfRange, codes.NotFound,
		codes.PermissionDenied, codes.FailedPrecondition:
		if deploymentReasons[reasonOf(st)] {
			return outcomeFailed
		}
		return outcomeRefused
	default:
		return outcomeFailed
	}
}

// reasonOf is a status's ErrorInfo reason, "" if none.
func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// logCallError logs a conversation error's code and reason; its message
// is not logged (a validation message may quote what it refused).
func (h *Handler) logCallError(ctx context.Context, err error) {
	st := status.Convert(err)
	h.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "channel message not stored",
		slog.String("code", st.Code().String()), slog.String("reason", reasonOf(st)))
}

// answer ends a request with code and reason as plain text: nothing of
// the request is echoed.
func (h *Handler) answer(ctx context.Context, w http.ResponseWriter, code int, reason string, level slog.Level) {
	h.opts.Logger.LogAttrs(ctx, level, "channel webhook refused", slog.String("reason", reason), slog.Int("status", code))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, reason+"\n")
}
