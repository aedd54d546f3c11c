package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sottohq/sotto/pkg/mtls"
)

// StateFile is the name of the file `sotto dev up` writes in its state
// directory while the suite runs.
const StateFile = "dev.json"

// Endpoints are where one service of a running suite listens.
type Endpoints struct {
	// GRPC is the mTLS gRPC address (host:port) of a gRPC service; for the
	// gateway, its gRPC edge for integrators (TLS, client tokens).
	GRPC string `json:"grpc,omitempty"`
	// HTTP is the base URL of an HTTP service (the gateway).
	HTTP string `json:"http,omitempty"`
	// Admin is the plain-HTTP admin address (/metrics, /healthz, /readyz).
	Admin string `json:"admin"`
}

// State is what `sotto dev up` writes to <state>/dev.json so that other
// commands and tests can find the running suite. The CLI and test/devsuite
// both read this type; there is no second schema.
type State struct {
	TrustDomain string               `json:"trust_domain"`
	Services    map[string]Endpoints `json:"services"`
	// GatewayURL is the REST edge's base URL (the gateway's HTTP endpoint).
	GatewayURL string `json:"gateway_url"`
	// Admin is the first administrator `sotto dev up` created (empty when
	// the state directory already had one). A development convenience for
	// tests and the person at the terminal: the password is generated, and
	// nothing opens to it alone (operator routes need a second factor).
	Admin Admin `json:"admin,omitzero"`
	// CLI is the operator CLI's workload certificate (spiffe://.../sotto-cli).
	CLI mtls.Files `json:"cli_identity"`
	// AuditVerifierKeys are the note verifier keys of the audit log's
	// checkpoint key, every version, read from the key store (not from the
	// audit service) when the suite started.
	AuditVerifierKeys []string `json:"audit_verifier_keys"`
	// ConsentReceiptKeys are the public keys of the consent service's
	// receipt key, every version, as "<kid>=<base64url Ed25519 key>"
	// (pkg/consentclient's ParseReceiptKey), read from the key store (not
	// from the consent service) when the suite started; `sotto consent
	// verify-receipt` pins them.
	ConsentReceiptKeys []string `json:"consent_receipt_keys,omitempty"`
}

// Admin is a staff account's login.
type Admin struct {
	Email           string `json:"email"`
	InitialPassword string `json:"initial_password"`
}

// Addr is the gRPC address of the named service, or an error naming it.
func (s State) Addr(name string) (string, error) {
	e, ok := s.Services[name]
	if !ok || e.GRPC == "" {
		return "", fmt.Errorf("the running suite has no gRPC service %q", name)
	}
	return e.GRPC, nil
}

// WriteState writes dir/dev.json atomically, readable by its owner only (it
// holds the operator token).
func WriteState(dir string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	// CreateTemp makes a new file, mode 0600, whatever may already lie
	// around (os.WriteFile would keep an existing file's wider mode).
	f, err := os.CreateTemp(dir, StateFile+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, StateFile))
}

// ReadState reads dir/dev.json.
func ReadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("no running dev suite found in %s (start one with `sotto dev up`)", dir)
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	return s, nil
}
