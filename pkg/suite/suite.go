// Package suite is the one list of Sotto's services (services.yaml) and the
// state file of a running local suite (dev.json). Everything that needs to
// know which services exist (the launcher, the gateway, Vault setup, tests)
// reads it from here instead of keeping its own list.
package suite

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.yaml.in/yaml/v3"
)

//go:embed services.yaml
var manifestYAML []byte

// API is how a service is reached.
type API string

// APIs a service can offer.
const (
	GRPC API = "grpc" // mTLS gRPC, authorised per RPC by SPIFFE ID
	HTTP API = "http" // the REST edge for frontends
)

// Service is one entry of services.yaml.
type Service struct {
	Name  string   `yaml:"name"`
	API   API      `yaml:"api"`
	Calls []string `yaml:"calls"`
	REST  bool     `yaml:"rest"`
	// EndUsers: the service verifies end users' access tokens (ADR 0009),
	// so it gets identity's address; unlike calls, not a start-order edge
	// (identity calls it, and EndUsers dials lazily and fails closed until
	// identity's keys and revocation feed arrive).
	EndUsers bool `yaml:"end_users"`
	// Follows are services it dials that may start after it (they, or a
	// service they call, call it): it gets their addresses, without a
	// start-order edge, and fails closed for what needs them until it
	// reaches them (tokenvault follows consent's change feed).
	Follows []string `yaml:"follows"`
	// Privacy: the service holds personal data and serves the data-subject
	// request participant protocol (sotto.privacy.v1), which only the
	// orchestrator (PrivacyOrchestrator) calls: it must call or follow
	// every participant but itself.
	Privacy     bool              `yaml:"privacy"`
	TransitKeys map[string]string `yaml:"transit_keys"`
}

// PrivacyOrchestrator is the service that carries out data-subject requests
// by calling every privacy participant (ADR 0013).
const PrivacyOrchestrator = "consent"

// EnvPrefix is the prefix of the settings that name this service in another
// service's environment: SOTTO_<NAME>_ (dashes become underscores).
func (s Service) EnvPrefix() string { return EnvPrefix(s.Name) }

// EnvPrefix is SOTTO_<NAME>_ for a workload name.
func EnvPrefix(name string) string {
	return "SOTTO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_"
}

// Manifest is the parsed services.yaml.
type Manifest struct {
	Services []Service `yaml:"services"`
	Clients  []string  `yaml:"clients"`
}

// Load parses and checks the embedded services.yaml. It cannot fail for a
// tree whose tests pass; the error is for a broken edit.
func Load() (Manifest, error) { return Parse(manifestYAML) }

// MustLoad is Load for callers that have no way to continue without it.
func MustLoad() Manifest {
	m, err := Load()
	if err != nil {
		panic(err)
	}
	return m
}

var transitKeyTypes = map[string]bool{"aes256-gcm96": true, "ed25519": true}

