package gateway

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	codepb "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	apiv1 "github.com/sottohq/sotto/gen/go/sotto/api/v1"
	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/services/gateway/internal/clientaddr"
)

// sseRoute is WatchConversation as Server-Sent Events (the WHATWG HTML
// standard's text/event-stream), the gateway's own route: grpc-gateway
// maps a server stream to newline-delimited JSON, which a browser cannot
// resume. Each message is one event:
//
//	id: <message id>
//	event: message
//	data: <the WatchConversationResponse as JSON, one line>
//
// A client resumes with Last-Event-ID (the last id it saw), which becomes
// after_message_id; the query parameter view picks the message view. A
// comment line every heartbeat keeps proxies from closing a quiet stream.
// When the conversation is closed and its messages sent the stream ends
// with an "end" event (a client should not reconnect), and a failure after
// the stream began ends it with an "error" event holding the status and
// reason. Failures before it began (a bad token, a conversation the caller
// may not see) are ordinary JSON error answers.
//
// The access token comes from the Authorization header, as on every route
// (so the widget reads the stream with fetch, not EventSource, which cannot
// send it); the route's rule is chatReaders. Each subject may hold
// maxStreamsPerSubject streams at once, each client address (IPv6 by /64)
// maxStreamsPerAddress, so that anonymous visitors, who mint a subject per
// session, cannot take the gateway's maxStreams from one address (429
// TOO_MANY_STREAMS beyond any of them). A stream lasts at most its
// lifetime: then it ends without "end", and the client reconnects with
// Last-Event-ID, its token checked anew (an expired visitor token is then
// refused; the conversation service also ends a watch at its token's
// expiry).
const sseRoute = "GET /v1/conversations/{conversation_id}/events"

// Defaults of the event streams.
const (
	defaultSSEHeartbeat            = 15 * time.Second
	defaultMaxStreamsPerSubject    = 4
	defaultMaxStreamsPerAddress    = 16
	defaultMaxStreams              = 10_000
	defaultSSEMaxLifetime          = 30 * time.Minute
	sseRetryMillis                 = "3000"
	maxEventIDLen                  = 64
	sseRetryAfterWhenStreamsAreOut = "5"
)

var (
	conversationIDPattern = regexp.MustCompile(`^cnv_[0-9a-z]{26}$`)
	messageIDPattern      = regexp.MustCompile(`^msg_[0-9a-z]{26}$`)
)

// streamLimiter bounds the event streams: open per subject, per client
// address and in all, and how long each lasts.
type streamLimiter struct {
	perSubject, perAddress, total int
	lifetime                      time.Duration

	mu        sync.Mutex
	open      map[string]int
	byAddress map[netip.Prefix]int
	all       int
}

// newStreamLimiter takes opts' stream settings, defaults for those unset.
func newStreamLimiter(opts Options) *streamLimiter {
	return &streamLimiter{
		perSubject: cmp.Or(opts.MaxStreamsPerSubject, defaultMaxStreamsPerSubject),
		perAddress: cmp.Or(opts.MaxStreamsPerAddress, defaultMaxStreamsPerAddress),
		total:      defaultMaxStreams,
		lifetime:   cmp.Or(opts.SSEMaxLifetime, defaultSSEMaxLifetime),
		open:       map[string]int{}, byAddress: map[netip.Prefix]int{},
	}
}

// acquire takes a stream for subject from the client at addr; release
// gives it back. Requests whose address is unknown (none over TCP) share
// one count, strict rather than open.
func (l *streamLimiter) acquire(subject string, addr netip.Addr, hasAddr bool) (release func(), ok bool) {
	var source netip.Prefix
	if hasAddr {
		source = clientaddr.Source(addr)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[subject] >= l.perSubject || l.byAddress[source] >= l.perAddress || l.all >= l.total {
		return nil, false
	}
	l.open[subject]++
	l.byAddress[source]++
	l.all++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.all--
			if l.open[subject]--; l.open[subject] <= 0 {
				delete(l.open, subject)
			}
			if l.byAddress[source]--; l.byAddress[source] <= 0 {
				delete(l.byAddress, source)
			}
		})
	}, true
}

// sseJSON writes an event's data on one line (protojson's compact form
// never breaks lines) with the proto names, as the JSON routes do.
var sseJSON = protojson.MarshalOptions{UseProtoNames: true}

// messageViews are the view query parameter's values.
var messageViews = map[string]conversationv1.MessageView{
	"":                          conversationv1.MessageView_MESSAGE_VIEW_UNSPECIFIED,
	"MESSAGE_VIEW_PLACEHOLDERS": conversationv1.MessageView_MESSAGE_VIEW_PLACEHOLDERS,
	"MESSAGE_VIEW_REIDENTIFIED": conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED,
	"1":                         conversationv1.MessageView_MESSAGE_VIEW_PLACEHOLDERS,
	"2":                         conversationv1.MessageView_MESSAGE_VIEW_REIDENTIFIED,
}

