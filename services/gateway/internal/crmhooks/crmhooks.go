// Package crmhooks is the gateway's ingress for CRM webhooks: edits a
// shop's staff make in its HubSpot portal or Salesforce org, to the
// properties crmsync sends, which crmsync turns into rectifications of the
// customer's tokenised values (ADR 0015, "Inbound").
//
//	POST /v1/crm/hubspot/{tenant}/webhook      HubSpot webhooks v3
//	POST /v1/crm/salesforce/{tenant}/webhook   Salesforce change events, signed by the shop's trigger
//
// Each request is read to at most MaxBodyBytes and its signature checked
// on the raw bytes, in constant time, before anything parses it; a signed
// timestamp more than five minutes from now is refused. The shop comes
// from the route, and each event must be for the shop's own portal or org
// (one HubSpot app serves many portals with one client secret). Verified
// changes go to crmsync's IngestCrmChanges over the gateway's mTLS
// connection; crmsync records each by the CRM's event id, so a CRM's retry
// or a captured request sent again within the window changes nothing twice.
//
// Values, record ids and event ids go to crmsync and nowhere else: logs
// carry the route pattern, status, counts and reasons.
package crmhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/secrets"
	"github.com/sottohq/sotto/pkg/webhook"
	"github.com/sottohq/sotto/services/gateway/internal/channels"
)

// PathPrefix is where the CRM endpoints live; Mount sends requests under it
// here.
const PathPrefix = "/v1/crm/"

// routePattern names the endpoint in logs (never the URL, which holds the
// shop).
const routePattern = "/v1/crm/{crm}/{tenant}/webhook"

// CRMs' path segments (crmsync's connector names).
const (
	HubSpot    = "hubspot"
	Salesforce = "salesforce"
)

// Keys of the shops' webhook secrets at sotto/channels/<tenant>/<crm>: the
// gateway's, next to the messaging platforms' (the CRMs' API credentials
// are crmsync's, at sotto/crm/, which the gateway cannot read).
const (
	// HubSpot: the app's client secret (the v3 signature's key) and the
	// shop's portal (Hub ID).
	KeyClientSecret         = "client_secret"
	KeyClientSecretPrevious = "client_secret_previous"
	KeyPortalID             = "portal_id"
	// Salesforce: the secret the shop's change-event trigger signs with
	// and the org's id.
	KeySigningSecret         = "signing_secret"
	KeySigningSecretPrevious = "signing_secret_previous"
	KeyOrgID                 = "org_id"
)

// Defaults of Options' zero fields.
const (
	DefaultMaxBodyBytes  = 1 << 20
	DefaultWindow        = 5 * time.Minute
	DefaultIngestTimeout = 10 * time.Second
)

