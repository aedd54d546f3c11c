package tokens

import (
	"errors"
	"testing"
)

func TestDataTypeCodes(t *testing.T) {
	want := map[DataType]string{
		CardNumber: "cc", Email: "em", Phone: "ph", Name: "nm",
		PostalAddress: "ad", DateOfBirth: "db", NationalID: "id", FreeText: "tx",
	}
	if got := len(DataTypes()); got != len(want) {
		t.Fatalf("DataTypes() has %d entries, want %d", got, len(want))
	}
	for _, dt := range DataTypes() {
		t.Run(dt.String(), func(t *testing.T) {
			if got := dt.Code(); got != want[dt] {
				t.Fatalf("Code() = %q, want %q", got, want[dt])
			}
			back, err := ParseDataTypeCode(dt.Code())
			if err != nil || back != dt {
				t.Fatalf("ParseDataTypeCode(%q) = %v, %v; want %v", dt.Code(), back, err, dt)
			}
		})
	}
	if CardNumber != 1 {
		t.Fatalf("CardNumber = %d, want 1 (0 is invalid)", CardNumber)
	}
}

func TestInvalidDataType(t *testing.T) {
	for _, dt := range []DataType{0, FreeText + 1, 255} {
		if dt.Valid() || dt.Code() != "" {
			t.Errorf("%v: Valid() = %v, Code() = %q", dt, dt.Valid(), dt.Code())
		}
		if _, err := NewRandom(dt); !errors.Is(err, ErrUnknownDataType) {
			t.Errorf("NewRandom(%v) error = %v", dt, err)
		}
		if _, err := Normalize(dt, "x"); !errors.Is(err, ErrUnknownDataType) {
			t.Errorf("Normalize(%v) error = %v", dt, err)
		}
		if _, err := Deterministic(make([]byte, KeySize), dt, "x"); !errors.Is(err, ErrUnknownDataType) {
			t.Errorf("Deterministic(%v) error = %v", dt, err)
		}
		if _, err := FormatPreserving(make([]byte, KeySize), nil, dt, "x"); !errors.Is(err, ErrUnknownDataType) {
			t.Errorf("FormatPreserving(%v) error = %v", dt, err)
		}
		if _, err := ParseAs("x", dt); !errors.Is(err, ErrUnknownDataType) {
			t.Errorf("ParseAs(%v) error = %v", dt, err)
		}
		if got := Mask(dt, "secret"); got != "•••" {
			t.Errorf("Mask(%v) = %q", dt, got)
		}
	}
}

func TestParseDataTypeCodeRejects(t *testing.T) {
	for _, code := range []string{"", "c", "CC", "Cc", "ccc", "xx", " cc", "cc\x00"} {
		t.Run(code, func(t *testing.T) {
			if dt, err := ParseDataTypeCode(code); !errors.Is(err, ErrUnknownDataType) {
				t.Fatalf("ParseDataTypeCode = %v, %v; want ErrUnknownDataType", dt, err)
			}
		})
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{
		FormatRandom: "Random", FormatDeterministic: "Deterministic",
		FormatFPE: "FormatPreserving", FormatCard: "Card", 0: "Format(0)", 9: "Format(9)",
	} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", uint8(f), got, want)
		}
	}
	if FormatRandom != 1 {
		t.Fatalf("FormatRandom = %d, want 1 (0 is invalid)", FormatRandom)
	}
}
