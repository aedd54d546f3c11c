// Package retention reads how long conversations are kept (retention.yaml,
// or an operator's file of the same form): a period per channel, overrides
// per shop, and the longer period of conversations kept for model
// improvement with the customer's consent.
package retention

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed retention.yaml
var defaultFile []byte

// Channels by the name the file uses, as sotto.conversation.v1's
// ChatChannel numbers.
var Channels = map[string]int32{"web": 1, "whatsapp": 2, "messenger": 3, "api": 4}

// MaxDays bounds every period (ten years).
const MaxDays = 3650

var tenantRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Day is the unit of every period.
const Day = 24 * time.Hour

// Rule is one period: conversations of Channel in Tenant ("" for every shop
// without an override of that channel) idle longer than Days are deleted.
type Rule struct {
	Tenant  string
	Channel int32
	Days    int
}

// Policy is the parsed file.
type Policy struct {
	defaults map[int32]int
	tenants  map[string]map[int32]int
	// ModelImprovementDays is how long a conversation whose customer
	// consents to model improvement is kept; 0 keeps none longer.
	ModelImprovementDays int
}

// Load reads path, or the embedded retention.yaml when path is "".
func Load(path string) (Policy, error) {
	if path == "" {
		return Parse(defaultFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("retention: %w", err)
	}
	return Parse(b)
}

type fileYAML struct {
	Version              int                       `yaml:"version"`
	DefaultDays          map[string]int            `yaml:"default_days"`
	ModelImprovementDays int                       `yaml:"model_improvement_days"`
	Tenants              map[string]map[string]int `yaml:"tenants"`
}

// Parse parses a retention file. Every channel needs a default; periods are
// 1..MaxDays days (model_improvement_days 0..MaxDays).
func Parse(data []byte) (Policy, error) {
	bad := func(format string, args ...any) (Policy, error) {
		return Policy{}, fmt.Errorf("retention: "+format, args...)
	}
	var y fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		return bad("not a retention file: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return bad("more than one YAML document")
	}
	if y.Version != 1 {
		return bad("version must be 1")
	}
	channels := func(where string, m map[string]int) (map[int32]int, error) {
		out := map[int32]int{}
		for name, days := range m {
			ch, ok := Channels[name]
			if !ok {
				return nil, fmt.Errorf("retention: %s: unknown channel %q", where, name)
			}
			if days < 1 || days > MaxDays {
				return nil, fmt.Errorf("retention: %s: %s must be 1 to %d days", where, name, MaxDays)
			}
			out[ch] = days
		}
		return out, nil
	}
	p := Policy{tenants: map[string]map[int32]int{}, ModelImprovementDays: y.ModelImprovementDays}
	var err error
	if p.defaults, err = channels("default_days", y.DefaultDays); err != nil {
		return Policy{}, err
	}
	for name, ch := range Channels {
		if _, ok := p.defaults[ch]; !ok {
			return bad("default_days: %s has no period", name)
		}
	}
	if y.ModelImprovementDays < 0 || y.ModelImprovementDays > MaxDays {
		return bad("model_improvement_days must be 0 to %d", MaxDays)
	}
	for t, m := range y.Tenants {
		if !tenantRE.MatchString(t) {
			return bad("tenants: %q is not a shop id", t)
		}
		if p.tenants[t], err = channels("tenants."+t, m); err != nil {
			return Policy{}, err
		}
	}
	return p, nil
}

// Days is the period of a shop's channel ("" and "default" are the
// default shop).
func (p Policy) Days(tenant string, channel int32) int {
	if d, ok := p.tenants[tenant][channel]; ok {
		return d
	}
	return p.defaults[channel]
}

// Rules lists every period: each shop's overrides, then the defaults (whose
// Tenant is ""), in a stable order. Excluding returns the shops a default
// rule does not apply to.
func (p Policy) Rules() []Rule {
	var out []Rule
	tenants := make([]string, 0, len(p.tenants))
	for t := range p.tenants {
		tenants = append(tenants, t)
	}
	slices.Sort(tenants)
	for _, t := range tenants {
		for ch := int32(1); ch <= int32(len(Channels)); ch++ {
			if d, ok := p.tenants[t][ch]; ok {
				out = append(out, Rule{Tenant: t, Channel: ch, Days: d})
			}
		}
	}
	for ch := int32(1); ch <= int32(len(Channels)); ch++ {
		out = append(out, Rule{Channel: ch, Days: p.defaults[ch]})
	}
	return out
}

// Excluding lists the shops that override channel's default, sorted.
func (p Policy) Excluding(channel int32) []string {
	var out []string
	for t, m := range p.tenants {
		if _, ok := m[channel]; ok {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}
