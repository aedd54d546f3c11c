package webhook

import (
	"encoding/hex"
	"net/http"
	"strings"
)

// Scheme says how a provider signs a webhook: where the signature and any
// timestamp are, and which bytes the HMAC-SHA256 covers. MetaSHA256,
// StripeV1 and SlackV0 cover the usual shapes; a new provider is a new
// Scheme value.
type Scheme struct {
	// Extract reads the signed timestamp ("" when the scheme has none) and
	// the candidate MACs from the request's headers. ok is false when the
	// signature is missing or malformed. A candidate of the wrong length is
	// returned as is; it will not match.
	Extract func(h http.Header) (timestamp string, macs [][]byte, ok bool)
	// Message returns the bytes the MAC covers.
	Message func(timestamp string, body []byte) []byte
	// Timestamped schemes carry a timestamp, in Unix seconds, that must be
	// within Config.Window of now.
	Timestamped bool
}

// MetaSHA256 is Meta's scheme (WhatsApp Cloud API, Messenger, Instagram),
// which GitHub's X-Hub-Signature-256 shares: "sha256=<hex>" of the raw body,
// keyed with the app secret. It has no timestamp, so only the replay cache
// bounds replays; see Config.Window.
var MetaSHA256 = Scheme{
	Extract: prefixed("X-Hub-Signature-256", "sha256=", ""),
	Message: func(_ string, body []byte) []byte { return body },
}

// StripeV1 is Stripe's scheme: "Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]"
// over "<t>.<body>". Several v1 values appear while a secret is rolled;
// other keys (v0, test-mode signatures) are ignored.
var StripeV1 = Scheme{
	Extract: func(h http.Header) (string, [][]byte, bool) {
		v := h.Get("Stripe-Signature")
		var ts string
		var macs [][]byte
		for part := range strings.SplitSeq(v, ",") {
			k, val, found := strings.Cut(strings.TrimSpace(part), "=")
			if !found {
				return "", nil, false
			}
			switch k {
			case "t":
				if ts != "" {
					return "", nil, false
				}
				ts = val
			case "v1":
				mac, err := hex.DecodeString(val)
				if err != nil {
					return "", nil, false
				}
				macs = append(macs, mac)
			}
		}
		return ts, macs, ts != "" && len(macs) > 0
	},
	Message: func(ts string, body []byte) []byte {
		return append([]byte(ts+"."), body...)
	},
	Timestamped: true,
}

// SlackV0 is Slack's scheme: "X-Slack-Signature: v0=<hex>" over
// "v0:<ts>:<body>", with ts in X-Slack-Request-Timestamp.
var SlackV0 = Scheme{
	Extract: prefixed("X-Slack-Signature", "v0=", "X-Slack-Request-Timestamp"),
	Message: func(ts string, body []byte) []byte {
		return append([]byte("v0:"+ts+":"), body...)
	},
	Timestamped: true,
}

// prefixed extracts one "<prefix><hex>" signature from header, and the
// timestamp from tsHeader if there is one.
func prefixed(header, prefix, tsHeader string) func(http.Header) (string, [][]byte, bool) {
	return func(h http.Header) (string, [][]byte, bool) {
		vals := h.Values(header)
		if len(vals) != 1 {
			return "", nil, false
		}
		hexMAC, found := strings.CutPrefix(vals[0], prefix)
		if !found {
			return "", nil, false
		}
		mac, err := hex.DecodeString(hexMAC)
		if err != nil {
			return "", nil, false
		}
		var ts string
		if tsHeader != "" {
			if ts = h.Get(tsHeader); ts == "" {
				return "", nil, false
			}
		}
		return ts, [][]byte{mac}, true
	}
}
