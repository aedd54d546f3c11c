package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/sottohq/sotto/pkg/logging"
)

// jwksHandler serves identity's JSON Web Key Set at
// /.well-known/jwks.json for clients that verify access tokens themselves.
// It keeps the set for the max age identity gives, so a flood of fetches
// costs identity one call per period.
func jwksHandler(logger *slog.Logger, fetch func(context.Context) ([]byte, time.Duration, error)) http.Handler {
	var (
		mu      sync.Mutex
		body    []byte
		expires time.Time
		maxAge  time.Duration
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if body == nil || time.Now().After(expires) {
			b, age, err := fetch(r.Context())
			if err != nil && body == nil {
				logger.WarnContext(r.Context(), "jwks not available", logging.Err(err))
				writeError(w, http.StatusServiceUnavailable, codes.Unavailable, reasonUnavailable, "the key set is not available; retry later")
				return
			}
			if err == nil {
				body, maxAge, expires = b, age, time.Now().Add(age)
			}
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge.Seconds())))
		w.Write(body)
	})
}
