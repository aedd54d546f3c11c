// Package assistant is the built-in shop assistant: deterministic replies
// from recognised intents, no model. It reads and writes placeholder text
// only ("[EMAIL_1]"); the values stay in the token vault.
package assistant

import (
	"regexp"
	"strings"
)

// Intent is what a message asks for.
type Intent string

// The intents the assistant recognises.
const (
	OrderStatus  Intent = "order_status"
	Return       Intent = "return"
	OpeningHours Intent = "opening_hours"
	Greeting     Intent = "greeting"
	Unknown      Intent = "unknown"
)

// cues are lower-case phrases per intent, in the six languages of pkg/pii,
// checked in this order (the first match wins).
var cues = []struct {
	intent  Intent
	phrases []string
}{
	{OrderStatus, []string{"order status", "where is my order", "where's my order", "track my order", "tracking",
		"wo ist meine bestellung", "bestellstatus", "où est ma commande", "suivi de commande", "dónde está mi pedido",
		"estado de mi pedido", "waar is mijn bestelling", "dov'è il mio ordine", "stato del mio ordine"}},
	{Return, []string{"return", "refund", "retoure", "rücksendung", "retour", "remboursement", "devolución", "reembolso",
		"terugsturen", "reso", "rimborso"}},
	{OpeningHours, []string{"opening hours", "open today", "öffnungszeiten", "horaires", "horario", "openingstijden", "orari"}},
	{Greeting, []string{"hello", "hey", "hallo", "bonjour", "hola", "ciao", "good morning"}},
}

// placeholderRE finds the customer's placeholders of one type.
var placeholderRE = regexp.MustCompile(`\[(EMAIL|PHONE)_[1-9][0-9]*\]`)

// Classify returns the intent of a message's placeholder text.
func Classify(text string) Intent {
	t := strings.ToLower(text) + " "
	for _, c := range cues {
		for _, p := range c.phrases {
			if strings.Contains(t, p) {
				return c.intent
			}
		}
	}
	return Unknown
}

// Reply answers a message's placeholder text. A reply may name the
// customer's own placeholders (where to send something); it never holds a
// value, since it only ever sees placeholders.
func Reply(text string) string {
	contact := placeholderRE.FindString(text)
	switch Classify(text) {
	case OrderStatus:
		if contact != "" {
			return "I can help with your order status. I will send the tracking details to " + contact + "."
		}
		return "I can help with your order status. Please tell me your order number."
	case Return:
		return "You can return items within 30 days. I can start a return for you once you are signed in."
	case OpeningHours:
		return "Our customer service is available Monday to Friday, 9:00 to 18:00."
	case Greeting:
		return "Hello! How can I help you today?"
	default:
		return "Thank you for your message. How can I help you: order status, returns or opening hours?"
	}
}
