package pii

import (
	"strconv"
	"strings"

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
// Go port of Google's library and its metadata). Its Parse runs many
// regular expressions, so the validator does what Parse would do for the
// plain digit strings the scanner hands it (strip the trunk prefix or find
// the country code) and asks the library only whether the number is valid.
// Callers hand it only candidates that passed the cheap shape and context
// checks, and at most a budget per message.
type phoneValidator struct {
	ndd map[string]string // national dialling prefix per region ("0", "1", "")
	cc  map[string]int    // country calling code per region
}

func newPhoneValidator() *phoneValidator {
	p := &phoneValidator{ndd: map[string]string{}, cc: map[string]int{}}
	for _, rs := range langRegions {
		for _, r := range rs {
			p.region(r)
		}
	}
	return p
}

// region fills the tables for r and reports its calling code (0: unknown).
// Only New calls it for regions outside langRegions (a tenant's default),
// before the engine is shared.
func (p *phoneValidator) region(r string) int {
	if cc, ok := p.cc[r]; ok {
		return cc
	}
	p.ndd[r] = phonenumbers.GetNddPrefixForRegion(r, true)
	p.cc[r] = phonenumbers.GetCountryCodeForRegion(r)
	return p.cc[r]
}

func phoneRegionKnown(r string) bool {
	return phonenumbers.GetCountryCodeForRegion(r) != 0
}

// valid reports whether digits form a valid number of one of regions (or
// of defRegion): international after '+' or 00, or national. A national number
// in a region whose numbers are dialled with a trunk prefix ("0") must
// start with it: "612345678" is not a French number as written.
func (p *phoneValidator) valid(digits string, intl bool, regions []string, defRegion string, anyRegion bool) bool {
	if intl {
		if len(digits) < 8 || len(digits) > 15 {
			return false
		}
		for l := 1; l <= 3; l++ {
			cc, _ := strconv.Atoi(digits[:l])
			if phonenumbers.GetRegionCodeForCountryCode(cc) == "ZZ" {
				continue
			}
			nsn := digits[l:]
			// "+44 020 ...": the trunk zero some people keep after the
			// country code is dropped, as Parse does (Italy keeps it).
			if len(nsn) > 1 && nsn[0] == '0' && cc != 39 {
				nsn = nsn[1:]
			}
			// The contract counts a number as a phone when it is valid for
			// a region of the message's language (a +44 number in an
			// English message, not in a Spanish one), or the tenant's.
			for _, r := range regions {
				if p.cc[r] == cc && checkNumber(cc, nsn, r) {
					return true
				}
			}
			if defRegion != "" && p.cc[defRegion] == cc && checkNumber(cc, nsn, defRegion) {
				return true
			}
			// Config.AnyRegionPhones: the country code names the region.
			return anyRegion && checkNumber(cc, nsn, "")
		}
		return false
	}
	if len(digits) < 6 || len(digits) > 13 {
		return false
	}
	try := func(r string) bool {
		ndd := p.ndd[r]
		nsn := digits
		switch {
		case ndd == "0":
			if digits[0] != '0' {
				return false
			}
			nsn = digits[1:]
		case r == "US" || r == "CA":
			// NANP: ten digits, or eleven with the leading 1.
			if len(nsn) == 11 && nsn[0] == '1' {
				nsn = nsn[1:]
			}
			if len(nsn) != 10 || nsn[0] < '2' {
				return false
			}
		}
		return checkNumber(p.cc[r], nsn, r)
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

// checkNumber asks libphonenumber whether the national significant number
// nsn of calling code cc is valid (in region, when given).
func checkNumber(cc int, nsn, region string) bool {
	if cc == 0 || len(nsn) < 4 || len(nsn) > 14 {
		return false
	}
	nn, err := strconv.ParseUint(nsn, 10, 64)
	if err != nil {
		return false
	}
	cc32 := int32(cc)
	num := &phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &nn}
	if zeros := len(nsn) - len(strings.TrimLeft(nsn, "0")); zeros > 0 {
		lz, z := true, int32(zeros)
		num.ItalianLeadingZero, num.NumberOfLeadingZeros = &lz, &z
	}
	if region != "" {
		return phonenumbers.IsValidNumberForRegion(num, region)
	}
	return phonenumbers.IsValidNumber(num)
}

// repeatWordAt reports a repeat word at j, alone ("double") or glued to
// its digit ("double-oh").
func (d *doc) repeatWordAt(j int) bool {
	lw := d.lw(j)
	if repeatWords[lw] > 0 {
		return true
	}
	i := strings.IndexByte(lw, '-')
	return i > 0 && repeatWords[lw[:i]] > 0
}

var repeatWords = map[string]int{"double": 2, "doppel": 2, "doppelt": 2, "triple": 3, "dreifach": 3, "doble": 2, "dubbel": 2, "doppio": 2}

// scanSpokenPhones finds phone numbers spelled partly or wholly in words
// ("zero six one, two three ...", "null eins sieben null ..."): a run of
// digit words and digits with at least three words and seven digits that
// libphonenumber accepts, or of ten or more digits after a phone cue.
func (d *doc) scanSpokenPhones() {
	n := len(d.toks)
	for k := 0; k < n; k++ {
		if d.toks[k].kind == tNum && d.toks[k].e-d.toks[k].s <= 4 && k+1 < n && d.isWord(k+1) && d.toks[k+1].sp && d.repeatWordAt(k+1) {
			// "07 double-oh 912 664": digits, then a repeat word; the run
			// starts at the digits.
		} else if d.toks[k].kind != tWord || d.toks[k].info&wSpoken == 0 {
			continue
		}
		w := d.lw(k)
		_, isDigitWord := spokenNumbers[w]
		if d.toks[k].kind != tNum && (!isDigitWord && w != "plus" && repeatWords[w] == 0 || w == "un" || w == "une" || w == "ein") {
			continue
		}
		if w == "oh" {
			// "oh seven four ...", "oh 7 7 ...": the leading zero, when a
			// digit word or digits follow (not the interjection "oh, ...").
			if _, next := spokenNumbers[d.lw(k+1)]; k+1 >= n || !(d.isWord(k+1) && next || d.toks[k+1].kind == tNum && d.toks[k+1].e-d.toks[k+1].s <= 2) || d.lw(k+1) == "oh" || !d.toks[k+1].sp {
				continue
			}
		}
		start := k
		intl := false
		if w == "plus" {
			intl = true
		}
		d.buf = d.buf[:0]
		words := 0
		last := k
		rep := 1
		tensPending := false
		repeated := false // a repeat word ("double", "triple") was read
		j := k
		if intl {
			j++
		}
		for ; j < n; j++ {
			tk := &d.toks[j]
			if tk.kind == tPunct {
				c := d.text[tk.s]
				if c == ',' || c == '-' || c == '.' && j+1 < n && !d.toks[j+1].nl {
					continue
				}
				break
			}
			if tk.kind == tNum && tk.e-tk.s <= 4 {
				tensPending = false
				for r := 0; r < rep; r++ {
					d.buf = append(d.buf, d.text[tk.s:tk.e]...)
				}
				rep = 1
				last = j
				continue
			}
			lw := d.lw(j)
			if r := repeatWords[lw]; r > 0 {
				rep = r
				repeated = true
				continue
			}
			if i := strings.IndexByte(lw, '-'); i > 0 && repeatWords[lw[:i]] > 0 {
				// "double-oh", "triple-six": the repeat word glued to its digit.
				if dg, ok := spokenNumbers[lw[i+1:]]; ok && len(dg) == 1 {
					for r := 0; r < repeatWords[lw[:i]]; r++ {
						d.buf = append(d.buf, dg...)
					}
					rep, tensPending, repeated = 1, false, true
					words++
					last = j
					continue
				}
			}
			dg, ok := spokenNumbers[lw]
			if !ok && lw == "o" && words > 0 {
				dg, ok = "0", true
			}
			// "twenty one", "treinta y cuatro", "vingt et un": a tens word
			// then its unit.
			if (lw == "y" || lw == "et" || lw == "and" || lw == "e") && tensPending && j+1 < n {
				continue
			}
			if ok && tensPending && len(dg) == 1 && dg != "0" {
				d.buf[len(d.buf)-1] = dg[0]
				tensPending = false
				words++
				last = j
				continue
			}
			if !ok {
				break
			}
			tensPending = len(dg) == 2 && dg[1] == '0'
			for r := 0; r < rep; r++ {
				d.buf = append(d.buf, dg...)
			}
			rep = 1
			words++
			last = j
			if len(d.buf) > 16 {
				break
			}
		}
		d.work++
		if words >= 3 && len(d.buf) >= 13 && len(d.buf) <= 19 && luhn(d.buf) && cardBrand(d.buf) != "" {
			// "four five three nine 4817 2630 7188": a card number whose
			// first digits are spoken; Luhn and a brand's prefix decide, as
			// for written ones.
			d.add(d.toks[start].s, d.toks[last].e, Card, 0.85, "card-spoken")
			k = last
			continue
		}
		// Digits with words between them need three words, or one repeat
		// word in ten digits or more ("07 double-oh 912 664").
		if words < 3 && !(repeated && words >= 1 && len(d.buf) >= 10) || len(d.buf) < 7 || len(d.buf) > 15 {
			if last > k {
				k = last
			}
			continue
		}
		digits := string(d.buf)
		intlDigits := intl
		if !intl && strings.HasPrefix(digits, "00") {
			intlDigits, digits = true, digits[2:]
		}
		ok := d.phoneBudget > 0 && d.e.phones.valid(digits, intlDigits, langRegions[d.lang], d.e.cfg.region, d.e.cfg.anyRegion)
		d.phoneBudget--
		if !ok && len(d.buf) >= 10 {
			if c, _ := d.cueBefore(start, 8, cuePhone); c != 0 {
				ok = true
			}
		}
		if ok {
			d.add(d.toks[start].s, d.toks[last].e, Phone, 0.85, "phone-spoken")
		}
		k = last
	}
}
