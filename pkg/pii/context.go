package pii

import (
	"bytes"
	"strings"
)

// Context cues: words that say what a nearby number or code is. A cue is
// looked for among the few tokens before a candidate (and, for some
// classes, right after it), in the same sentence; the nearest cue of the
// classes asked for decides. Words such as "number", "Nummer", "numéro",
// "no." belong to no class, so "order number 0612345678" is decided by
// "order" and "phone number" by "phone".

type cueClass uint32

const (
	cueRef      cueClass = 1 << iota // order, tracking, invoice, customer, return ... numbers: not personal
	cuePhone                         // telephone words
	cueCard                          // payment card words
	cueDevice                        // IMEI, serial, EAN/GTIN, SKU: not a card or ID
	cueCompany                       // VAT, SIRET, KvK, P.IVA, CIF: company IDs
	cueSSN                           // US social security
	cueBSN                           // Dutch citizen service number
	cueTaxID                         // German Steuer-ID and generic national ID words
	cuePassword                      // passwords
	cueOTP                           // one-time codes, TANs, PINs, pickup codes
	cueKey                           // API keys, tokens, secrets
	cuePromo                         // promo and discount codes: not secret
	cueVersion                       // version strings
	cueMoney                         // prices and amounts
	cueDate                          // date words that make a number a date or time
)

var cueWords = buildCueWords()