// Options are the Handler's dependencies and limits.
type Options struct {
	// Secrets holds each shop's webhook secrets (a secrets.Cache).
	Secrets secrets.Store
	// CRMSync is the crmsync service over the gateway's mTLS connection.
	CRMSync crmsyncv1.CrmSyncServiceClient
	Logger  *slog.Logger
	// PublicOrigin is the scheme and host the CRM calls
	// (https://api.example.com, with the path prefix an ingress strips, if
	// any), part of what HubSpot signs (SOTTO_GATEWAY_PUBLIC_ORIGIN).
	// Empty: https and the request's Host, which a proxy in front must keep.
	PublicOrigin string
	// RatePerMinute and Burst limit the requests per client address
	// (channels.DefaultRatePerMinute, DefaultBurst; the gateway passes the
	// channels' settings): 429 with Retry-After beyond, before the shop's
	// secrets are looked up or the body is read.
	RatePerMinute, Burst int
	// TrustedProxies are the load balancers whose X-Forwarded-For names
	// the client (SOTTO_GATEWAY_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// MaxBodyBytes bounds a request (DefaultMaxBodyBytes): 413 beyond.
	MaxBodyBytes int64
	// Window is how old (or how far ahead) a signed timestamp may be
	// (DefaultWindow: HubSpot's five minutes).
	Window time.Duration
	// IngestTimeout bounds the hand-over to crmsync (DefaultIngestTimeout).
	IngestTimeout time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Handler serves the CRM endpoints.
type Handler struct {
	opts    Options
	mux     *http.ServeMux
	limiter *channels.AddressLimiter
}

// New builds the handler.
func New(o Options) (*Handler, error) {
	if o.Secrets == nil || o.CRMSync == nil || o.Logger == nil {
		return nil, errors.New("crmhooks: secrets, the crmsync service and a logger are required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.IngestTimeout <= 0 {
		o.IngestTimeout = DefaultIngestTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = channels.DefaultRatePerMinute
	}
	if o.Burst <= 0 {
		o.Burst = channels.DefaultBurst
	}
	o.Logger = o.Logger.With(slog.String("component", "crmhooks"), slog.String("path", routePattern))
	h := &Handler{opts: o, mux: http.NewServeMux(),
		limiter: channels.NewAddressLimiter(o.RatePerMinute, o.Burst, o.TrustedProxies, o.Now)}
	h.mux.HandleFunc("POST "+routePattern, h.deliver)
	return h, nil
}

// ServeHTTP serves requests under PathPrefix; anything else is 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// These routes are mounted in front of the REST handler and its edge
	// limits: each request may cost a secrets read, 1 MiB read and two
	// MACs, so a source is limited before any of it.
	if ok, wait := h.limiter.Allow(r); !ok {
		w.Header().Set("Retry-After", channels.RetryAfter(wait))
		h.answer(r.Context(), w, http.StatusTooManyRequests, "RATE_LIMITED", slog.LevelInfo)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Mount returns a handler that serves the CRM endpoints and passes every
// other request to next unchanged.
func (h *Handler) Mount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, PathPrefix) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

var tenantPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// shop is one shop's account in one CRM, from its secrets.
type shop struct {
	crm, tenant string
	secrets     [][]byte
	account     string // portal id or org id the events must be for
}

// lookup finds the shop for the request, or answers it: an unknown CRM, a
// malformed or unknown shop and incomplete secrets are one 404, so shops
// cannot be probed for which is which; unreadable secrets are 503 (the CRM
// retries).
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request) (shop, bool) {
	crm, tenant := r.PathValue("crm"), r.PathValue("tenant")
	keys := map[string][3]string{HubSpot: {KeyClientSecret, KeyClientSecretPrevious, KeyPortalID},
		Salesforce: {KeySigningSecret, KeySigningSecretPrevious, KeyOrgID}}
	k, ok := keys[crm]
	if !ok || !tenantPattern.MatchString(tenant) {
		h.answer(r.Context(), w, http.StatusNotFound, "CRM_HOOK_NOT_FOUND", slog.LevelInfo)
		return shop{}, false
	}
	s, err := h.opts.Secrets.Get(r.Context(), secrets.ChannelPath(tenant, crm))
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		h.answer(r.Context(), w, http.StatusNotFound, "CRM_HOOK_NOT_FOUND", slog.LevelInfo)
		return shop{}, false
	case err != nil:
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "crm webhook secrets unreadable", logging.Err(err))
		h.answer(r.Context(), w, http.StatusServiceUnavailable, "CRM_HOOK_SECRETS_UNAVAILABLE", slog.LevelInfo)
		return shop{}, false
	}
	sh := shop{crm: crm, tenant: tenant, account: s[k[2]]}
	for _, key := range k[:2] {
		if v := s[key]; len(v) >= webhook.MinSecretBytes {
			sh.secrets = append(sh.secrets, []byte(v))
		}
	}
	if len(s[k[0]]) < webhook.MinSecretBytes || sh.account == "" {
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "crm webhook secrets incomplete",
			slog.String("reason", "CRM_HOOK_SECRETS_INCOMPLETE"))
		h.answer(r.Context(), w, http.StatusNotFound, "CRM_HOOK_NOT_FOUND", slog.LevelInfo)
		return shop{}, false
	}
	return sh, true
}