// events serves sseRoute over client.
func (g *edge) events(client conversationv1.ConversationServiceClient, heartbeat time.Duration, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if ri := infoOf(r.Context()); ri != nil {
			ri.route = sseRoute
		}
		if r.Method != http.MethodGet {
			// The pattern matches HEAD too, which would hold a stream open
			// to send nothing.
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, http.StatusMethodNotAllowed, codes.Unimplemented, reasonMethodNotAllowed, "method not allowed")
			return
		}
		bad := func(msg string) {
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, reasonMalformedRequest, msg)
		}
		id := r.PathValue("conversation_id")
		if !conversationIDPattern.MatchString(id) {
			bad("conversation_id is not a conversation id")
			return
		}
		q := r.URL.Query()
		for k, vs := range q {
			if k != "view" || len(vs) != 1 {
				bad("the only query parameter is view, once")
				return
			}
		}
		view, ok := messageViews[q.Get("view")]
		if !ok {
			bad("view is not a message view")
			return
		}
		after := ""
		if vs := r.Header.Values("Last-Event-ID"); len(vs) > 0 {
			if len(vs) > 1 || len(vs[0]) > maxEventIDLen || !messageIDPattern.MatchString(vs[0]) {
				bad("Last-Event-ID is not a message id")
				return
			}
			after = vs[0]
		}
		r, ok = g.authorize(w, r, routeAccess[sseRoute])
		if !ok || !originBound(w, r, sseRoute) { // widget.go: a shop's page reads its shop's chats
			return
		}
		claims, _ := claimsOf(r.Context())
		addr, hasAddr := clientIPOf(r.Context())
		release, ok := g.streams.acquire(claims.Subject, addr, hasAddr)
		if !ok {
			w.Header().Set("Retry-After", sseRetryAfterWhenStreamsAreOut)
			writeError(w, http.StatusTooManyRequests, codes.ResourceExhausted, reasonTooManyStreams, "too many event streams open; close one first")
			return
		}
		defer release()

		// The call carries what a grpc-gateway route's would: the token
		// (verified above; the service verifies it again) and the edge's
		// metadata. The stream lives as long as the request, at most its
		// lifetime: a client that goes away cancels it.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		lifetime := time.NewTimer(g.streams.lifetime)
		defer lifetime.Stop()
		md := edgeMetadata(ctx, r)
		md.Set("authorization", r.Header.Get("Authorization"))
		ctx = metadata.NewOutgoingContext(ctx, md)

		// A server stream reports a refusal only on its first receive, which
		// for an open, quiet conversation waits for the next message. The
		// unary Get answers at once with the same checks (token, the
		// caller's own conversation), so refusals are JSON answers with
		// their HTTP status, before the event stream begins.
		if _, err := client.GetConversation(ctx, &conversationv1.GetConversationRequest{ConversationId: id}); err != nil {
			handleError(ctx, logger, w, r, err)
			return
		}
		stream, err := client.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: id, AfterMessageId: after, View: view})
		if err != nil {
			handleError(ctx, logger, w, r, err)
			return
		}
		rc := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		w.WriteHeader(http.StatusOK)
		write := func(s string) bool {
			if _, err := io.WriteString(w, s); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		if !write("retry: " + sseRetryMillis + "\n\n") {
			return
		}

		type received struct {
			resp *conversationv1.WatchConversationResponse
			err  error
		}
		next := make(chan received)
		go func() {
			for {
				resp, err := stream.Recv()
				select {
				case next <- received{resp, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
		tick := time.NewTicker(heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-lifetime.C:
				// No "end": the client reconnects with Last-Event-ID and
				// its token is checked again.
				write(": lifetime over, reconnect\n\n")
				return
			case <-tick.C:
				if !write(": keep-alive\n\n") {
					return
				}
			case got := <-next:
				if errors.Is(got.err, io.EOF) {
					write("event: end\ndata: {}\n\n")
					return
				}
				if got.err != nil {
					if ctx.Err() != nil {
						return
					}
					if st := status.Convert(got.err); st.Code() == codes.Unavailable && len(st.Details()) == 0 {
						// The service's side went away mid-stream: a
						// replica stopping, or its connection reaching
						// its maximum age (pkg/server), a transport cut
						// with no reason (a service's own Unavailable,
						// e.g. REVOCATIONS_STALE, is an error event). As at the
						// lifetime, the client reconnects with
						// Last-Event-ID; a service that is really down
						// answers that reconnect with a JSON 503.
						write(": upstream went away, reconnect\n\n")
						return
					}
					write("event: error\ndata: " + streamError(got.err) + "\n\n")
					return
				}
				data, err := sseJSON.Marshal(got.resp)
				if err != nil {
					logger.ErrorContext(ctx, "event not encoded", logging.Err(err))
					return
				}
				msgID := got.resp.GetMessage().GetMessageId()
				if !messageIDPattern.MatchString(msgID) {
					msgID = "" // never a line break or anything a client would resume from wrongly
				}
				if !write("id: " + msgID + "\nevent: message\ndata: " + string(data) + "\n\n") {
					return
				}
			}
		}
	})
}

// streamError is the data of an error event: the HTTP status, status and
// reason, as in the JSON error body, without the message (it may quote
// input); internal failures are INTERNAL.
func streamError(err error) string {
	st := status.Convert(err)
	code, reason := st.Code(), ""
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.GetReason()
		}
	}
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		code, reason = codes.Internal, reasonInternal
	case codes.Unavailable:
		if reason == "" {
			reason = reasonUnavailable
		}
	}
	b, _ := errorJSON.Marshal(&apiv1.ErrorResponse{Error: &apiv1.ErrorBody{
		Code: int32(runtime.HTTPStatusFromCode(code)), Status: codepb.Code(code).String(), Reason: reason,
	}})
	return string(b)
}