func buildCueWords() map[string]cueClass {
	cueWords := map[string]cueClass{}
	addCues := func(c cueClass, words ...string) {
		for _, w := range words {
			cueWords[w] |= c
		}
	}
	addCues(cueRef,
		// en
		"order", "orders", "ordered", "tracking", "track", "trackingnumber", "shipment", "consignment",
		"invoice", "receipt", "customer", "account", "reference", "ref", "return", "returns", "rma", "transaction", "txn",
		"ticket", "confirmation", "membership", "loyalty", "voucher", "sku",
		"article", "model", "batch", "lot", "serial", "waybill", "awb", "refund", "payment",
		"id", "postcode", "postal", "zip", "routing", "sort", "swift", "bic", "iban",
		// de
		"bestellung", "bestellnummer", "bestellnr", "auftrag", "auftragsnummer", "sendung", "sendungsnummer", "paket",
		"paketnummer", "rechnung", "rechnungsnummer", "kunde", "kunden", "kundennummer", "kundennr", "referenz",
		"retoure", "rücksendung", "retourennummer", "vorgang", "vorgangsnummer", "transaktion", "artikel", "artikelnummer",
		"konto", "kontonummer", "mitgliedsnummer", "lieferschein", "gutschein",
		"charge", "chargennummer", "plz", "blz", "aktenzeichen", "fall",
		// fr
		"commande", "colis", "suivi", "facture", "client", "référence", "reference", "retour", "remboursement",
		"transaction", "article", "envoi", "expédition", "dossier", "compte", "réservation", "bon",
		"adhérent", "fidélité", "lot", "ticket",
		// es
		"pedido", "envío", "envio", "seguimiento", "factura", "cliente", "referencia", "devolución", "devolucion",
		"transacción", "transaccion", "artículo", "articulo", "paquete", "expediente", "cuenta", "reserva",
		"socio", "lote", "albarán", "albaran", "localizador",
		// nl
		"bestelling", "bestelnummer", "ordernummer", "zending", "pakket", "trackingnummer", "factuur", "factuurnummer",
		"klant", "klantnummer", "referentie", "retour", "retourzending", "transactie", "artikelnummer", "levering",
		"dossiernummer", "rekening", "rekeningnummer", "lidnummer", "postcode",
		"kenmerk", "betalingskenmerk", "referentienummer", "zaaknummer", "dossier", "ordernr", "bestelnr", "klantreferentie",
		// it
		"ordine", "spedizione", "tracciamento", "fattura", "cliente", "riferimento", "reso", "transazione", "articolo",
		"pacco", "pratica", "conto", "prenotazione", "tessera", "lotto", "negozio",
		// receipts, in the six languages
		"kassenbon", "kassenzettel", "quittung", "beleg", "belegnummer", "quittance", "recibo", "tique",
		"bonnetje", "kassabon", "kassaticket", "scontrino", "ricevuta", "art", "artnr", "art-nr", "item", "items", "cod",
		// Short forms of "reference" ("réf. exacte :", "Rif.", "Ref-Nr.").
		"réf", "rif", "refnr", "ref-nr", "referenznummer", "referencia:", "rif.",
	)
	addCues(cuePhone,
		"phone", "telephone", "tel", "tel.", "mobile", "mob", "cell", "cellphone", "call", "ring", "text", "whatsapp",
		"landline", "fax", "hotline", "dial", "reach", "contact", "callback", "phoned", "calling", "number:", "ph",
		"telefon", "telefonnummer", "handy", "handynummer", "mobilnummer", "festnetz", "anrufen", "rufen", "erreichbar",
		"rückruf", "ruf", "mobil", "téléphone", "telephone", "portable", "numéro", "appeler", "appelez", "joindre", "tél",
		"fixe", "mobile", "teléfono", "telefono", "móvil", "movil", "llamar", "llámame", "llamadme", "celular", "fijo",
		"telefoon", "telefoonnummer", "mobiel", "mobieltje", "gsm", "bellen", "bel", "nummer", "cellulare", "cell.",
		"chiamare", "chiamami", "chiamatemi", "fisso", "recapito", "numero", "wa", "signal", "telegram",
		// Call-back verbs ("me rappeler au …", "zurückrufen unter …").
		"rappeler", "rappelez", "rappelez-moi", "rappelle", "rappelle-moi", "recontacter", "zurückrufen",
		"zurückgerufen", "terugbellen", "terugbelt", "richiamare", "richiamami", "richiamatemi", "llamarme",
		"llámenme", "llamenme", "richiamarmi", "chiamarmi", "contattarmi", "ricontattarmi", "richiamarci",
		"rappelez-nous", "appelez-moi", "joignable", "anrufen", "rückrufen", "contactarme", "llamarnos", "bel me",
		"belt", "beltu",
	)
	// "nummer", "numero", "numéro" are also reference words; as phone cues
	// they only count when nothing more specific is nearer.
	for _, w := range []string{"nummer", "numero", "numéro", "número", "number:"} {
		cueWords[w] = cuePhone
	}
	addCues(cueCard,
		"card", "cards", "credit", "debit", "visa", "mastercard", "amex", "maestro", "kreditkarte", "karte", "karten",
		"kartennummer", "carte", "bancaire", "cb", "tarjeta", "crédito", "credito", "débito", "pas", "creditcard",
		"kaart", "carta", "pan", "cc",
	)
	addCues(cueDevice,
		"imei", "imei1", "imei2", "serial", "serienummer", "seriennummer", "sn", "s/n", "ean", "gtin", "upc", "barcode",
		"isbn", "sku", "asin", "mpn", "strichcode", "code-barres", "código", "barras", "streepjescode", "barcodes",
		"seriale", "matricola", "numéro de série", "série", "serie", "modelnummer", "modellnummer", "tracking", "1z",
		"ups", "usps", "dhl", "fedex", "gls", "dpd", "hermes", "colissimo", "chronopost", "seur", "correos", "postnl", "brt", "sda",
	)
	addCues(cueCompany,
		"vat", "ust", "ust-id", "ust-idnr", "ustid", "ustidnr", "umsatzsteuer", "steuernummer", "tva", "siret", "siren",
		"iva", "p.iva", "piva", "partita", "cif", "nif", "btw", "btw-nummer", "kvk", "handelsregister", "hrb", "registro",
		"company", "firma", "société", "empresa", "bedrijf", "azienda", "eori", "duns", "ein", "rcs", "ape", "naf",
		// Enterprise numbers (Belgian KBO/BCE, "numéro d'entreprise").
		"entreprise", "d'entreprise", "d’entreprise", "ondernemingsnummer", "onderneming", "kbo", "bce",
		"unternehmensnummer", "enterprise", "impresa", "d'impresa",
	)
	addCues(cueSSN, "ssn", "ss#", "social", "security", "ssa", "itin", "tin")
	addCues(cueBSN, "bsn", "burgerservicenummer", "sofinummer", "sofi")
	addCues(cueTaxID,
		"steuer-id", "steuerid", "steuer-identifikationsnummer", "identifikationsnummer", "steueridentifikationsnummer",
		"idnr", "tin", "nino", "ni", "insurance", "national", "dni", "nie", "nir", "insee", "sécu", "secu",
		"sécurité", "fiscale", "cf", "identity", "id-nummer", "ausweis", "personalausweis", "passport",
		"reisepass", "identité", "identidad", "documento", "identiteitsnummer", "identificación", "identificazione",
		"carte vitale", "vitale", "persoonsnummer", "steuer",
	)
	addCues(cuePassword,
		"password", "passwort", "kennwort", "passwd", "pwd", "pw", "mdp", "passe", "contraseña", "contrasena", "clave",
		"wachtwoord", "parola", "passphrase", "login", "passcode", "pass", "passwordt", "zugangsdaten", "credentials",
		"wifi", "wlan", "wi-fi",
	)
	addCues(cueOTP,
		"otp", "tan", "pin", "2fa", "mfa", "sms-code", "smscode", "verification", "verify", "verifizierungscode",
		"bestätigungscode", "sicherheitscode", "einmalcode", "einmalpasswort", "abholcode", "pickup", "locker",
		"packstation", "vérification", "confirmation", "código", "verificación", "verificacion", "verificatiecode",
		"verificatie", "bevestigingscode", "ophaalcode", "codice", "verifica", "conferma", "ritiro", "3ds", "3-d",
		"3d", "securecode", "mobiletan", "pushtan", "smstan", "one-time", "onetime", "einmal", "sms", "login-code",
		"logincode", "authentication", "authenticator", "auth", "zugangscode", "code", "codes", "token", "pincode",
		// Parcel lockers ("Pakketkluis code: …").
		"pakketkluis", "kluis", "paketkasten", "abholfach", "paketstation", "consigne", "casier", "casillero", "armadietto",
	)
	addCues(cueKey,
		"key", "apikey", "api", "api-key", "api_key", "token", "secret", "bearer", "access", "webhook", "schlüssel",
		"clé", "cle", "clave", "sleutel", "chiave", "credentials", "client_secret", "signing", "private",
	)
	addCues(cuePromo,
		"promo", "promocode", "promo-code", "discount", "coupon", "voucher", "gutschein", "gutscheincode", "rabatt",
		"rabattcode", "aktionscode", "réduction", "reduction", "remise", "promotionnel", "descuento", "cupón", "cupon",
		"korting", "kortingscode", "kortingsbon", "actiecode", "sconto", "buono", "referral", "gift", "geschenkkarte",
		"giftcard", "cadeaubon", "offer", "sale", "saldi", "rebajas", "soldes",
	)
	addCues(cueVersion, "version", "v", "ver", "firmware", "fw", "build", "release", "update", "versión", "versione", "versie")
	addCues(cueMoney,
		"€", "$", "£", "eur", "euro", "euros", "usd", "gbp", "chf", "dollar", "dollars", "pounds", "franken", "price",
		"preis", "prix", "precio", "prijs", "prezzo", "total", "totaal", "totale", "betrag", "montant", "importe", "bedrag",
		"importo", "cost", "kosten", "coût", "coste", "costo", "paid", "bezahlt", "payé", "pagado", "betaald", "pagato",
	)
	return cueWords
}