// deliver takes one request: read within the limit, signature and time
// checked on the raw bytes, then parsed and handed to crmsync.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request) {
	sh, ok := h.lookup(w, r)
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
	var changes []*crmsyncv1.CrmChange
	var foreign int
	switch sh.crm {
	case HubSpot:
		if err := h.verifyHubSpot(r, body, sh.secrets); err != nil {
			h.answer(r.Context(), w, http.StatusUnauthorized, errs.ReasonOf(err), slog.LevelWarn)
			return
		}
		changes, foreign, err = parseHubSpot(body, sh.account)
	case Salesforce:
		v, verr := webhook.New(webhook.Config{Scheme: SalesforceScheme, Secrets: sh.secrets, Window: h.opts.Window, Now: h.opts.Now},
			h.opts.Logger)
		if verr != nil {
			h.answer(r.Context(), w, http.StatusServiceUnavailable, "CRM_HOOK_SECRETS_UNAVAILABLE", slog.LevelInfo)
			return
		}
		if _, err := v.Check(r.Header, body); err != nil {
			h.answer(r.Context(), w, http.StatusUnauthorized, errs.ReasonOf(err), slog.LevelWarn)
			return
		}
		changes, foreign, err = parseSalesforce(body, sh.account)
	}
	if err != nil {
		h.answer(r.Context(), w, http.StatusBadRequest, "WEBHOOK_PAYLOAD_INVALID", slog.LevelWarn)
		return
	}
	if foreign > 0 {
		// Signed with the app's secret, but for another portal or org than
		// this shop's: it must not become this shop's customer's change.
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "crm events for another account skipped",
			slog.String("reason", "WEBHOOK_FOREIGN_ACCOUNT"), slog.Int("count", foreign))
	}
	code, reason := h.forward(r.Context(), sh, changes)
	if code != http.StatusOK {
		h.answer(r.Context(), w, code, reason, slog.LevelWarn)
		return
	}
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "crm webhook delivered", slog.String("crm", sh.crm),
		slog.Int("status", code), slog.Int("count", len(changes)))
	w.WriteHeader(code)
}

// forward hands the changes to crmsync, at most 100 a call (HubSpot's
// batch), and says what to answer: 500 when any change could not be taken
// now (the CRM retries the request; what was taken is a duplicate then).
func (h *Handler) forward(ctx context.Context, sh shop, changes []*crmsyncv1.CrmChange) (int, string) {
	// Changes already received are handed over even if the CRM hangs up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.IngestTimeout)
	defer cancel()
	counts := map[crmsyncv1.ChangeOutcome]int{}
	for len(changes) > 0 {
		n := min(len(changes), 100)
		resp, err := h.opts.CRMSync.IngestCrmChanges(ctx, &crmsyncv1.IngestCrmChangesRequest{Tenant: sh.tenant, Connector: sh.crm,
			Changes: changes[:n]})
		changes = changes[n:]
		switch status.Code(err) {
		case codes.OK:
		case codes.InvalidArgument:
			// The CRM sent something crmsync will never take (a property
			// name out of shape): a retry would be refused too.
			h.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "crm changes refused by crmsync", slog.String("reason", reasonOf(err)))
			continue
		default:
			// Not the status message: it may quote what was refused.
			h.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "crm changes not handed over", slog.String("code", status.Code(err).String()),
				slog.String("reason", reasonOf(err)))
			return http.StatusInternalServerError, "CRM_CHANGES_NOT_TAKEN"
		}
		for _, r := range resp.GetResults() {
			counts[r.GetOutcome()]++
		}
	}
	if counts[crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_REFUSED] > 0 {
		h.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "crm changes refused", slog.Int("count", counts[crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_REFUSED]))
	}
	if counts[crmsyncv1.ChangeOutcome_CHANGE_OUTCOME_FAILED] > 0 {
		return http.StatusInternalServerError, "CRM_CHANGES_NOT_TAKEN"
	}
	return http.StatusOK, ""
}

