package pii

import "testing"

// Round 15: blind10's failure classes, fixed by general rules. Sentences of
// our own; none is taken from the split. Every positive row was seen
// failing on round 14's engine.

// A code that expired and the new one named by its version in the next
// clause or sentence: the expiry word no longer ends the walk, the value of
// the code that replaced it is read (secret_clause.go, afterExpiry).
func TestRound15ExpiredThenNew(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "the sms code ran out before i typed it, it expired. new one is 552 901 pls hurry", []string{"SECRET:552 901"}},
		{"en", "The SMS code expired, but the new one is 552 901.", []string{"SECRET:552 901"}},
		{"de", "Der SMS-Code ist abgelaufen, der neue ist 771 204.", []string{"SECRET:771 204"}},
		{"fr", "Le code SMS a expiré. Le nouveau c'est 448 120.", []string{"SECRET:448 120"}},
		{"es", "El código SMS ha caducado antes de que pudiera escribirlo. El nuevo es 663 018.", []string{"SECRET:663 018"}},
		{"it", "Il codice OTP è scaduto prima che riuscissi a scriverlo. Il nuovo è 902 317.", []string{"SECRET:902 317"}},
		{"nl", "De sms-code is verlopen voordat ik hem kon intypen. De nieuwe is 318 442.", []string{"SECRET:318 442"}},
		// Look-alikes: a discount code's successor, a card, no value.
		{"en", "The discount code expired, the new one is SUMMER10.", nil},
		{"en", "The login code expired on 12 May. New one from tomorrow.", nil},
	})
}

// A code for collecting a parcel: a pickup verb after the code's purpose
// preposition makes it a pickup code (the contract's parcel-locker codes),
// and the order or parcel named with the verb is what it releases, not a
// reference (secret.go, pickupVerbs, lockerCue, otpAhead).
func TestRound15PickupCode(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "El código para recoger mi paquete es 5120-88 y la puerta no se abre.", []string{"SECRET:5120-88"}},
		{"it", "Il codice per ritirare il mio ordine è 6604-31, ma non funziona.", []string{"SECRET:6604-31"}},
		{"fr", "Le code pour retirer mon colis est 5120-88, il ne marche pas.", []string{"SECRET:5120-88"}},
		{"de", "Der Code zum Abholen des Pakets ist 3390-14, geht aber nicht.", []string{"SECRET:3390-14"}},
		{"nl", "De code om het pakket op te halen is 6612-05, maar het vak blijft dicht.", []string{"SECRET:6612-05"}},
		{"en", "The code to collect my parcel is 4471-20 but the door stays shut.", []string{"SECRET:4471-20"}},
		// Look-alikes: the order's own number, a discount code.
		{"es", "El código para recoger es el número de pedido 4471-20.", nil},
		{"en", "Use the discount code SAVE10 to collect points.", nil},
		{"en", "Article 4471-20 is ready to collect at the store.", nil},
	})
}