// cueBefore returns the classes of the nearest cue word (one whose classes
// meet mask) among the window tokens before token k, in the same sentence,
// and its distance in tokens (0 when none).
func (d *doc) cueBefore(k, window int, mask cueClass) (cueClass, int) {
	dist := 0
	for j := k - 1; j >= 0 && dist < window; j-- {
		tk := &d.toks[j]
		if tk.kind == tPunct {
			c := d.text[tk.s]
			if c == '!' || c == '?' || c == '.' && j > 0 && (d.toks[j-1].kind == tNum || d.toks[j-1].letters > 4 && d.cueOf(j-1) == 0) && d.toks[j+1].sp {
				// A cue word before the dot abbreviates ("Artikel-Nr.",
				// "Beleg-Nr."): no sentence end.
				return 0, 0
			}
			if d.toks[j+1].nl && c != ':' {
				return 0, 0
			}
			continue
		}
		dist++
		if c := d.cueOf(j) & mask; c != 0 {
			return c, dist
		}
		if tk.nl && (j == 0 || !d.isPunct(j-1, ':')) {
			return 0, 0
		}
	}
	return 0, 0
}

// cueBeforeAt is cueBefore that also returns the cue's token (-1: none).
func (d *doc) cueBeforeAt(k, window int, mask cueClass) (cueClass, int) {
	c, dist := d.cueBefore(k, window, mask)
	if c == 0 {
		return 0, -1
	}
	for j := k - 1; j >= 0; j-- {
		if d.toks[j].kind == tPunct {
			continue
		}
		if dist--; dist == 0 {
			return c, j
		}
	}
	return 0, -1
}

