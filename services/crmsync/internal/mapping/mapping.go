// Package mapping reads the shops' CRM mappings: data, not code. A mapping
// is one YAML file per shop and connector (<dir>/<tenant>/<connector>.yaml)
// that names which of a customer's fields go to which CRM property, under
// which purpose, and in which form. Fields a mapping does not name never
// leave (Apply drops them); no mapping, nothing is sent.
package mapping

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/reasons"
)

// Form is how a field's value reaches the CRM.
type Form string

const (
	// Token: the token vault token itself (the default). The CRM can tell
	// customers apart and join records, and learns nothing of the value.
	Token Form = "token"
	// Masked: the token vault's masked view ("•••• 4242", "a•••@example.com").
	Masked Form = "masked"
	// Plaintext: the value, detokenised by crmsync under the token vault's
	// policy for the field's purpose; only for purposes the service's
	// configuration permits (Rules.PlaintextPurposes).
	Plaintext Form = "plaintext"
	// Literal: a value the mapping itself names (a consent mapping's
	// granted or withdrawn value), sent as it is. Never a field's form: a
	// customer's value cannot be literal.
	Literal Form = "literal"
)

// DefaultConsentUnder is the purpose a consent mapping's update is sent
// under when it names none.
const DefaultConsentUnder = "crm_sync"

// Consent maps one purpose's consent state to a CRM property: a grant or a
// withdrawal of Purpose (marketing) sets Property to Granted or Withdrawn
// (an opt-out property: "false" and "true"). The update is itself sent
// under Under (crm_sync): without that consent nothing is sent, so a
// customer who withdrew crm_sync sends no more of these either. It goes
// only to a CRM the customer was already sent to.
type Consent struct {
	Purpose   string `yaml:"purpose"`
	Property  string `yaml:"property"`
	Under     string `yaml:"under"`
	Granted   string `yaml:"granted"`
	Withdrawn string `yaml:"withdrawn"`
}

// SummaryField is the event field a conversation summary arrives in. It
// holds placeholders, never values, and goes out only in the token form
// (as it is).
const SummaryField = "conversation_summary"

// Field maps one customer field.
type Field struct {
	// Field is the event's field name (email, first_name, ...).
	Field string `yaml:"field"`
	// Property is the CRM property it sets (email, firstname, Email).
	Property string `yaml:"property"`
	// Purpose is the consent purpose it is sent under (crm_sync).
	Purpose string `yaml:"purpose"`
	// Form defaults to token.
	Form Form `yaml:"form"`
}

// HubSpot is a portal's settings.
type HubSpot struct {
	// IDProperty is the unique-value contact property holding the
	// customer's subject (default sotto_subject).
	IDProperty string `yaml:"id_property"`
}

// Salesforce is an org's settings.
type Salesforce struct {
	URL             string `yaml:"url"`
	APIVersion      string `yaml:"api_version"`
	Object          string `yaml:"object"`
	ExternalIDField string `yaml:"external_id_field"`
}

// Rate is how fast crmsync sends to one shop's CRM: PerSecond on average,
// Burst at once. It keeps under the CRM's own limits rather than learning
// them from 429s.
type Rate struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// Platform is the connector of a CRM platform that pulls a shop's changes
// over gRPC (crmsync's WatchChanges) instead of being sent them: its
// deliveries are kept, sealed, for the platform to read (internal/stream).
const Platform = "platform"

// Default rates: HubSpot private apps may make 100 requests per 10 s (the
// lowest tier); Salesforce counts API requests per day per org and limits
// concurrent long requests, so a modest steady rate.
var (
	DefaultHubSpotRate    = Rate{PerSecond: 10, Burst: 100}
	DefaultSalesforceRate = Rate{PerSecond: 5, Burst: 25}
	// A platform's deliveries are rows in crmsync's own database.
	DefaultPlatformRate = Rate{PerSecond: 1000, Burst: 10000}
)

// Mapping is one shop's mapping for one connector.
type Mapping struct {
	Tenant     string      `yaml:"-"`
	Connector  string      `yaml:"-"`
	HubSpot    *HubSpot    `yaml:"hubspot,omitempty"`
	Salesforce *Salesforce `yaml:"salesforce,omitempty"`
	// Rate defaults to the connector's Default…Rate.
	Rate   *Rate   `yaml:"rate,omitempty"`
	Fields []Field `yaml:"fields"`
	// Consents map purposes' consent states to CRM properties.
	Consents []Consent `yaml:"consents,omitempty"`
}

