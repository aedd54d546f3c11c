package signals

import (
	"regexp"
	"strings"
)

// orderNumber finds order-number-shaped strings in placeholder text: a
// number of four to twelve digits (or a code like ORD-2026-00042) after
// an order word of the six languages or a "#", and shop-style codes with
// a letter prefix. Personal data is already placeholders here, so a
// phone number or card is never taken for an order.
var orderNumber = regexp.MustCompile(`(?i)(?:\b(?:order|orders|order no|order number|order id|bestellung|bestellnummer|auftrag|auftragsnummer|commande|numéro de commande|pedido|número de pedido|bestelling|bestelnummer|ordine|numero d'ordine|numero ordine)\b(?:\s*(?:nr|no|num|number|nummer|numéro|número|numero|n)\b\.?)?[\s:#º°-]{0,4}|#\s?)([A-Z]{0,4}-?\d{4,12}(?:-\d{1,8})?)\b|\b([A-Z]{2,4}-\d{4,12}(?:-\d{1,8})?)\b`)

// maxOrders bounds the numbers counted from one message.
const maxOrders = 50

// OrderNumbers returns the distinct order numbers in text, upper-cased
// and without separators, so that "#ord-123456" and "ORD123456" count as
// one.
func OrderNumbers(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range orderNumber.FindAllStringSubmatch(text, maxOrders) {
		n := m[1]
		if n == "" {
			n = m[2]
		}
		n = strings.ToUpper(strings.ReplaceAll(n, "-", ""))
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}
