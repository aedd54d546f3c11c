// Package catalogue is the vocabulary of the consent service: purposes with
// their legal basis, notices with their texts, and the rules both must
// follow, whether they come from the embedded catalogue file or from a
// privacy officer through the API. It has no storage and no gRPC types.
package catalogue

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// LegalBasis is the GDPR Article 6 ground a purpose relies on. The values
// are the API's enum numbers.
type LegalBasis int

// Legal bases.
const (
	BasisUnspecified        LegalBasis = 0
	BasisConsent            LegalBasis = 1
	BasisContract           LegalBasis = 2
	BasisLegitimateInterest LegalBasis = 3
	BasisLegalObligation    LegalBasis = 4
)

var basisNames = map[LegalBasis]string{
	BasisConsent: "consent", BasisContract: "contract",
	BasisLegitimateInterest: "legitimate_interest", BasisLegalObligation: "legal_obligation",
}

func (b LegalBasis) String() string {
	if s, ok := basisNames[b]; ok {
		return s
	}
	return fmt.Sprintf("LegalBasis(%d)", int(b))
}

// Valid reports whether b is one of the four bases.
func (b LegalBasis) Valid() bool { _, ok := basisNames[b]; return ok }

// Withdrawable reports whether a subject's decision changes what the basis
// allows: consent (granted or not) and legitimate interest (objected to or
// not). A contract or a legal obligation does not depend on the subject's
// say-so, so there is nothing to grant or withdraw.
func (b LegalBasis) Withdrawable() bool {
	return b == BasisConsent || b == BasisLegitimateInterest
}

// ParseBasis reads a basis by its catalogue-file name.
func ParseBasis(s string) (LegalBasis, bool) {
	for b, name := range basisNames {
		if name == s {
			return b, true
		}
	}
	return BasisUnspecified, false
}

// Sources of a purpose's current values.
const (
	// SourceFile: as the catalogue file last set it (a newer file version
	// may update it).
	SourceFile = "file"
	// SourceAPI: a privacy officer created or edited it (the file leaves it
	// alone).
	SourceAPI = "api"
)

// Purpose is one reason customer data is processed.
type Purpose struct {
	ID            string
	DisplayName   string
	Description   string
	Basis         LegalBasis
	Jurisdictions []string
	// SaleOrShare: a "sale" or "sharing" under the CCPA, which a Global
	// Privacy Control signal opts out of.
	SaleOrShare   bool
	RetentionDays int
	Retired       bool
	// Revision counts changes, from 1.
	Revision int64
	Updated  time.Time
	Source   string
}

// SameValues reports whether a and b have the same mutable values (the
// revision, time and source aside).
func (p Purpose) SameValues(q Purpose) bool {
	return p.ID == q.ID && p.DisplayName == q.DisplayName && p.Description == q.Description &&
		p.Basis == q.Basis && slices.Equal(p.Jurisdictions, q.Jurisdictions) && p.SaleOrShare == q.SaleOrShare &&
		p.RetentionDays == q.RetentionDays && p.Retired == q.Retired
}

var (
	purposeIDRE    = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
	noticeIDRE     = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,63}$`)
	jurisdictionRE = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	languageRE     = regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`)
)

// Limits shared with the API's validation rules.
const (
	MaxDisplayName   = 80
	MaxDescription   = 2000
	MaxJurisdictions = 50
	MaxRetentionDays = 36500
	MaxNoticeText    = 20000
	MaxNoticeParts   = 50
)

// ValidPurposeID reports whether id is a purpose id's form.
func ValidPurposeID(id string) bool { return purposeIDRE.MatchString(id) }