// Rules are what every mapping must keep to.
type Rules struct {
	// PlaintextPurposes are the purposes under which a field may be mapped
	// as plaintext. Any other purpose with plaintext is refused at load.
	PlaintextPurposes []string
}

var (
	namePattern     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	tenantPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	propertyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)
	versionPattern  = regexp.MustCompile(`^v[0-9]{2}\.[0-9]$`)
	// A consent mapping's values are the shop's constants (true, false,
	// opted_out), never a customer's.
	literalPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)
)

func invalid(file, format string, args ...any) error {
	return errs.E(errs.InvalidArgument, reasons.MappingInvalid, "mapping %s: %s", file, fmt.Sprintf(format, args...))
}

// Parse reads one mapping file's content.
func Parse(tenant, conn string, data []byte, rules Rules) (Mapping, error) {
	file := tenant + "/" + conn + ".yaml"
	if !tenantPattern.MatchString(tenant) {
		return Mapping{}, invalid(file, "the tenant is not a shop name")
	}
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Mapping{}, invalid(file, "it does not parse (%s)", firstLine(err.Error()))
	}
	m.Tenant, m.Connector = tenant, conn
	switch conn {
	case connector.HubSpot:
		if m.Salesforce != nil {
			return Mapping{}, invalid(file, "salesforce settings in a hubspot mapping")
		}
		if m.HubSpot == nil {
			m.HubSpot = &HubSpot{}
		}
		if m.HubSpot.IDProperty == "" {
			m.HubSpot.IDProperty = "sotto_subject"
		}
		if !propertyPattern.MatchString(m.HubSpot.IDProperty) {
			return Mapping{}, invalid(file, "id_property is not a property name")
		}
	case connector.Salesforce:
		s := m.Salesforce
		if s == nil || m.HubSpot != nil {
			return Mapping{}, invalid(file, "a salesforce mapping needs its salesforce settings, and only those")
		}
		if !strings.HasPrefix(s.URL, "https://") || strings.ContainsAny(s.URL[len("https://"):], "/?#@") {
			return Mapping{}, invalid(file, "salesforce.url must be the org's https:// My Domain, without a path")
		}
		if s.APIVersion == "" {
			s.APIVersion = "v62.0"
		}
		if s.Object == "" {
			s.Object = "Contact"
		}
		if !versionPattern.MatchString(s.APIVersion) || !propertyPattern.MatchString(s.Object) || !propertyPattern.MatchString(s.ExternalIDField) {
			return Mapping{}, invalid(file, "salesforce api_version, object or external_id_field is malformed")
		}
	case Platform:
		if m.HubSpot != nil || m.Salesforce != nil {
			return Mapping{}, invalid(file, "a platform mapping has no CRM settings")
		}
	default:
		return Mapping{}, invalid(file, "unknown connector")
	}
	if m.Rate == nil {
		r := DefaultHubSpotRate
		switch conn {
		case connector.Salesforce:
			r = DefaultSalesforceRate
		case Platform:
			r = DefaultPlatformRate
		}
		m.Rate = &r
	}
	if m.Rate.PerSecond <= 0 || m.Rate.PerSecond > 1000 || m.Rate.Burst < 1 || m.Rate.Burst > 10000 {
		return Mapping{}, invalid(file, "rate needs per_second in (0, 1000] and burst in [1, 10000]")
	}
	fields, props := map[string]bool{}, map[string]bool{}
	for i := range m.Fields {
		f := &m.Fields[i]
		if f.Form == "" {
			f.Form = Token
		}
		if !namePattern.MatchString(f.Field) || !propertyPattern.MatchString(f.Property) || !namePattern.MatchString(f.Purpose) {
			return Mapping{}, invalid(file, "field %d: field, property and purpose are required names", i+1)
		}
		if fields[f.Field] || props[f.Property] {
			return Mapping{}, invalid(file, "field %d: %s or its property is mapped twice", i+1, f.Field)
		}
		fields[f.Field], props[f.Property] = true, true
		switch f.Form {
		case Token, Masked:
		case Plaintext:
			if !slices.Contains(rules.PlaintextPurposes, f.Purpose) {
				return Mapping{}, invalid(file, "field %s: purpose %s does not permit plaintext", f.Field, f.Purpose)
			}
		default:
			return Mapping{}, invalid(file, "field %s: form must be token, masked or plaintext", f.Field)
		}
		if f.Field == SummaryField && f.Form != Token {
			return Mapping{}, invalid(file, "%s goes out as it is (token form): it holds placeholders only", SummaryField)
		}
	}
	purposes := map[string]bool{}
	for i := range m.Consents {
		c := &m.Consents[i]
		if c.Under == "" {
			c.Under = DefaultConsentUnder
		}
		// No default for the two values: a CRM property is as often an
		// opt-out flag as an opt-in one, and guessing wrong would mark a
		// withdrawn customer as subscribed (security review).
		if !namePattern.MatchString(c.Purpose) || !namePattern.MatchString(c.Under) || !propertyPattern.MatchString(c.Property) ||
			!literalPattern.MatchString(c.Granted) || !literalPattern.MatchString(c.Withdrawn) {
			return Mapping{}, invalid(file, "consent %d: purpose, property, under, granted and withdrawn are required names", i+1)
		}
		if c.Purpose == c.Under {
			// A withdrawal of the purpose the update needs could never be
			// sent; crm_sync's own withdrawal ends syncing instead.
			return Mapping{}, invalid(file, "consent %s: it cannot be sent under itself", c.Purpose)
		}
		if purposes[c.Purpose] || props[c.Property] {
			return Mapping{}, invalid(file, "consent %s or its property is mapped twice", c.Purpose)
		}
		purposes[c.Purpose], props[c.Property] = true, true
	}
	return m, nil
}

