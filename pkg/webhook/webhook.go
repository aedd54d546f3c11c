// Package webhook verifies inbound webhooks (WhatsApp, Messenger, payment
// and chat platforms) before anything reads them: an HMAC-SHA256 over the
// raw body, as the provider sent it, compared in constant time; a timestamp
// window for schemes that sign one; a cache that refuses a request seen
// before; a body size limit.
//
// Mount Verify on the route the provider POSTs to. Handshakes that are not
// signed, such as Meta's GET subscription check (hub.challenge), belong on a
// route of their own.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
)

// Defaults of Config's zero fields.
const (
	DefaultWindow          = 5 * time.Minute
	DefaultMaxBodyBytes    = 1 << 20
	DefaultReplayCacheSize = 100_000
	// MinSecretBytes is the shortest secret accepted; providers issue
	// 32 characters or more.
	MinSecretBytes = 16
)

// Config configures a Verifier.
type Config struct {
	Scheme Scheme
	// Secrets are the signing secrets, as the provider shows them (the
	// characters of Meta's app secret or Stripe's "whsec_..." string,
	// not a decoding of them). A signature by any of them verifies, so a
	// secret can be rotated without downtime: add the new one, then
	// remove the old one once the provider signs with the new.
	Secrets [][]byte
	// Window is how far a signed timestamp may be from now, either way.
	// The replay cache remembers a request for as long as its timestamp
	// could still be accepted (2 × Window); for a scheme without a
	// timestamp, for Window, after which a replay is accepted again:
	// handlers of such schemes dedupe by the provider's event ID too.
	Window time.Duration
	// MaxBodyBytes bounds the body read; a larger one is refused with 413.
	MaxBodyBytes int64
	// ReplayCacheSize bounds the requests remembered. When it is full of
	// unexpired entries, new requests are refused with 503 (the provider
	// retries later) rather than an old entry evicted, which would let
	// that request be replayed.
	ReplayCacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks webhook signatures. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	ttl    time.Duration
	replay *replayCache
	logger *slog.Logger
}

// New builds a Verifier; refusals are logged to logger with their reason.
func New(cfg Config, logger *slog.Logger) (*Verifier, error) {
	if logger == nil {
		return nil, errs.E(errs.InvalidArgument, "WEBHOOK_NO_LOGGER", "a webhook verifier needs a logger")
	}
	if cfg.Scheme.Extract == nil || cfg.Scheme.Message == nil {
		return nil, errs.E(errs.InvalidArgument, "WEBHOOK_NO_SCHEME", "a webhook verifier needs a signature scheme")
	}
	if len(cfg.Secrets) == 0 {
		return nil, errs.E(errs.InvalidArgument, "WEBHOOK_NO_SECRET", "a webhook verifier needs a signing secret")
	}
	for _, s := range cfg.Secrets {
		if len(s) < MinSecretBytes {
			return nil, errs.E(errs.InvalidArgument, "WEBHOOK_SECRET_TOO_SHORT", "a webhook signing secret has fewer than %d bytes", MinSecretBytes)
		}
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ReplayCacheSize <= 0 {
		cfg.ReplayCacheSize = DefaultReplayCacheSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ttl := cfg.Window
	if cfg.Scheme.Timestamped {
		ttl = 2 * cfg.Window
	}
	return &Verifier{cfg: cfg, ttl: ttl, replay: newReplayCache(cfg.ReplayCacheSize), logger: logger}, nil
}

// Refusal reasons, each an Unauthenticated *errs.Error from Check.
var (
	ErrSignatureMissing = errs.E(errs.Unauthenticated, "WEBHOOK_SIGNATURE_MISSING", "the webhook signature is missing or malformed")
	ErrSignatureInvalid = errs.E(errs.Unauthenticated, "WEBHOOK_SIGNATURE_INVALID", "the webhook signature does not match")
	ErrTimestamp        = errs.E(errs.Unauthenticated, "WEBHOOK_TIMESTAMP_OUT_OF_WINDOW", "the webhook timestamp is malformed or too far from now")
	ErrReplayed         = errs.E(errs.Unauthenticated, "WEBHOOK_REPLAYED", "the webhook was received before")
)

// Check verifies the signature on body and, for timestamped schemes, the
// timestamp. It does not consult the replay cache; Verify does. On success
// it returns the signed message's digest, the key Verify remembers.
func (v *Verifier) Check(h http.Header, body []byte) ([sha256.Size]byte, error) {
	ts, macs, ok := v.cfg.Scheme.Extract(h)
	if !ok {
		return [sha256.Size]byte{}, ErrSignatureMissing
	}
	msg := v.cfg.Scheme.Message(ts, body)
	if !v.signed(msg, macs) {
		return [sha256.Size]byte{}, ErrSignatureInvalid
	}
	if v.cfg.Scheme.Timestamped {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return [sha256.Size]byte{}, ErrTimestamp
		}
		// Compared in seconds, so that no timestamp overflows a Duration.
		now := v.cfg.Now().Unix()
		window := int64(v.cfg.Window / time.Second)
		if sec < now-window || sec > now+window {
			return [sha256.Size]byte{}, ErrTimestamp
		}
	}
	return sha256.Sum256(msg), nil
}

// signed reports whether any candidate MAC is msg's under any secret.
func (v *Verifier) signed(msg []byte, macs [][]byte) bool {
	for _, secret := range v.cfg.Secrets {
		m := hmac.New(sha256.New, secret)
		m.Write(msg)
		want := m.Sum(nil)
		for _, mac := range macs {
			if hmac.Equal(mac, want) {
				return true
			}
		}
	}
	return false
}

// Verify returns a handler that reads the raw body once, verifies it and
// passes the request on with the same bytes in r.Body. A refusal is 401
// (413 for a body over MaxBodyBytes, 503 while the replay cache is full)
// with the reason as its text, and nothing of the request echoed.
//
// A request whose handler answers 5xx (or panics) is forgotten by the
// replay cache, so that the provider's retry of it is accepted; until the
// handler returns, a concurrent copy is refused as a replay.
func (v *Verifier) Verify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, v.cfg.MaxBodyBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				v.refuse(r.Context(), w, http.StatusRequestEntityTooLarge, "WEBHOOK_BODY_TOO_LARGE")
			} else {
				v.refuse(r.Context(), w, http.StatusBadRequest, "WEBHOOK_BODY_UNREADABLE")
			}
			return
		}
		key, err := v.Check(r.Header, body)
		if err != nil {
			v.refuse(r.Context(), w, http.StatusUnauthorized, errs.ReasonOf(err))
			return
		}
		switch err := v.replay.reserve(key, v.cfg.Now(), v.ttl); {
		case errors.Is(err, errReplayCacheFull):
			v.refuse(r.Context(), w, http.StatusServiceUnavailable, "WEBHOOK_REPLAY_CACHE_FULL")
			return
		case err != nil:
			v.refuse(r.Context(), w, http.StatusUnauthorized, ErrReplayed.Reason)
			return
		}

		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rec := &statusRecorder{ResponseWriter: w}
		completed := false
		defer func() {
			if !completed || rec.status >= http.StatusInternalServerError {
				v.replay.release(key)
			}
		}()
		next.ServeHTTP(rec, r)
		completed = true
	})
}

func (v *Verifier) refuse(ctx context.Context, w http.ResponseWriter, code int, reason string) {
	v.logger.LogAttrs(ctx, slog.LevelWarn, "webhook refused", slog.String("reason", reason), slog.Int("status", code))
	http.Error(w, reason, code)
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