// Check returns InvalidArgument PURPOSE_INVALID when p breaks a rule, naming
// the rule (never echoing values), and p with its jurisdictions sorted.
func (p Purpose) Check() (Purpose, error) {
	bad := func(format string, args ...any) (Purpose, error) {
		return p, errs.E(errs.InvalidArgument, reasons.PurposeInvalid, format, args...)
	}
	switch {
	case !purposeIDRE.MatchString(p.ID):
		return bad("purpose id must be 2-64 lower-case letters, digits and underscores, starting with a letter")
	case p.DisplayName == "" || utf8.RuneCountInString(p.DisplayName) > MaxDisplayName || !printable(p.DisplayName):
		return bad("display name must be 1-%d printable characters", MaxDisplayName)
	case utf8.RuneCountInString(p.Description) > MaxDescription || !utf8.ValidString(p.Description):
		return bad("description must be at most %d characters of UTF-8", MaxDescription)
	case !p.Basis.Valid():
		return bad("legal basis must be consent, contract, legitimate_interest or legal_obligation")
	case p.SaleOrShare && !p.Basis.Withdrawable():
		// A GPC signal must be able to stop it.
		return bad("a CCPA sale/share purpose must rest on consent or legitimate interest")
	case len(p.Jurisdictions) > MaxJurisdictions:
		return bad("at most %d jurisdictions", MaxJurisdictions)
	case p.RetentionDays < 1 || p.RetentionDays > MaxRetentionDays:
		return bad("retention must be 1-%d days", MaxRetentionDays)
	}
	js := slices.Clone(p.Jurisdictions)
	slices.Sort(js)
	for i, j := range js {
		if !jurisdictionRE.MatchString(j) {
			return bad("jurisdictions are ISO 3166-1 alpha-2 codes, optionally with a subdivision (US-CA)")
		}
		if i > 0 && js[i-1] == j {
			return bad("a jurisdiction is listed twice")
		}
	}
	p.Jurisdictions = js
	return p, nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// Notice is one immutable version of a notice: the text a customer is
// shown when asked to consent, per language, and the purposes it asks for.
type Notice struct {
	ID       string
	Version  int64
	Purposes []string
	Texts    []NoticeText // sorted by language
	Created  time.Time
	// Actor is who published it: a privacy officer's account id, or
	// FileActor.
	Actor string
}

// FileActor is the actor of what the catalogue file applied.
const FileActor = "catalogue-file"

// NoticeText is a notice's text in one language.
type NoticeText struct {
	Language string
	Text     string
	// SHA256 is the lower-case hex SHA-256 of Text's UTF-8 bytes.
	SHA256 string
}

// TextHash is the hash a notice text is recorded by.
func TextHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Text returns the notice's text in language.
func (n Notice) Text(language string) (NoticeText, bool) {
	for _, t := range n.Texts {
		if t.Language == language {
			return t, true
		}
	}
	return NoticeText{}, false
}

// Asks reports whether the notice asks for purpose.
func (n Notice) Asks(purpose string) bool { return slices.Contains(n.Purposes, purpose) }

// Check returns InvalidArgument NOTICE_INVALID when n breaks a rule, and n
// with its purposes and texts sorted and each text hashed. It does not
// check that the purposes exist (the caller knows the catalogue).
func (n Notice) Check() (Notice, error) {
	bad := func(format string, args ...any) (Notice, error) {
		return n, errs.E(errs.InvalidArgument, reasons.NoticeInvalid, format, args...)
	}
	switch {
	case !noticeIDRE.MatchString(n.ID):
		return bad("notice id must be 2-64 lower-case letters, digits, '-' and '_', starting with a letter")
	case len(n.Purposes) == 0 || len(n.Purposes) > MaxNoticeParts:
		return bad("a notice asks for 1-%d purposes", MaxNoticeParts)
	case len(n.Texts) == 0 || len(n.Texts) > MaxNoticeParts:
		return bad("a notice has 1-%d texts", MaxNoticeParts)
	}
	ps := slices.Clone(n.Purposes)
	slices.Sort(ps)
	for i, p := range ps {
		if !purposeIDRE.MatchString(p) {
			return bad("a notice names purposes by their ids")
		}
		if i > 0 && ps[i-1] == p {
			return bad("a purpose is listed twice")
		}
	}
	ts := slices.Clone(n.Texts)
	slices.SortFunc(ts, func(a, b NoticeText) int { return strings.Compare(a.Language, b.Language) })
	for i := range ts {
		t := &ts[i]
		if !languageRE.MatchString(t.Language) {
			return bad("languages are BCP 47 tags such as en or pt-BR")
		}
		if i > 0 && ts[i-1].Language == t.Language {
			return bad("a language has two texts")
		}
		if t.Text == "" || !utf8.ValidString(t.Text) || utf8.RuneCountInString(t.Text) > MaxNoticeText {
			return bad("a text is 1-%d characters of UTF-8", MaxNoticeText)
		}
		t.SHA256 = TextHash(t.Text)
	}
	n.Purposes, n.Texts = ps, ts
	return n, nil
}

// SameContent reports whether two notices ask for the same purposes with
// the same texts (both checked).
func (n Notice) SameContent(m Notice) bool {
	if !slices.Equal(n.Purposes, m.Purposes) || len(n.Texts) != len(m.Texts) {
		return false
	}
	for i := range n.Texts {
		if n.Texts[i].Language != m.Texts[i].Language || n.Texts[i].SHA256 != m.Texts[i].SHA256 {
			return false
		}
	}
	return true
}

// File is a parsed, checked catalogue file.
type File struct {
	Version  int64
	Purposes []Purpose
	Notices  []Notice
}

type fileYAML struct {
	Version  int64 `yaml:"version"`
	Purposes []struct {
		ID            string   `yaml:"id"`
		DisplayName   string   `yaml:"display_name"`
		Description   string   `yaml:"description"`
		LegalBasis    string   `yaml:"legal_basis"`
		Jurisdictions []string `yaml:"jurisdictions"`
		SaleOrShare   bool     `yaml:"ccpa_sale_or_share"`
		RetentionDays int      `yaml:"retention_days"`
		Retired       bool     `yaml:"retired"`
	} `yaml:"purposes"`
	Notices []struct {
		ID       string            `yaml:"id"`
		Purposes []string          `yaml:"purposes"`
		Texts    map[string]string `yaml:"texts"`
	} `yaml:"notices"`
}

// Parse reads a catalogue file strictly (unknown fields are errors) and
// checks every purpose and notice, that ids are unique and that notices
// ask only for purposes of the file. Errors are InvalidArgument
// CATALOGUE_INVALID naming the entry.
func Parse(data []byte) (File, error) {
	bad := func(format string, args ...any) (File, error) {
		return File{}, errs.E(errs.InvalidArgument, reasons.CatalogueInvalid, "catalogue: "+format, args...)
	}
	var y fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		return File{}, errs.Wrap(err, errs.InvalidArgument, reasons.CatalogueInvalid, "catalogue: not a catalogue file")
	}
	if y.Version < 1 {
		return bad("version must be at least 1")
	}
	f := File{Version: y.Version}
	ids := map[string]bool{}
	for i, yp := range y.Purposes {
		basis, ok := ParseBasis(yp.LegalBasis)
		if !ok {
			return bad("purpose %d: unknown legal basis", i+1)
		}
		p, err := Purpose{ID: yp.ID, DisplayName: yp.DisplayName, Description: yp.Description, Basis: basis,
			Jurisdictions: yp.Jurisdictions, SaleOrShare: yp.SaleOrShare, RetentionDays: yp.RetentionDays,
			Retired: yp.Retired, Source: SourceFile}.Check()
		if err != nil {
			return bad("purpose %d: %s", i+1, message(err))
		}
		if ids[p.ID] {
			return bad("purpose %s is listed twice", p.ID)
		}
		ids[p.ID] = true
		f.Purposes = append(f.Purposes, p)
	}
	notices := map[string]bool{}
	for i, yn := range y.Notices {
		n := Notice{ID: yn.ID, Version: 1, Purposes: yn.Purposes, Actor: FileActor}
		for lang, text := range yn.Texts {
			n.Texts = append(n.Texts, NoticeText{Language: lang, Text: text})
		}
		n, err := n.Check()
		if err != nil {
			return bad("notice %d: %s", i+1, message(err))
		}
		if notices[n.ID] {
			return bad("notice %s is listed twice", n.ID)
		}
		notices[n.ID] = true
		for _, p := range n.Purposes {
			if !ids[p] {
				return bad("notice %s asks for a purpose the file does not define", n.ID)
			}
		}
		f.Notices = append(f.Notices, n)
	}
	return f, nil
}