// Parse reads a manifest strictly (unknown fields are errors) and checks
// that names are workload names, unique, and that calls name services.
func Parse(b []byte) (Manifest, error) {
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("services.yaml: %w", err)
	}
	seen := map[string]bool{}
	for _, s := range m.Services {
		if err := spiffeid.ValidatePathSegment(s.Name); err != nil || s.Name == "" {
			return Manifest{}, fmt.Errorf("services.yaml: %q is not a workload name", s.Name)
		}
		if seen[s.Name] {
			return Manifest{}, fmt.Errorf("services.yaml: %s listed twice", s.Name)
		}
		seen[s.Name] = true
		if s.API != GRPC && s.API != HTTP {
			return Manifest{}, fmt.Errorf("services.yaml: %s: api must be grpc or http", s.Name)
		}
		if s.REST && s.API != GRPC {
			return Manifest{}, fmt.Errorf("services.yaml: %s: only gRPC services have REST routes", s.Name)
		}
		for k, typ := range s.TransitKeys {
			if !transitKeyTypes[typ] {
				return Manifest{}, fmt.Errorf("services.yaml: %s: key %s has unsupported type %q", s.Name, k, typ)
			}
		}
	}
	for _, c := range m.Clients {
		if err := spiffeid.ValidatePathSegment(c); err != nil || seen[c] {
			return Manifest{}, fmt.Errorf("services.yaml: client %q is not a free workload name", c)
		}
	}
	for _, s := range m.Services {
		if s.EndUsers && (!seen["identity"] || s.Name == "identity") {
			return Manifest{}, fmt.Errorf("services.yaml: %s verifies end users, which needs another service named identity", s.Name)
		}
		for _, callee := range s.Calls {
			if !seen[callee] || callee == s.Name {
				return Manifest{}, fmt.Errorf("services.yaml: %s calls %q, which is not another service", s.Name, callee)
			}
		}
		for _, f := range s.Follows {
			if !seen[f] || f == s.Name || slices.Contains(s.Calls, f) {
				return Manifest{}, fmt.Errorf("services.yaml: %s follows %q, which is not another service it does not already call", s.Name, f)
			}
		}
	}
	if err := m.checkPrivacy(); err != nil {
		return Manifest{}, err
	}
	if _, err := m.StartOrder(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// checkPrivacy: a data-subject request must reach every participant, so the
// orchestrator must be able to dial each one.
func (m Manifest) checkPrivacy() error {
	participants := m.PrivacyParticipants()
	if len(participants) == 0 {
		return nil
	}
	orch, ok := m.Service(PrivacyOrchestrator)
	if !ok || !orch.Privacy {
		return fmt.Errorf("services.yaml: privacy participants need a service named %s that is one too", PrivacyOrchestrator)
	}
	for _, p := range participants {
		if p != orch.Name && !slices.Contains(orch.Calls, p) && !slices.Contains(orch.Follows, p) {
			return fmt.Errorf("services.yaml: %s is a privacy participant, so %s must call or follow it", p, orch.Name)
		}
	}
	return nil
}

// PrivacyParticipants lists the services that serve sotto.privacy.v1, in
// manifest order.
func (m Manifest) PrivacyParticipants() []string {
	var out []string
	for _, s := range m.Services {
		if s.Privacy {
			out = append(out, s.Name)
		}
	}
	return out
}

// Service returns the named service.
func (m Manifest) Service(name string) (Service, bool) {
	i := slices.IndexFunc(m.Services, func(s Service) bool { return s.Name == name })
	if i < 0 {
		return Service{}, false
	}
	return m.Services[i], true
}

// Names lists the services in manifest order.
func (m Manifest) Names() []string {
	out := make([]string, len(m.Services))
	for i, s := range m.Services {
		out[i] = s.Name
	}
	return out
}

// Workloads lists every workload name of the trust domain: services, then clients.
func (m Manifest) Workloads() []string { return append(m.Names(), m.Clients...) }

// StartOrder lists the services so that each comes after every service it
// calls (manifest order among equals). A cycle is an error.
func (m Manifest) StartOrder() ([]Service, error) {
	var out []Service
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var visit func(s Service) error
	visit = func(s Service) error {
		switch state[s.Name] {
		case 1:
			return fmt.Errorf("services.yaml: calls form a cycle through %s", s.Name)
		case 2:
			return nil
		}
		state[s.Name] = 1
		for _, c := range s.Calls {
			callee, _ := m.Service(c)
			if err := visit(callee); err != nil {
				return err
			}
		}
		state[s.Name] = 2
		out = append(out, s)
		return nil
	}
	for _, s := range m.Services {
		if err := visit(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Callers lists the services that call name (calls or follows).
func (m Manifest) Callers(name string) []string {
	var out []string
	for _, s := range m.Services {
		if slices.Contains(s.Calls, name) || slices.Contains(s.Follows, name) {
			out = append(out, s.Name)
		}
	}
	return out
}