// genericNumber are the words that say "number" and nothing more: whose
// number it is comes from the words around them.
var genericNumber = set(strings.Fields(`number number: nummer numéro número numero`))

// accountWords name a customer account or profile, whose phone number a
// customer may give ("my number for the account").
var accountWords = set(strings.Fields(`account konto kundenkonto compte cuenta conto profile profil profiel perfil profilo`))

// numberLinkWords stand between "number" and the noun it belongs to.
var numberLinkWords = set(strings.Fields(`of for on in the my your his her für für das dem den im auf vom de du des pour sur dans le la les l' mon ma son sa del de la el en mi su di del dello della per sul nel il lo l' mio mia suo sua van voor bij op in het de mijn uw zijn haar on`))

// numberOf decides what the generic number word at token j is: a reference
// when a reference word follows directly (número de pedido, numéro de
// commande, numero d'ordine), a phone when an account follows after an
// article or possessive (my number for the account, nummer für das Konto,
// número de la cuenta), otherwise a phone as before.
func (d *doc) numberOf(j int) cueClass {
	linked, art := false, false
	for m := j + 1; m < len(d.toks) && m <= j+4; m++ {
		tk := &d.toks[m]
		if tk.nl {
			break
		}
		if tk.kind == tPunct {
			if d.isPunct(m, '\'') {
				continue
			}
			break
		}
		raw := d.lw(m)
		w := unElide(raw)
		if w != raw && linked {
			art = true // per l'account, de l'ordre
		}
		if numberLinkWords[w] && m < j+4 {
			if linked {
				art = true
			}
			linked = true
			continue
		}
		c := d.cueOf(m)
		if c&cueRef == 0 {
			break
		}
		if accountWords[w] && art {
			return cuePhone
		}
		// "le numéro de la commande": the order's number.
		return cueRef
	}
	return cuePhone
}

// cueAfter is cueBefore looking forwards from the token after last.
func (d *doc) cueAfter(last, window int, mask cueClass) (cueClass, int) {
	dist := 0
	for j := last + 1; j < len(d.toks) && dist < window; j++ {
		tk := &d.toks[j]
		if tk.nl {
			return 0, 0
		}
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' || c == '!' || c == '?' || c == ';' {
				return 0, 0
			}
			continue
		}
		dist++
		if c := d.cueOf(j) & mask; c != 0 {
			return c, dist
		}
	}
	return 0, 0
}

// unElide drops an elided article or preposition (l'account, dell'ordine).
func unElide(w string) string {
	for i := 0; i < len(w) && i < 6; i++ {
		if w[i] == '\'' && i+1 < len(w) {
			return w[i+1:]
		}
		if strings.HasPrefix(w[i:], "’") && i+3 < len(w) {
			return w[i+3:]
		}
	}
	return w
}

// genericNumberBefore returns the generic number word among the window
// words before token k on its line ("my number for the account"), or -1.
// English "number" is no cue word of its own, so it is looked for here.
func (d *doc) genericNumberBefore(k, window int) int {
	for j := k - 1; j >= 0 && window > 0; j-- {
		if d.toks[j].kind == tPunct {
			if d.toks[j+1].nl {
				return -1
			}
			continue
		}
		if genericNumber[d.lw(j)] {
			return j
		}
		window--
	}
	return -1
}