// message is the client-safe message of a check's error.
func message(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "invalid"
}

// Decision is what a consent record says (the API's enum numbers).
type Decision int

// Decisions.
const (
	DecisionNone      Decision = 0
	DecisionGranted   Decision = 1
	DecisionWithdrawn Decision = 2
)

func (d Decision) String() string {
	switch d {
	case DecisionGranted:
		return "granted"
	case DecisionWithdrawn:
		return "withdrawn"
	}
	return "none"
}

// Method is how a decision was expressed (the API's enum numbers).
type Method int

// Methods.
const (
	MethodExplicitOptIn Method = 1
	MethodOptOut        Method = 2
	MethodGPC           Method = 3
	MethodStaffOnBehalf Method = 4
	// MethodDataSubjectRequest: withdrawn by the data-subject request
	// orchestrator (an erasure, an opt-out of sale or sharing).
	MethodDataSubjectRequest Method = 5
)

func (m Method) String() string {
	switch m {
	case MethodExplicitOptIn:
		return "explicit_opt_in"
	case MethodOptOut:
		return "opt_out"
	case MethodGPC:
		return "gpc"
	case MethodStaffOnBehalf:
		return "staff_on_behalf"
	case MethodDataSubjectRequest:
		return "data_subject_request"
	}
	return "unspecified"
}

// Channel is where a decision was collected (the API's enum numbers).
type Channel int

// ChannelAPI: through the API, e.g. by the data-subject request
// orchestrator.
const ChannelAPI Channel = 8

var channelNames = []string{"unspecified", "web", "mobile_app", "whatsapp", "messenger", "email", "phone", "in_person", "api"}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c > 0 && int(c) < len(channelNames) }

func (c Channel) String() string {
	if c >= 0 && int(c) < len(channelNames) {
		return channelNames[c]
	}
	return "unspecified"
}

// ValidJurisdiction reports whether j is empty or a jurisdiction code.
func ValidJurisdiction(j string) bool { return j == "" || jurisdictionRE.MatchString(j) }
