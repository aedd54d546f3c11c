package pii

import (
	"github.com/nyaruka/phonenumbers"
)

// langRegions are the phone regions of each message language
// (shared/PII-LABELS.md).
var langRegions = map[string][]string{
	"en": {"GB", "US", "IE", "CA"},
	"de": {"DE", "AT", "CH"},
	"fr": {"FR", "BE", "CH"},
	"es": {"ES", "MX"},
	"nl": {"NL", "BE"},
	"it": {"IT", "CH"},
	"":   {"GB", "US", "DE", "FR", "ES", "IT", "NL", "BE", "AT", "CH", "IE", "CA", "MX"},
}

// phoneValidator wraps libphonenumber (github.com/nyaruka/phonenumbers, the
// Go port of Google's library and its metadata). Parsing runs that library's
// regular expressions, so callers only hand it candidates that passed the
// cheap shape checks, and at most a budget per message.
type phoneValidator struct {
	ndd map[string]string // national dialling prefix per region ("0", "1", "")
}

func newPhoneValidator() *phoneValidator {
	p := &phoneValidator{ndd: map[string]string{}}
	for _, rs := range langRegions {
		for _, r := range rs {
			p.ndd[r] = phonenumbers.GetNddPrefixForRegion(r, true)
		}
	}
	return p
}

func phoneRegionKnown(r string) bool {
	return phonenumbers.GetCountryCodeForRegion(r) != 0
}

// valid reports whether digits form a valid number: international (after
// '+' or 00) in any region, national in one of regions. A national number
// in a region whose numbers are dialled with a trunk prefix ("0") must
// start with it: "612345678" is not a French number as written.
func (p *phoneValidator) valid(digits string, intl bool, regions []string, defRegion string) bool {
	if intl {
		if len(digits) < 8 || len(digits) > 15 {
			return false
		}
		num, err := phonenumbers.Parse("+"+digits, "ZZ")
		return err == nil && phonenumbers.IsValidNumber(num)
	}
	if len(digits) < 6 || len(digits) > 13 {
		return false
	}
	try := func(r string) bool {
		ndd, ok := p.ndd[r]
		if !ok {
			ndd = phonenumbers.GetNddPrefixForRegion(r, true)
		}
		if ndd == "0" && digits[0] != '0' {
			return false
		}
		if r == "US" || r == "CA" {
			// NANP: ten digits, or eleven with the leading 1.
			if !(len(digits) == 10 && digits[0] >= '2' || len(digits) == 11 && digits[0] == '1') {
				return false
			}
		}
		num, err := phonenumbers.Parse(digits, r)
		return err == nil && phonenumbers.IsValidNumberForRegion(num, r)
	}
	if defRegion != "" && try(defRegion) {
		return true
	}
	for _, r := range regions {
		if r != defRegion && try(r) {
			return true
		}
	}
	return false
}
