package assistant

import (
	"regexp"
	"strings"
	"unicode"
)

// Intent is what a message asks for.
type Intent string

// The intents the built-in assistant recognises.
const (
	HandOff         Intent = "hand_off"
	Refund          Intent = "refund"
	DeliveryAddress Intent = "delivery_address"
	Return          Intent = "return"
	OrderStatus     Intent = "order_status"
	Recommend       Intent = "recommend"
	ProductQuestion Intent = "product"
	OpeningHours    Intent = "opening_hours"
	Greeting        Intent = "greeting"
	Unknown         Intent = "unknown"
)

// cues are phrases per intent in the six languages of pkg/pii, checked in
// this order (the first match wins, so "return" outranks "order"). A
// phrase matches whole words; one ending in "*" matches words starting so.
// Phrases are compared after normalise.
var cues = []struct {
	intent  Intent
	phrases []string
}{
	{HandOff, []string{"human", "real person", "speak to someone", "talk to someone", "agent", "mitarbeiter*", "mensch",
		"humain", "un conseiller", "agente", "persona real", "medewerker", "operatore", "persona reale"}},
	{Refund, []string{"refund*", "money back", "rückerstattung", "erstattung", "geld zurück", "rembours*", "reembolso",
		"terugbetaling", "geld terug", "rimbors*"}},
	{DeliveryAddress, []string{"delivery address", "shipping address", "change address", "change my address",
		"lieferadresse", "versandadresse", "adresse de livraison", "dirección de entrega", "dirección de envío",
		"bezorgadres", "afleveradres", "indirizzo di consegna", "indirizzo di spedizione"}},
	{Return, []string{"return*", "send back", "retoure*", "rücksend*", "zurücksend*", "zurückschick*", "retour*",
		"renvoy*", "devol*", "terugstur*", "reso", "restitu*"}},
	{OrderStatus, []string{"order status", "where is my order", "where s my order", "where is order", "status of my order", "status of order", "track*", "my order", "order number",
		"bestellstatus", "meine bestellung", "bestellnummer", "sendungsverfolgung", "où est ma commande", "ma commande",
		"suivi", "mi pedido", "estado del pedido", "número de pedido", "mijn bestelling", "bestelstatus", "bestelnummer",
		"il mio ordine", "stato dell ordine", "numero d ordine", "numero dell ordine"}},
	{Recommend, []string{"recommend*", "suggest*", "empfehl*", "empfiehl*", "recommand*", "conseillez*", "recomiend*",
		"recomend*", "aanbevel*", "aanrad*", "consigli*"}},
	{ProductQuestion, []string{"price", "cost*", "how much", "in stock", "available", "preis", "kostet", "wie viel", "lager",
		"verfügbar", "prix", "coût*", "combien", "en stock", "disponible*", "precio", "cuest*", "cuánto", "prijs", "kost",
		"hoeveel", "voorraad", "beschikbaar", "prezzo", "quanto", "disponibil*"}},
	{OpeningHours, []string{"opening hours", "open*", "hours", "öffnungszeit*", "geöffnet", "horaire*", "ouvert*",
		"horario*", "abierto*", "openingstijd*", "orari*", "aperto*"}},
	{Greeting, []string{"hello", "hi", "hey", "good morning", "hallo", "guten tag", "moin", "bonjour", "salut", "hola",
		"buenos días", "buenas", "hoi", "goedemorgen", "goedendag", "ciao", "buongiorno"}},
}

var (
	// anyPlaceholderRE is any placeholder the message path gives out; the
	// classifier ignores them (an "[EMAIL_1]" is not the word "email").
	anyPlaceholderRE = regexp.MustCompile(`\[[A-Z]+_[1-9][0-9]*\]`)
	contactRE        = regexp.MustCompile(`\[(?:EMAIL|PHONE)_[1-9][0-9]*\]`)
	addressRE        = regexp.MustCompile(`\[ADDRESS_[1-9][0-9]*\]`)
	numberInTextRE   = regexp.MustCompile(`(?:^|[^0-9])([0-9]{5,10})(?:[^0-9]|$)`)
)

// normalise lower-cases text, drops placeholders and turns everything but
// letters and digits into single spaces, with a space at both ends, so
// that phrases match whole words.
func normalise(text string) string {
	text = anyPlaceholderRE.ReplaceAllString(text, " ")
	var b strings.Builder
	b.Grow(len(text) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(text) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// compiled cues: each phrase normalised, as the substring to look for.
var compiled = func() [][]string {
	out := make([][]string, len(cues))
	for i, c := range cues {
		for _, p := range c.phrases {
			if stem, ok := strings.CutSuffix(p, "*"); ok {
				out[i] = append(out[i], strings.TrimSuffix(normalise(stem), " "))
			} else {
				out[i] = append(out[i], normalise(p))
			}
		}
	}
	return out
}()

// Classify returns the intent of a message's placeholder text. Cues of all
// six languages are checked whatever the message's language: customers
// mix them.
func Classify(text string) Intent {
	t := normalise(text)
	for i, c := range cues {
		for _, p := range compiled[i] {
			if strings.Contains(t, p) {
				return c.intent
			}
		}
	}
	return Unknown
}

// orderNumber is the first order number in text (five to ten digits; the
// PII engine leaves them as typed).
func orderNumber(text string) string {
	m := numberInTextRE.FindStringSubmatch(anyPlaceholderRE.ReplaceAllString(text, " "))
	if m == nil {
		return ""
	}
	return m[1]
}

// needsOrder: the intents that act on one order.
func needsOrder(i Intent) bool {
	switch i {
	case OrderStatus, Return, Refund, DeliveryAddress:
		return true
	}
	return false
}
