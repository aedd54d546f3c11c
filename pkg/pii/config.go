package pii

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sottohq/sotto/pkg/errs"
)

// ReasonConfigInvalid is the error reason of a configuration that cannot be
// used.
const ReasonConfigInvalid = "PII_CONFIG_INVALID"

// Config is a tenant's detection settings. The zero value detects every
// type with the built-in recognisers. It is data: ParseConfig reads it from
// YAML, e.g.
//
//	default_region: DE
//	threshold: 0.5
//	allow_patterns: ['\bSO-\d{8}\b']          # the shop's order numbers are not PII
//	patterns:
//	  - {name: customer-id, type: CUSTOMER_ID, regex: '\bKD-\d{7}\b', score: 0.9}
//	allow: [info@shop.example]
//	deny: [{value: Bello, type: PERSON}]
type Config struct {
	// DefaultRegion (ISO 3166-1 alpha-2, e.g. "DE") is tried first for
	// phone numbers in national format, before the regions of the
	// message's language.
	DefaultRegion string `yaml:"default_region"`
	// Threshold drops findings scored below it (0 keeps every finding).
	Threshold float64 `yaml:"threshold"`
	// Types limits detection to these types; empty means all.
	Types []Type `yaml:"types"`
	// Allow lists values that are never reported (exact match of the
	// finding's text, case-insensitive): the shop's own address, its
	// support e-mail.
	Allow []string `yaml:"allow"`
	// AllowPatterns are RE2 expressions; a finding that overlaps a match
	// is dropped (the shop's order-number format).
	AllowPatterns []string `yaml:"allow_patterns"`
	// Deny lists values always reported with their type (case-insensitive,
	// on word boundaries).
	Deny []DenyEntry `yaml:"deny"`
	// Patterns are extra recognisers (the shop's customer-ID format).
	Patterns []Pattern `yaml:"patterns"`
	// AnyRegionPhones reports a number written with its country code (+49…,
	// 0049…) when it is valid for that country, whatever the message's
	// language. Off, the engine reads the contract (PII-LABELS.md) to the
	// letter: a numeric phone is valid for a region of its message's
	// language (or DefaultRegion), so a German mobile in an English message
	// is no finding. Services that store or forward text turn it on: a
	// number that names its own country is a phone there (ADR 0010).
	AnyRegionPhones bool `yaml:"any_region_phones"`
}

// StorageConfig is the configuration of a service that stores or forwards
// text (conversation, crmsync): the contract's reading, widened where a
// miss would leave a value in clear that names itself (AnyRegionPhones)
// or that nothing may keep: a card's security code, which PCI DSS
// (requirement 3.3.1.2) forbids storing after authorisation even
// encrypted, and which the contract does not label. It is reported as
// SECRET (a code that proves possession), the value only, after its name
// in the six languages.
func StorageConfig() Config {
	return Config{AnyRegionPhones: true, Patterns: []Pattern{{
		Name:  "card-security-code",
		Type:  Secret,
		Regex: cardSecurityCode,
		Score: 0.9,
	}}}
}

// cardSecurityCode is a card's security code after its name: a character
// that is no letter or digit (Go's \b knows only ASCII, so "sécurité"
// would never end a word), at most a few more non-digits ("is", ":", "=",
// "ist"), then three or four digits that do not go on: not followed by a
// digit nor, over spaces on the same line, by another group, which would
// make them the head of a card or phone number written after the code's
// name (that number is the card's or phone's recogniser's, whole).
const cardSecurityCode = `(?i)\b(?:cvv2?|cvc2?|cav2|card verification (?:code|value|number)|(?:card )?security code|(?:karten)?pr(?:ü|ue)fnummer|(?:karten)?sicherheitscode|cryptogramme(?: visuel)?|code (?:de s(?:é|e)curit(?:é|e)|cvv|cvc)|c(?:ó|o)digo (?:de seguridad|cvv|cvc)|codice (?:di sicurezza|cvv|cvc)|beveiligingscode|kaartverificatiecode)[^\pL\pN\n][^\d\n]{0,11}?(?P<value>\d{3,4})(?:[^\d\s]|[^\S\n]+[^\d\s]|\s*$)`