// reasonOf is a status's ErrorInfo reason (a constant of the service's).
func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return "UNKNOWN"
}

// answer writes a refusal: the reason as text, nothing of the request.
func (h *Handler) answer(ctx context.Context, w http.ResponseWriter, code int, reason string, level slog.Level) {
	h.opts.Logger.LogAttrs(ctx, level, "crm webhook refused", slog.Int("status", code), slog.String("reason", reason))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, reason+"\n")
}

// Refusal reasons of HubSpot's signature (pkg/webhook's, for one set of
// reasons across the edge).
var (
	errSignatureMissing = webhook.ErrSignatureMissing
	errSignatureInvalid = webhook.ErrSignatureInvalid
	errTimestamp        = webhook.ErrTimestamp
)

// hubspotURIDecoder undoes the percent-encodings HubSpot decodes before
// signing the URI.
var hubspotURIDecoder = strings.NewReplacer("%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";")

// verifyHubSpot checks HubSpot's v3 signature: X-HubSpot-Signature-v3 is
// base64(HMAC-SHA256(client secret, method + URI + body + timestamp)),
// X-HubSpot-Request-Timestamp in milliseconds and within the window.
func (h *Handler) verifyHubSpot(r *http.Request, body []byte, secrets [][]byte) error {
	sigs, tss := r.Header.Values("X-HubSpot-Signature-v3"), r.Header.Values("X-HubSpot-Request-Timestamp")
	if len(sigs) != 1 || len(tss) != 1 {
		return errSignatureMissing
	}
	got, err := base64.StdEncoding.DecodeString(sigs[0])
	if err != nil || len(got) != sha256.Size {
		return errSignatureMissing
	}
	origin := h.opts.PublicOrigin
	if origin == "" {
		origin = "https://" + r.Host
	}
	uri := hubspotURIDecoder.Replace(origin + r.URL.RequestURI())
	ok := false
	for _, s := range secrets {
		mac := hmac.New(sha256.New, s)
		mac.Write([]byte(r.Method + uri))
		mac.Write(body)
		mac.Write([]byte(tss[0]))
		ok = hmac.Equal(got, mac.Sum(nil)) || ok
	}
	if !ok {
		return errSignatureInvalid
	}
	ms, err := strconv.ParseInt(tss[0], 10, 64)
	if err != nil {
		return errTimestamp
	}
	now, window := h.opts.Now().UnixMilli(), h.opts.Window.Milliseconds()
	if ms < now-window || ms > now+window {
		return errTimestamp
	}
	return nil
}

// hubspotEvent is the part of a webhooks v3 event crmsync needs.
type hubspotEvent struct {
	EventID          json.Number `json:"eventId"`
	PortalID         json.Number `json:"portalId"`
	OccurredAt       int64       `json:"occurredAt"`
	SubscriptionType string      `json:"subscriptionType"`
	ObjectID         json.Number `json:"objectId"`
	PropertyName     string      `json:"propertyName"`
	PropertyValue    *string     `json:"propertyValue"`
}

// parseHubSpot reads a delivery (a JSON array of events): the contacts'
// property changes for portal become changes; other subscription types are
// skipped; events for another portal are counted as foreign.
func parseHubSpot(body []byte, portal string) ([]*crmsyncv1.CrmChange, int, error) {
	var evs []hubspotEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&evs); err != nil {
		return nil, 0, err
	}
	if len(evs) > 1000 {
		return nil, 0, errors.New("crmhooks: more events than HubSpot sends")
	}
	var out []*crmsyncv1.CrmChange
	foreign := 0
	for _, e := range evs {
		if e.SubscriptionType != "contact.propertyChange" || e.PropertyName == "" || e.PropertyValue == nil {
			continue
		}
		if e.PortalID.String() != portal {
			foreign++
			continue
		}
		if e.EventID == "" || e.ObjectID == "" || e.OccurredAt <= 0 {
			return nil, 0, errors.New("crmhooks: an event without its ids or time")
		}
		out = append(out, &crmsyncv1.CrmChange{EventId: e.EventID.String(), RecordId: e.ObjectID.String(),
			Property: e.PropertyName, Value: *e.PropertyValue, OccurTime: timestamppb.New(time.UnixMilli(e.OccurredAt))})
	}
	return out, foreign, nil
}

