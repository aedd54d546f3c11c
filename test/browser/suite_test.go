package browser

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sottohq/sotto/test/devsuite"
)

// shopPage is a shop's web page, on another site than the gateway
// (localhost against the gateway's 127.0.0.1), that embeds the widget with
// the one script tag shops are told to use.
type shopPage struct {
	URL    string // e.g. http://localhost:40123
	Origin string
	srv    *http.Server
}

// startShop listens first, so that the suite can be told the shop's origin.
func startShop(t *testing.T) *shopPage {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := lis.Addr().(*net.TCPAddr).Port
	s := &shopPage{Origin: fmt.Sprintf("http://localhost:%d", port)}
	s.URL = s.Origin
	s.srv = &http.Server{Handler: http.NotFoundHandler()}
	go s.srv.Serve(lis)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// serve sets the shop's page: the widget loader from gatewayURL with the
// given data attributes.
func (s *shopPage) serve(gatewayURL string, attrs map[string]string) {
	var a strings.Builder
	for k, v := range attrs {
		fmt.Fprintf(&a, ` data-%s="%s"`, k, v)
	}
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A shop</title></head>
<body><h1>A shop</h1><p>Our products.</p>
<script src="` + gatewayURL + `/widget/embed.js"` + a.String() + `></script></body></html>`
	s.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	})
}

// startSuite runs the real binaries with the shop's origin allowed for the
// widget.
func startSuite(t *testing.T, shop *shopPage) *devsuite.Suite {
	t.Helper()
	bin := devsuite.BinDir(t)
	ChromiumPath(t) // skip (or fail in CI) before starting the suite
	return devsuite.Start(t, bin, t.TempDir(), "SOTTO_GATEWAY_WIDGET_ORIGINS="+shop.Origin)
}