// DenyEntry is a value that is always PII.
type DenyEntry struct {
	Value string `yaml:"value"`
	Type  Type   `yaml:"type"`
}

// Pattern is a tenant recogniser: each match of Regex (RE2, so linear in
// the text) is a finding of Type. Type is one of the entity types or the
// tenant's own upper-case name (CUSTOMER_ID). A regex with a group named
// value reports that group only ('Kundennr\.? (?P<value>KD-\d{7})'), so
// a cue can guide a pattern without being redacted with the value. A
// pattern's findings win overlaps against every built-in type but IBAN.
type Pattern struct {
	Name  string  `yaml:"name"`
	Type  Type    `yaml:"type"`
	Regex string  `yaml:"regex"`
	Score float64 `yaml:"score"` // default 0.9
}

// ParseConfig reads a Config from YAML; unknown fields are errors, so a
// typo does not silently switch a control off.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && err != io.EOF {
		return Config{}, errs.Wrap(err, errs.InvalidArgument, ReasonConfigInvalid, "PII configuration is not valid YAML")
	}
	if _, err := c.compile(); err != nil {
		return Config{}, err
	}
	return c, nil
}

type compiledPattern struct {
	name  string
	typ   Type
	re    *regexp.Regexp
	value int // the index of the group named value, or 0 (the whole match)
	score float64
}

type compiledConfig struct {
	region    string
	anyRegion bool // AnyRegionPhones
	threshold float64
	types     map[Type]bool // nil: all
	allow     map[string]bool
	allowRE   []*regexp.Regexp
	deny      []DenyEntry // lower-cased values
	patterns  []compiledPattern
}

func invalid(format string, args ...any) error {
	return errs.E(errs.InvalidArgument, ReasonConfigInvalid, format, args...)
}