// SalesforceScheme is the signature of the shop's change-event trigger:
// "X-Sotto-Signature: t=<unix seconds>,v1=<hex>" over "<t>.<body>"
// (Stripe's shape; several v1 values while the secret is rotated).
var SalesforceScheme = webhook.Scheme{
	Extract: func(hd http.Header) (string, [][]byte, bool) {
		vals := hd.Values("X-Sotto-Signature")
		if len(vals) != 1 {
			return "", nil, false
		}
		var ts string
		var macs [][]byte
		for part := range strings.SplitSeq(vals[0], ",") {
			k, v, found := strings.Cut(strings.TrimSpace(part), "=")
			if !found {
				return "", nil, false
			}
			switch k {
			case "t":
				if ts != "" {
					return "", nil, false
				}
				ts = v
			case "v1":
				mac, err := hex.DecodeString(v)
				if err != nil {
					return "", nil, false
				}
				macs = append(macs, mac)
			}
		}
		return ts, macs, ts != "" && len(macs) > 0
	},
	Message:     func(ts string, body []byte) []byte { return append([]byte(ts+"."), body...) },
	Timestamped: true,
}

type salesforceDelivery struct {
	OrganizationID string `json:"organizationId"`
	Changes        []struct {
		Header struct {
			EntityName      string   `json:"entityName"`
			RecordIDs       []string `json:"recordIds"`
			ChangeType      string   `json:"changeType"`
			TransactionKey  string   `json:"transactionKey"`
			SequenceNumber  int      `json:"sequenceNumber"`
			CommitTimestamp int64    `json:"commitTimestamp"`
			ChangedFields   []string `json:"changedFields"`
		} `json:"ChangeEventHeader"`
		ExternalID string            `json:"externalId"`
		Fields     map[string]string `json:"fields"`
	} `json:"changes"`
}

// parseSalesforce reads the trigger's delivery: each changed field of an
// update of a record with an external id becomes a change, its event id
// the transaction key, sequence number and field (one CDC event changes
// several fields). A delivery from another org is all foreign.
func parseSalesforce(body []byte, org string) ([]*crmsyncv1.CrmChange, int, error) {
	var d salesforceDelivery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, 0, err
	}
	if len(d.Changes) > 1000 {
		return nil, 0, errors.New("crmhooks: more changes than a trigger sends")
	}
	if d.OrganizationID != org {
		return nil, len(d.Changes), nil
	}
	var out []*crmsyncv1.CrmChange
	for _, c := range d.Changes {
		hd := c.Header
		if (hd.ChangeType != "UPDATE" && hd.ChangeType != "CREATE") || c.ExternalID == "" {
			continue
		}
		if hd.TransactionKey == "" || hd.CommitTimestamp <= 0 {
			return nil, 0, errors.New("crmhooks: a change without its transaction or time")
		}
		record := ""
		if len(hd.RecordIDs) == 1 {
			record = hd.RecordIDs[0]
		}
		for _, f := range hd.ChangedFields {
			v, ok := c.Fields[f]
			if !ok {
				continue
			}
			out = append(out, &crmsyncv1.CrmChange{EventId: hd.TransactionKey + ":" + strconv.Itoa(hd.SequenceNumber) + ":" + f,
				RecordId: record, Subject: c.ExternalID, Property: f, Value: v, OccurTime: timestamppb.New(time.UnixMilli(hd.CommitTimestamp))})
		}
	}
	return out, 0, nil
}
