package deadline

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"time"
	// The zones must resolve on a machine without a zoneinfo database (a
	// distroless image): a rule that silently fell back to UTC would count
	// Californian evenings as the next day again.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

//go:embed deadlines.yaml
var rulesFile []byte

// Rules are the deadline rules by jurisdiction.
type Rules struct {
	byJurisdiction map[string]Rule
}

// Load parses the embedded deadlines.yaml. An error means the binary was
// built with a broken file: the service must not start.
func Load() (Rules, error) { return Parse(rulesFile) }

// For returns the rule of a jurisdiction ("DE", "GB", "US-CA"), or
// InvalidArgument JURISDICTION_UNSUPPORTED when none applies.
func (r Rules) For(jurisdiction string) (Rule, error) {
	rule, ok := r.byJurisdiction[jurisdiction]
	if !ok {
		return Rule{}, errs.E(errs.InvalidArgument, reasons.JurisdictionUnsupported, "no deadline rule applies to the jurisdiction")
	}
	return rule, nil
}

// Jurisdictions lists every jurisdiction with a rule, sorted.
func (r Rules) Jurisdictions() []string {
	out := make([]string, 0, len(r.byJurisdiction))
	for j := range r.byJurisdiction {
		out = append(out, j)
	}
	slices.Sort(out)
	return out
}

type periodYAML struct {
	Months int `yaml:"months"`
	Days   int `yaml:"days"`
}

type fileYAML struct {
	Version int `yaml:"version"`
	Rules   []struct {
		Name                      string      `yaml:"name"`
		Regime                    string      `yaml:"regime"`
		Law                       string      `yaml:"law"`
		Base                      *periodYAML `yaml:"base"`
		Extension                 *periodYAML `yaml:"extension"`
		MaxExtensions             *int        `yaml:"max_extensions"`
		ExtensionNoticeWithinBase *bool       `yaml:"extension_notice_within_base"`
		AcknowledgeBusinessDays   *int        `yaml:"acknowledge_business_days"`
		WeekendRoll               *bool       `yaml:"weekend_roll"`
		PausesStopClock           *bool       `yaml:"pauses_stop_clock"`
		TimeZone                  string      `yaml:"time_zone"`
		Jurisdictions             []string    `yaml:"jurisdictions"`
	} `yaml:"rules"`
}

var (
	ruleNameRE     = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)
	jurisdictionRE = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	regimes        = map[string]Regime{"gdpr": GDPR, "ccpa": CCPA}
)

// Bounds far beyond any law, so a typo (450 days) is caught.
const (
	maxMonths       = 12
	maxDays         = 366
	maxBusinessDays = 60
)

// Parse reads a rules file strictly: one YAML document, no unknown fields,
// every setting of every rule written out (a forgotten line must not
// default to a weaker rule), periods in one unit, each jurisdiction in one
// rule only.
func Parse(data []byte) (Rules, error) {
	bad := func(format string, args ...any) (Rules, error) {
		return Rules{}, fmt.Errorf("deadline rules: "+format, args...)
	}
	var y fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		return bad("not a rules file: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return bad("more than one YAML document")
	}
	if y.Version != 1 {
		return bad("version must be 1")
	}
	if len(y.Rules) == 0 {
		return bad("no rules")
	}
	out := Rules{byJurisdiction: map[string]Rule{}}
	names := map[string]bool{}
	for i, yr := range y.Rules {
		where := fmt.Sprintf("rule %d", i+1)
		if !ruleNameRE.MatchString(yr.Name) {
			return bad("%s: name must be 2-32 lower-case letters, digits and underscores", where)
		}
		where = "rule " + yr.Name
		if names[yr.Name] {
			return bad("%s is listed twice", where)
		}
		names[yr.Name] = true
		regime, ok := regimes[yr.Regime]
		if !ok {
			return bad("%s: regime must be gdpr or ccpa", where)
		}
		if yr.Law == "" {
			return bad("%s: law must cite the provisions", where)
		}
		if yr.Base == nil || yr.Extension == nil || yr.MaxExtensions == nil || yr.ExtensionNoticeWithinBase == nil ||
			yr.AcknowledgeBusinessDays == nil || yr.WeekendRoll == nil || yr.PausesStopClock == nil {
			return bad("%s: base, extension, max_extensions, extension_notice_within_base, acknowledge_business_days, weekend_roll and pauses_stop_clock must all be set", where)
		}
		loc, err := loadZone(yr.TimeZone)
		if err != nil {
			return bad("%s: time_zone: %v", where, err)
		}
		rule := Rule{
			Regime: regime, Name: yr.Name, Law: yr.Law,
			Base:                      Period(*yr.Base),
			Extension:                 Period(*yr.Extension),
			MaxExtensions:             *yr.MaxExtensions,
			ExtensionNoticeWithinBase: *yr.ExtensionNoticeWithinBase,
			AcknowledgeBusinessDays:   *yr.AcknowledgeBusinessDays,
			WeekendRoll:               *yr.WeekendRoll,
			PausesStopClock:           *yr.PausesStopClock,
			Location:                  loc,
		}
		if err := checkPeriod(rule.Base, true); err != nil {
			return bad("%s: base: %v", where, err)
		}
		// State.Extended is one bit: a second extension could not be recorded.
		if rule.MaxExtensions != 0 && rule.MaxExtensions != 1 {
			return bad("%s: max_extensions must be 0 or 1", where)
		}
		if err := checkPeriod(rule.Extension, rule.MaxExtensions > 0); err != nil {
			return bad("%s: extension: %v", where, err)
		}
		if rule.MaxExtensions > 0 && (rule.Base.Months == 0) != (rule.Extension.Months == 0) {
			return bad("%s: base and extension must be counted in the same unit", where)
		}
		if rule.AcknowledgeBusinessDays < 0 || rule.AcknowledgeBusinessDays > maxBusinessDays {
			return bad("%s: acknowledge_business_days must be 0-%d", where, maxBusinessDays)
		}
		if len(yr.Jurisdictions) == 0 {
			return bad("%s: no jurisdictions", where)
		}
		for _, j := range yr.Jurisdictions {
			if !jurisdictionRE.MatchString(j) {
				return bad("%s: jurisdiction %q is not a code like DE or US-CA", where, j)
			}
			if other, dup := out.byJurisdiction[j]; dup {
				return bad("%s: jurisdiction %s is in rule %s too", where, j, other.Name)
			}
			out.byJurisdiction[j] = rule
		}
	}
	return out, nil
}

// checkPeriod: months or days, one of the two, within bounds; all zero only
// when the period is not needed.
func checkPeriod(p Period, needed bool) error {
	switch {
	case p.Months < 0 || p.Days < 0 || p.Months > maxMonths || p.Days > maxDays:
		return fmt.Errorf("months must be 0-%d and days 0-%d", maxMonths, maxDays)
	case p.Months > 0 && p.Days > 0:
		return errors.New("months or days, not both")
	case needed && p.Months == 0 && p.Days == 0:
		return errors.New("must be at least one month or day")
	case !needed && (p.Months > 0 || p.Days > 0):
		return errors.New("must be zero when max_extensions is 0")
	}
	return nil
}

// loadZone resolves an IANA zone name. The empty name and "Local" are
// refused: LoadLocation turns them into UTC and the machine's own zone,
// which would make the law depend on where the binary runs.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errors.New("must be an IANA zone name such as America/Los_Angeles")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown zone %q", name)
	}
	return loc, nil
}