// ConsentItem is the item a change of purpose's consent sends, if the
// mapping maps that purpose.
func (m Mapping) ConsentItem(purpose string, granted bool) (Item, bool) {
	for _, c := range m.Consents {
		if c.Purpose != purpose {
			continue
		}
		v := c.Withdrawn
		if granted {
			v = c.Granted
		}
		return Item{Property: c.Property, Purpose: c.Under, Form: Literal, Value: v, StateOf: purpose, Granted: granted}, true
	}
	return Item{}, false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Set is every shop's mappings, by tenant and connector.
type Set struct {
	byTenant map[string]map[string]Mapping
}

// Load reads <tenant>/<connector>.yaml files from fsys.
func Load(fsys fs.FS, rules Rules) (*Set, error) {
	s := &Set{byTenant: map[string]map[string]Mapping{}}
	if fsys == nil {
		return s, nil
	}
	files, err := fs.Glob(fsys, "*/*.yaml")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		tenant, conn := path.Dir(f), strings.TrimSuffix(path.Base(f), ".yaml")
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		m, err := Parse(tenant, conn, data, rules)
		if err != nil {
			return nil, err
		}
		if s.byTenant[tenant] == nil {
			s.byTenant[tenant] = map[string]Mapping{}
		}
		s.byTenant[tenant][conn] = m
	}
	return s, nil
}

// Add puts a mapping in the set (tests, and Load).
func (s *Set) Add(m Mapping) {
	if s.byTenant[m.Tenant] == nil {
		s.byTenant[m.Tenant] = map[string]Mapping{}
	}
	s.byTenant[m.Tenant][m.Connector] = m
}

// For returns the tenant's mappings, sorted by connector.
func (s *Set) For(tenant string) []Mapping {
	var out []Mapping
	for _, m := range s.byTenant[tenant] {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Connector < out[j].Connector })
	return out
}

// All returns every mapping.
func (s *Set) All() []Mapping {
	var out []Mapping
	for t := range s.byTenant {
		out = append(out, s.For(t)...)
	}
	return out
}

// Item is one field on its way out: what the delivery carries.
type Item struct {
	Property string `json:"p"`
	Purpose  string `json:"u"`
	Form     Form   `json:"f"`
	// Value is the token (token, masked and plaintext forms), or the
	// placeholder text of a summary.
	Value string `json:"v"`
	// StateOf and Granted, on a consent item, say which purpose's state
	// Value reflects and which state: delivery drops the item when the
	// customer's consent to StateOf has changed since, so a grant retried
	// after a later withdrawal never overwrites the opt-out in the CRM.
	StateOf string `json:"s,omitempty"`
	Granted bool   `json:"g,omitempty"`
}

// OptOut says whether the item is a consent mapping's withdrawn value.
func (it Item) OptOut() bool { return it.StateOf != "" && !it.Granted }

// FieldPurpose says whether the mapping sends any field under purpose.
func (m Mapping) FieldPurpose(purpose string) bool {
	for _, f := range m.Fields {
		if f.Purpose == purpose {
			return true
		}
	}
	return false
}

// Apply selects the mapped fields of an event, in the mapping's order.
// Fields the mapping does not name are dropped: they never leave.
func (m Mapping) Apply(fields map[string]string) []Item {
	var out []Item
	for _, f := range m.Fields {
		v, ok := fields[f.Field]
		if !ok || v == "" {
			continue
		}
		out = append(out, Item{Property: f.Property, Purpose: f.Purpose, Form: f.Form, Value: v})
	}
	return out
}
