// Package consent is Sotto's consent service: the purpose catalogue,
// versioned notices, consent records with signed receipts, Check with a
// change feed, and Global Privacy Control opt-outs.
//
// The service's code lives under internal/; cmd/consent is its main. This
// package holds the embedded defaults.
package consent

import _ "embed"

// DefaultCatalogue is catalogue.yaml, the purposes and notices the service
// applies at start (see the file's header for how versions apply).
//
//go:embed catalogue.yaml
var DefaultCatalogue []byte
