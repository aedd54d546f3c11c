package pii

import "testing"

// Outside probe (session 6): card numbers stored in clear because a card
// stood next to another group of digits. Positives stand beside the
// look-alikes the rule must leave alone.

func TestAdjacentCards(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		// Separated compact numbers are each a candidate; Luhn decides.
		{"en", "cards 4539635403287662 4539891553155015", []string{"CARD:4539635403287662", "CARD:4539891553155015"}},
		{"en", "cards 4539635403287662\n4539891553155015", []string{"CARD:4539635403287662", "CARD:4539891553155015"}},
		{"de", "Karten 4539635403287662, 4539891553155015", []string{"CARD:4539635403287662", "CARD:4539891553155015"}},
		{"en", "card 4539965162895425 1234567890123456", []string{"CARD:4539965162895425"}},
		{"fr", "carte 1234567890123456 4539965162895425", []string{"CARD:4539965162895425"}},
		// A grouped card followed by an expiry or another short group.
		{"en", "4539 9651 6289 5425 0127", []string{"CARD:4539 9651 6289 5425"}},
		{"en", "my card is 4539 9651 6289 5425 2027 thanks", []string{"CARD:4539 9651 6289 5425"}},
		{"es", "tarjeta 4539 9651 6289 5425 0127", []string{"CARD:4539 9651 6289 5425"}},
		{"en", "amex 3782 822463 10005 0128", []string{"CARD:3782 822463 10005"}},
		// Two grouped cards, one a line.
		{"en", "cards:\n4539 9651 6289 5425\n4539 8915 5315 5015", []string{"CARD:4539 9651 6289 5425", "CARD:4539 8915 5315 5015"}},
		// A card broken over a line break stays one span.
		{"en", "it's 4111 1111\n1111 1111", []string{"CARD:4111 1111\n1111 1111"}},
		// Look-alikes: longer numbers, device IDs, barcodes, failing Luhn.
		{"en", "4111 1111 1111 1112 0127 is wrong", nil},
		{"en", "USPS tracking 9400 1000 0000 0000 0000 00", nil},
		{"en", "reference 4539 9651 6289 5425 4111 22", nil},
		{"en", "0127 4539 9651 6289 5425 is the reference", nil},
		{"en", "tracking 4539965162895425012", nil},
		{"en", "IMEI 490154203237518 356938035643809", nil},
		{"de", "IMEI: 490154203237518 und 356938035643809", nil},
		{"de", "EAN 4006381333931 4006381333931", nil},
		{"fr", "SIRET 362 521 879 00034", nil},
		{"nl", "bestelling 1234567812345678 1234567812345670", nil},
		{"it", "carta mascherata **** **** **** 5425 0127", nil},
		{"en", "order 1234567812345678 total €49.99", nil},
	})
}