var customType = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,31}$`)

func (c Config) compile() (compiledConfig, error) {
	var cc compiledConfig
	if c.DefaultRegion != "" {
		r := strings.ToUpper(c.DefaultRegion)
		if !phoneRegionKnown(r) {
			return cc, invalid("default_region is not a region with phone numbers")
		}
		cc.region = r
	}
	if c.Threshold < 0 || c.Threshold > 1 {
		return cc, invalid("threshold must be between 0 and 1")
	}
	cc.threshold = c.Threshold
	cc.anyRegion = c.AnyRegionPhones
	if len(c.Types) > 0 {
		cc.types = map[Type]bool{}
		for i, t := range c.Types {
			if !t.Valid() {
				return cc, invalid("types[%d] is not an entity type", i)
			}
			cc.types[t] = true
		}
	}
	for _, v := range c.Allow {
		if cc.allow == nil {
			cc.allow = map[string]bool{}
		}
		cc.allow[strings.ToLower(v)] = true
	}
	for i, p := range c.AllowPatterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return cc, invalid("allow_patterns[%d] is not a valid RE2 expression", i)
		}
		cc.allowRE = append(cc.allowRE, re)
	}
	for i, d := range c.Deny {
		if strings.TrimSpace(d.Value) == "" {
			return cc, invalid("deny[%d] has no value", i)
		}
		if !d.Type.Valid() && !customType.MatchString(string(d.Type)) {
			return cc, invalid("deny[%d] has no valid type", i)
		}
		cc.deny = append(cc.deny, DenyEntry{Value: strings.ToLower(d.Value), Type: d.Type})
	}
	for i, p := range c.Patterns {
		if !p.Type.Valid() && !customType.MatchString(string(p.Type)) {
			return cc, invalid("patterns[%d] type must be an entity type or an upper-case name", i)
		}
		re, err := regexp.Compile(p.Regex)
		if err != nil || p.Regex == "" {
			return cc, invalid("patterns[%d] regex is not a valid RE2 expression", i)
		}
		if re.MatchString("") {
			return cc, invalid("patterns[%d] regex matches the empty string", i)
		}
		score := p.Score
		if score == 0 {
			score = 0.9
		}
		if score < 0 || score > 1 {
			return cc, invalid("patterns[%d] score must be between 0 and 1", i)
		}
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("pattern-%d", i)
		}
		value := max(re.SubexpIndex("value"), 0)
		cc.patterns = append(cc.patterns, compiledPattern{name: "tenant:" + name, typ: p.Type, re: re, value: value, score: score})
	}
	return cc, nil
}

// tenantPriority is the overlap priority of a tenant pattern or deny entry.
const tenantPriority = 98

// applyConfig adds the tenant's patterns and deny list and then drops
// allowed values, findings inside allow-pattern matches and disabled types.
func (d *doc) applyConfig() {
	cc := &d.e.cfg
	for _, p := range cc.patterns {
		for _, m := range p.re.FindAllStringSubmatchIndex(d.text, -1) {
			s, e := m[2*p.value], m[2*p.value+1]
			if s < 0 || s == e {
				continue // the value group took no part in this match
			}
			d.cands = append(d.cands, cand{s: s, e: e, typ: p.typ, score: p.score, rec: p.name, prio: tenantPriority})
		}
	}
	if len(cc.deny) > 0 {
		lowText := strings.ToLower(d.text)
		if len(lowText) == len(d.text) { // offsets only line up when lower-casing kept the length
			for _, dn := range cc.deny {
				for off := 0; off < len(lowText); {
					i := strings.Index(lowText[off:], dn.Value)
					if i < 0 {
						break
					}
					s, e := off+i, off+i+len(dn.Value)
					if wordBoundary(d.text, s, e) {
						d.cands = append(d.cands, cand{s: s, e: e, typ: dn.Type, score: 1, rec: "tenant:deny", prio: tenantPriority})
					}
					off = s + 1
				}
			}
		}
	}
	var allowSpans [][]int
	for _, re := range cc.allowRE {
		allowSpans = append(allowSpans, re.FindAllStringIndex(d.text, -1)...)
	}
	if cc.types == nil && cc.allow == nil && len(allowSpans) == 0 {
		return
	}
	allowSpans = mergeSpans(allowSpans)
	kept := d.cands[:0]
	for _, c := range d.cands {
		if c.prio != tenantPriority && cc.types != nil && !cc.types[c.typ] {
			continue
		}
		if cc.allow != nil && cc.allow[strings.ToLower(d.text[c.s:c.e])] {
			continue
		}
		if c.rec != "tenant:deny" && overlapsAny(allowSpans, c.s, c.e) {
			continue
		}
		kept = append(kept, c)
	}
	d.cands = kept
}

// mergeSpans sorts spans and merges overlapping ones, so a binary search
// finds the one a candidate may overlap.
func mergeSpans(sp [][]int) [][]int {
	if len(sp) < 2 {
		return sp
	}
	sort.Slice(sp, func(i, j int) bool { return sp[i][0] < sp[j][0] })
	out := sp[:1]
	for _, s := range sp[1:] {
		last := out[len(out)-1]
		if s[0] <= last[1] {
			if s[1] > last[1] {
				last[1] = s[1]
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// overlapsAny reports whether [s,e) overlaps one of the sorted, disjoint spans.
func overlapsAny(sp [][]int, s, e int) bool {
	i := sort.Search(len(sp), func(i int) bool { return sp[i][1] > s })
	return i < len(sp) && sp[i][0] < e
}

// wordBoundary reports whether text[s:e] neither starts nor ends inside a
// word.
func wordBoundary(text string, s, e int) bool {
	if s > 0 && isAlnum(text[s-1]) && isAlnum(text[s]) {
		return false
	}
	if e < len(text) && isAlnum(text[e]) && isAlnum(text[e-1]) {
		return false
	}
	return true
}
