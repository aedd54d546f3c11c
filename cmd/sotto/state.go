package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sottohq/sotto/pkg/mtls"
)

// devState is what `sotto dev up` writes to <state>/dev.json so that other
// commands (and tests) can find the running suite.
type devState struct {
	TrustDomain string `json:"trust_domain"`
	AuditAddr   string `json:"audit_addr"`
	// TokenvaultAddr is tokenvault's gRPC address.
	TokenvaultAddr string     `json:"tokenvault_addr"`
	GatewayURL     string     `json:"gateway_url"`
	AdminToken     string     `json:"admin_token"`
	CLI            mtls.Files `json:"cli_identity"`
	// AuditVerifierKeys are the note verifier keys of the audit log's
	// checkpoint key, every version, read from the key store (not from the
	// audit service) when the suite started.
	AuditVerifierKeys []string `json:"audit_verifier_keys"`
}

func writeState(dir string, s devState) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "dev.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "dev.json"))
}

func readState(dir string) (devState, error) {
	var s devState
	b, err := os.ReadFile(filepath.Join(dir, "dev.json"))
	if err != nil {
		return s, fmt.Errorf("no running dev suite found in %s (start one with `sotto dev up`): %w", dir, err)
	}
	return s, json.Unmarshal(b, &s)
}
