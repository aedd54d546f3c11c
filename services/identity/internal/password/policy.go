package password

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/text/unicode/norm"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// NIST SP 800-63B-4 section 3.1.1.2 lengths, in Unicode code points after
// normalisation: at least 15 when the password is the only factor, 8 when
// it is used with a second factor; at least 64 must be allowed (Sotto
// allows 128, the API's limit).
const (
	MinLengthSingleFactor = 15
	MinLengthWithMFA      = 8
	MaxLength             = 128
)

// MinScore is the lowest zxcvbn score accepted: 3, "safely unguessable:
// moderate protection from an offline slow-hash scenario" (fewer than
// 10^10 guesses is 0-2).
const MinScore = 3

// StrengthInputMax bounds the characters zxcvbn is given: its matchers are
// superlinear in the input (the review measured up to ~84 ms for some
// 128-character inputs, ~10 ms at 64), and a check runs before any
// throttling by account, so an unbounded input is a cheap way to burn CPU.
// Only the first StrengthInputMax characters are scored. That can only
// refuse more: a password whose first 64 characters are already "safely
// unguessable" is at least as strong whole; one whose prefix is guessable
// (64 characters of repetition followed by something random) is refused,
// and its owner picks another.
const StrengthInputMax = 64

// commonList is the common-password list (see its header for the source).
//
//go:embed common-passwords.txt
var commonList []byte

// Policy checks new passwords. It has no composition rules (SP 800-63B:
// none may be imposed); it refuses passwords that are short, common (the
// embedded list) or guessable (zxcvbn's estimate, with the account's own
// context words). Every failure of the check itself refuses the password.
type Policy struct {
	common map[string]struct{}
	// strength is zxcvbn.PasswordStrength; a field so a test can make it
	// panic and see the policy fail closed.
	strength func(string, []string) zxcvbn.Result
}

// NewPolicy loads the embedded list.
func NewPolicy() (*Policy, error) {
	p := &Policy{common: map[string]struct{}{}, strength: zxcvbn.PasswordStrength}
	sc := bufio.NewScanner(bytes.NewReader(commonList))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p.common[strings.ToLower(line)] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	// An empty list would pass everything it should refuse.
	if len(p.common) < 10000 {
		return nil, fmt.Errorf("password: common-password list has %d entries; it is damaged", len(p.common))
	}
	return p, nil
}

// Check refuses a new password that breaks the rules. withMFA says whether
// the account has an active second factor (the 8-character minimum applies
// then, 15 otherwise). context are words the password must not be built on:
// the parts of the e-mail address, the shop, the service's name.
func (p *Policy) Check(password string, withMFA bool, context []string) (err error) {
	if err := checkText(password); err != nil {
		return err
	}
	pw := norm.NFKC.String(password)
	n := utf8.RuneCountInString(pw)
	minLen := MinLengthSingleFactor
	if withMFA {
		minLen = MinLengthWithMFA
	}
	switch {
	case n < minLen:
		return errs.E(errs.InvalidArgument, reasons.PasswordTooShort, "the password needs at least %d characters", minLen)
	case n > MaxLength:
		return errs.E(errs.InvalidArgument, reasons.PasswordTooLong, "the password may have at most %d characters", MaxLength)
	}
	lower := strings.ToLower(pw)
	if _, ok := p.common[lower]; ok {
		return errWeak()
	}
	// A repeated common password ("passwordpassword") or one with a digit
	// run appended is the list's password for the guesser.
	if _, ok := p.common[strings.TrimRightFunc(lower, unicode.IsDigit)]; ok {
		return errWeak()
	}
	defer func() {
		// zxcvbn is pure Go over the input; should it ever panic, the
		// password is refused, never accepted unchecked.
		if r := recover(); r != nil {
			err = errs.E(errs.InvalidArgument, reasons.PasswordCheckFailed, "the password could not be checked; choose another")
		}
	}()
	scored := pw
	if n > StrengthInputMax {
		scored = string([]rune(pw)[:StrengthInputMax])
	}
	if res := p.strength(scored, contextWords(context)); res.Score < MinScore {
		return errWeak()
	}
	return nil
}

func errWeak() error {
	return errs.E(errs.InvalidArgument, reasons.PasswordTooWeak, "the password is too common or too easy to guess; choose a longer or less predictable one")
}

// contextWords splits the context (an e-mail address into its local part
// and domain labels) into the words zxcvbn penalises.
func contextWords(context []string) []string {
	out := []string{"sotto"}
	for _, c := range context {
		for _, w := range strings.FieldsFunc(strings.ToLower(c), func(r rune) bool {
			return r == '@' || r == '.' || r == '+' || r == '-' || r == '_' || unicode.IsSpace(r)
		}) {
			if len(w) >= 3 {
				out = append(out, w)
			}
		}
		out = append(out, strings.ToLower(c))
	}
	return out
}

// checkText refuses input that is not text: invalid UTF-8 and control
// characters (SP 800-63B allows every printing character and space).
func checkText(password string) error {
	if !utf8.ValidString(password) {
		return errs.E(errs.InvalidArgument, reasons.PasswordInvalid, "the password is not valid UTF-8")
	}
	for _, r := range password {
		if unicode.IsControl(r) {
			return errs.E(errs.InvalidArgument, reasons.PasswordInvalid, "the password contains control characters")
		}
	}
	return nil
}
