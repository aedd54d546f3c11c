// Package tokenvault holds the service's embedded defaults.
package tokenvault

import _ "embed"

// DefaultPolicy is policy.yaml, the detokenize policy used unless
// SOTTO_TOKENVAULT_POLICY_FILE names another.
//
//go:embed policy.yaml
var DefaultPolicy []byte
