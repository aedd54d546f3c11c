// Package tokens defines the token formats of the tokenisation vault and the
// masked views of the values they stand for.
//
// Everything here is a pure function: no storage, no RPC, no clock. The
// vault decides which format a tenant uses, keeps the keys and the
// token-to-value mappings; this package only mints, validates and masks.
//
// Values are personal data (card numbers, e-mail addresses...). No error
// returned by this package ever contains a value or a token: messages name
// the data type and the rule that failed, never the input.
package tokens

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers can test with errors.Is.
var (
	// ErrMalformedToken: a string offered as a token is not one.
	ErrMalformedToken = errors.New("tokens: malformed token")
	// ErrInvalidValue: a value fails the validation rules of its data type.
	ErrInvalidValue = errors.New("tokens: invalid value")
	// ErrUnsupported: the operation is not defined for this data type or
	// value shape (for example format-preserving tokens for dates of birth).
	ErrUnsupported = errors.New("tokens: unsupported")
	// ErrUnknownDataType: a DataType or Format outside the defined set, or a
	// code that names none.
	ErrUnknownDataType = errors.New("tokens: unknown data type")
	// ErrInvalidKey: a key of the wrong length.
	ErrInvalidKey = errors.New("tokens: invalid key")
	// ErrInvalidTweak: an FF1 tweak longer than MaxTweakLen.
	ErrInvalidTweak = errors.New("tokens: invalid tweak")
)

// DataType is the kind of personal data a token stands for. The zero value is
// invalid.
type DataType uint8

const (
	CardNumber DataType = iota + 1
	Email
	Phone
	Name
	PostalAddress
	DateOfBirth
	NationalID
	FreeText
)

// dataTypes lists every valid DataType, in order.
var dataTypes = [...]DataType{CardNumber, Email, Phone, Name, PostalAddress, DateOfBirth, NationalID, FreeText}

// DataTypes returns every valid DataType, in declaration order.
func DataTypes() []DataType { s := dataTypes; return s[:] }

var typeCodes = [...]string{
	CardNumber:    "cc",
	Email:         "em",
	Phone:         "ph",
	Name:          "nm",
	PostalAddress: "ad",
	DateOfBirth:   "db",
	NationalID:    "id",
	FreeText:      "tx",
}

var typeNames = [...]string{
	CardNumber:    "CardNumber",
	Email:         "Email",
	Phone:         "Phone",
	Name:          "Name",
	PostalAddress: "PostalAddress",
	DateOfBirth:   "DateOfBirth",
	NationalID:    "NationalID",
	FreeText:      "FreeText",
}

// Valid reports whether t is one of the defined data types.
func (t DataType) Valid() bool { return t >= CardNumber && t <= FreeText }

// Code returns the short, stable, lower-case code of t used inside tokens
// ("cc", "em", "ph", "nm", "ad", "db", "id", "tx"). It returns "" for an
// invalid DataType. Codes are part of the token format: never change them.
func (t DataType) Code() string {
	if !t.Valid() {
		return ""
	}
	return typeCodes[t]
}

// String returns the Go name of t ("CardNumber", ...), or "DataType(N)".
func (t DataType) String() string {
	if !t.Valid() {
		return fmt.Sprintf("DataType(%d)", uint8(t))
	}
	return typeNames[t]
}

// ParseDataTypeCode returns the DataType whose Code is code. Matching is exact
// (case-sensitive). The code is not echoed in the error.
func ParseDataTypeCode(code string) (DataType, error) {
	if t, ok := typeFromCode(code); ok {
		return t, nil
	}
	return 0, fmt.Errorf("%w: unknown data type code", ErrUnknownDataType)
}

func typeFromCode(code string) (DataType, bool) {
	if len(code) != 2 {
		return 0, false
	}
	for _, t := range dataTypes {
		if typeCodes[t] == code {
			return t, true
		}
	}
	return 0, false
}

// Format is the shape of a token. The zero value is invalid.
type Format uint8

// The Format constants carry a "Format" prefix because the functions that
// mint two of the formats are called Deterministic and FormatPreserving.
const (
	// FormatRandom: "tok_<code>_" + 22 base62 characters of 128 random bits.
	FormatRandom Format = iota + 1
	// FormatDeterministic: "det_<code>_" + 22 base62 characters of a keyed
	// HMAC.
	FormatDeterministic
	// FormatFPE: FF1 ciphertext in the alphabet of the value.
	FormatFPE
	// FormatCard: a card-shaped number deliberately failing the Luhn check,
	// keeping the first 6 and last 4 digits of cards of 16 or more digits
	// (only the last 4 of shorter ones).
	FormatCard
)

var formatNames = [...]string{
	FormatRandom:        "Random",
	FormatDeterministic: "Deterministic",
	FormatFPE:           "FormatPreserving",
	FormatCard:          "Card",
}

// Valid reports whether f is one of the defined formats.
func (f Format) Valid() bool { return f >= FormatRandom && f <= FormatCard }

// String returns the name of f ("Random", "Deterministic",
// "FormatPreserving", "Card"), or "Format(N)".
func (f Format) String() string {
	if !f.Valid() {
		return fmt.Sprintf("Format(%d)", uint8(f))
	}
	return formatNames[f]
}