// numberIsMine reports whether the generic number word at j follows a
// possessive ("my number", "mon numéro", "il mio numero"): the writer's
// own number, a phone whatever was said before.
func (d *doc) numberIsMine(j int) bool {
	return j > 0 && d.isWord(j-1) && (possessive[d.lw(j-1)] || personPossessive[d.lw(j-1)])
}

// personPossessive: "her number", "son numéro", "sein Nummer": a person's
// number, as "my number" is the writer's (a reference word after the
// number word still decides first: "son numéro de commande").
var personPossessive = set(strings.Fields(`his her their sein seine ihr ihre son sa leur su sus zijn haar hun suo sua loro`))

// numberSuffixes end compounds of a reference word and "number".
var numberSuffixes = []string{"nummer", "nummern", "number", "numero", "nr", "no"}

// pluralCue returns the cue classes of the singular of w, a plural in one
// of the six languages.
func pluralCue(w []byte) cueClass {
	l := len(w)
	switch w[l-1] {
	case 's':
		if c := cueWords[string(w[:l-1])]; c != 0 {
			return c
		}
		if w[l-2] == 'e' {
			return cueWords[string(w[:l-2])]
		}
	case 'n':
		if w[l-2] == 'e' {
			return cueWords[string(w[:l-2])] | cueWords[string(w[:l-1])]
		}
	case 'i':
		var b [32]byte
		if l > len(b) {
			return 0
		}
		copy(b[:], w)
		b[l-1] = 'e'
		if c := cueWords[string(b[:l])]; c != 0 {
			return c
		}
		b[l-1] = 'o'
		return cueWords[string(b[:l])]
	}
	return 0
}

// cueAfterAt is cueAfter that also returns the cue's token (-1: none).
func (d *doc) cueAfterAt(last, window int, mask cueClass) (cueClass, int) {
	c, dist := d.cueAfter(last, window, mask)
	if c == 0 {
		return 0, -1
	}
	for j := last + 1; j < len(d.toks); j++ {
		if d.toks[j].kind == tPunct {
			continue
		}
		if dist--; dist == 0 {
			return c, j
		}
	}
	return 0, -1
}

// cueOf is the cue classes of token j; an elided article or preposition
// (d'ordine, l'adresse, dell'ordine) is looked through.
func (d *doc) cueOf(j int) cueClass {
	w := d.lower(j)
	if c := cueWords[string(w)]; c != 0 {
		if c == cueCard && len(w) == 3 && string(w) == "pas" && d.lang != "nl" && d.lang != "" {
			return 0 // Dutch "pas" is a card; French "ne ... pas" is "not"
		}
		return c
	}
	// A compound of a reference word and "number" (Bonnummer, bonnr,
	// scontrinonumero) is that reference's cue.
	// Hyphenated compounds: "Kunden-Ref", "Auftrags-ID", "order-ref".
	if i := bytes.LastIndexByte(w, '-'); i > 0 && i < len(w)-1 {
		if c := cueWords[string(w[i+1:])] | cueWords[string(w[:i])]; c&cueRef != 0 {
			return cueRef
		}
	}
	if l := len(w); l > 4 {
		switch w[l-1] {
		case 'r', 'o', 'n':
			for _, suf := range numberSuffixes {
				if len(w) > len(suf)+2 && string(w[len(w)-len(suf):]) == suf {
					p := w[:len(w)-len(suf)]
					for len(p) > 0 && (p[len(p)-1] == '-' || p[len(p)-1] == '.') {
						p = p[:len(p)-1]
					}
					if c := cueWords[string(p)]; c&cueRef != 0 {
						return c
					}
				}
			}
		}
		// Plurals of reference words: "commandes", "pedidos",
		// "Bestellungen", "ordini", "articoli".
		if c := pluralCue(w); c&cueRef != 0 && string(w) != "falls" { // German "in case", not cases
			return cueRef
		}
	}
	for i := 0; i < len(w) && i < 6; i++ {
		if w[i] == '\'' {
			return cueWords[string(w[i+1:])]
		}
		if w[i] == 0xE2 && i+2 < len(w) && w[i+1] == 0x80 && w[i+2] == 0x99 { // ’
			return cueWords[string(w[i+3:])]
		}
	}
	return 0
}
