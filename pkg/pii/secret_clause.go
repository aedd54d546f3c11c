package pii

import (
	"slices"
	"strings"
	"unicode"
)

// Round 12: a credential's value anywhere later in its clause.
//
// The cue-driven scanner (scanSecrets) reads the value right after a
// credential word, or a few words on for the kinds of sentence earlier
// rounds described. scanClauseSecrets is the general fallback: after any
// credential word in the six languages, the clause is walked to its end (a
// full stop, question or exclamation mark, semicolon or line break; a
// line break right after the cue's colon is a form's next line), and a
// value is taken when the clause states it — after a copula ("is", "ist",
// "est", "es", "è", "was", "lautet", "c'est" …), a showing verb ("says",
// "zeigt", "dice" …), a colon or equals sign, or in quotes — and it has the
// shape of the cue's kind: a code (4–10 digits, not a year; or 4–12 letters
// and digits mixing both), a password (letters with a digit, a symbol or
// an inner capital), a key (long, high entropy). The walk gives up at any
// look-alike word (promo, order, invoice, postal, serial, reference,
// number, price …: notSecretCues and clauseStops), and the value is left to
// whichever other recogniser already claims it (a phone, a date, a card),
// or when the next token is a unit or a currency. It runs last among the
// recognisers so that those claims exist, and only at tokens carrying the
// word table's secret-cue bit or a compound's cue suffix.

// clauseStops are look-alike words that end the walk: the number after
// them is a reference, a price, a quantity or a version.
var clauseStops = set(strings.Fields(`number numbers nummer nr nr. no. n° nº numéro numero número nummers
	price prices preis prix precio prezzo prijs cost costs kosten kost coste costo total totaal totale betrag montant importe importo amount
	size größe grösse taille talla taglia maat version versie versione versión
	year years jahr jahre année ans año años anno anni jaar jaren
	room zimmer chambre habitación stanza kamer page seite pagina página
	tel tel. fax iban bic swift kontonummer rekeningnummer
	expires expiry expired abgelaufen expire expiré expiró caducado scaduto verlopen valid gültig valable válido valido geldig
	until bis jusqu'au hasta fino tot
	username user benutzername benutzer nutzername utilisateur identifiant usuario gebruikersnaam gebruiker utente
	nickname handle email e-mail ref ref. reference
	fiscale fiscal tax dni nie nif bsn nino ssn vat iva imei mac
	phone telephone telefon telefoon téléphone teléfono telefono handy mobile mobiel móvil cellulare portable gsm whatsapp`))

// refSuffixes end compounds that name a reference's number: Artikelnummer,
// ordernummer, Kundennr.
var refSuffixes = []string{"nummer", "number", "nr", "numéro", "numero", "número", "nummers"}

func refCompound(w string) bool {
	for _, suf := range refSuffixes {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			return true
		}
	}
	return false
}

// clauseShowVerbs state a value like a copula does.
var clauseShowVerbs = set(strings.Fields(`says said reads shows showed sagt zeigt zeigte lautete dit affiche indique disait
	dice decía muestra pone mostra diceva indica zegt toont stond staat was war waren era fue fué était étais sei sind
	are were wäre seria sarebbe zou c'était c’était c'etait era: was:
	use using used utilise utilisez utilisé usa uso usar usato usando gebruik gebruikt verwende verwendet nutze nutzt
	type typed enter entered tippe tippen eingeben tape tapé tapez saisi saisissez escribe escribí digita digitato inserisci inserito
	introduce introduje voer typ ingetypt probeer probeerde try tried versuche versucht essayé prova provato probé
	mis mets mettre puesto puse pongo messo metto ingevuld ingevoerd gezet eingetippt eingetragen`))

// clauseFillers may stand between a copula and its value: "c'est bien le
// 4417", "is now Harbour7", "ist jetzt Fichte2023".
var clauseFillers = set(strings.Fields(`now still just simply actually jetzt nun noch immer einfach eigentlich
	bien le la les maintenant toujours simplement el la ahora todavía simplemente il lo la ora adesso ancora semplicemente
	het de nu nog gewoon eigenlijk the a an this dies ceci esto questo dit
	: = - – — « » " ' „ “ ” ‘ ’ ` + "`" + ` *`))

// phoneDevices are phones as devices, which an unlocking verb's clause
// names ("ich entsperre das Handy mit 3392").
var phoneDevices = set(strings.Fields(`phone telefon telefoon téléphone teléfono telefono handy mobile mobiel móvil cellulare portable gsm`))

// clauseUnits after a number make it a quantity or a price.
var clauseUnits = set(strings.Fields(`€ $ £ eur euro euros usd gbp chf dollar dollars pound pounds franken
	kg g gr gram grams gramm grammes gramos grammi cm mm m km ml l cl liter litre litres litro litri
	min mins minutes minuten minuti minutos minuut minuten h hrs hours stunden heures horas ore uur
	days tage jours días dias giorni dagen weeks wochen semaines semanas settimane weken months monate mois meses mesi maanden
	pcs pieces stück stuk stuks pezzi piezas pièces x % percent prozent pourcent por ciento procent per`))

// pluralCues are credential words in the plural ("my passwords are …").
var pluralCues = map[string]string{"passwords": "password", "passwörter": "passwort", "kennwörter": "kennwort",
	"contraseñas": "contraseña", "wachtwoorden": "wachtwoord", "pins": "pin", "passcodes": "passcode", "tokens": "token",
	"claves": "clave"}

// secretNouns are the nouns a "secret" adjective makes a credential.
var secretNouns = set(strings.Fields(`code codes codice código codigo numéro numero número nummer zahl number clave chiave sleutel`))

// secretAdjectives: "secret", "confidential", "personal" in six languages.
var secretAdjectives = set(strings.Fields(`secret secrète secrete secreto secreta segreto segreta geheim geheime geheimer
	geheimes confidentiel confidencial riservato riservata vertrouwelijke vertrouwelijk`))

// extraCodeCues name a credential outright: German "Geheimzahl", a SIM's
// PUK, PIN written with "Nummer".
var extraCodeCues = set(strings.Fields(`geheimzahl geheimnummer geheimcode puk puk-code pukcode pin-nummer pinnummer pin-nr`))

// unlockVerbs unlock a device with a code ("I unlock the tablet with
// 7741", "ich entsperre das Handy mit 3392").
var unlockVerbs = set(strings.Fields(`unlock unlocks unlocked unlocking entsperre entsperren entsperrt entsperrst
	déverrouille déverrouiller déverrouillé desbloqueo desbloquear desbloquea sblocco sbloccare sblocca ontgrendel ontgrendelen ontgrendelt`))

// secretAdjective reports "secret" beside the noun at k: before it or
// after it ("code secret", "geheime code", "número secreto").
func (d *doc) secretAdjective(k int) bool {
	if k > 0 && d.isWord(k-1) && secretAdjectives[d.lw(k-1)] && !d.toks[k].nl {
		return true
	}
	return k+1 < len(d.toks) && d.isWord(k+1) && !d.toks[k+1].nl && secretAdjectives[d.lw(k+1)]
}

// clauseCueKind returns the credential kind of token k (1 password, 2 code,
// 3 key, 4 a code named a secret, 5 an unlocking verb), or 0 when k is no
// credential word for this pass.
func (d *doc) clauseCueKind(k int) int {
	tk := &d.toks[k]
	if tk.kind != tWord {
		return 0
	}
	if tk.info&(wSecretCue|wRole) == 0 && (tk.e-tk.s < 7 || !d.maybeCompoundCue(k)) {
		return 0 // the bit test first: only a hyphenated word, a closed compound or a diminutive goes on
	}
	w := d.lw(k)
	if d.lang == "nl" || d.lang == "" {
		// Dutch diminutives: "codeje", "pincodetje", "wachtwoordje".
		if strings.HasSuffix(w, "tje") && len(w) > 6 && (otpCues[w[:len(w)-3]] || passwordCues[w[:len(w)-3]]) {
			w = w[:len(w)-3]
		} else if strings.HasSuffix(w, "je") && len(w) > 5 && (otpCues[w[:len(w)-2]] || strings.HasSuffix(w[:len(w)-2], "code")) {
			w = w[:len(w)-2]
		}
	}
	if sg, ok := pluralCues[w]; ok {
		w = sg
	}
	if tk.info&wSecretCue == 0 && !otpCues[w] && !passwordCues[w] && !extraCodeCues[w] && !unlockVerbs[w] && !secretNouns[w] {
		if len(w) < 7 {
			return 0
		}
		if i := strings.LastIndexByte(w, '-'); i > 0 && i < len(w)-1 {
			if notSecretCues[w[:i]] || hasAnySuffixCue(w[:i]) {
				return 0
			}
			w = w[i+1:]
		} else if suf := compoundCue(w); suf != "" && !hasAnySuffixCue(w) {
			w = suf
		} else {
			return 0
		}
	}
	if secretNouns[w] && d.secretAdjective(k) {
		return 4 // "code secret", "geheime code", "número secreto", "codice segreto"
	}
	switch {
	case extraCodeCues[w]:
		return 4
	case unlockVerbs[w]:
		return 5
	case w == "pass" || w == "parola" || w == "pw" || w == "ww":
		return 0 // season pass, "parola", abbreviations: the main scanner's own cases
	case w == "passe":
		if k >= 2 && d.lw(k-1) == "de" && d.lw(k-2) == "mot" {
			return 1
		}
		return 0
	case w == "tan":
		if tk.allUp || d.lang == "de" || d.lang == "nl" {
			return 2
		}
		return 0
	case passwordCues[w]:
		return 1
	case otpCues[w]:
		if w == "token" {
			return 3
		}
		return 2
	case keyCues[w]:
		return 3 // a key's value must have a key's shape ("the key to the shed" has none)
	}
	return 0
}

func (d *doc) scanClauseSecrets() {
	n := len(d.toks)
	var idx *clauseIndex // built at the first cue: most messages have none
	for k := 0; k < n; k++ {
		if d.toks[k].kind != tWord {
			continue
		}
		kind := d.clauseCueKind(k)
		if kind == 0 {
			continue
		}
		d.work++
		if idx == nil {
			idx = newClauseIndex(d.cands)
		}
		if idx.secretSoonAfter(d.toks[k].e) {
			continue // the cue scanner already read this cue's value
		}
		if d.clauseNotSecret(k) || d.inURL(k) {
			continue
		}
		w := d.lw(k)
		if genericCodeWords[w] && (d.promoEarlier(k) || d.promoContext() && !d.deliveredCode(k) || d.qualifiedCode(k)) {
			continue
		}
		if kind == 2 && genericCodeWords[w] && d.networkCode(k) {
			kind = 1 // round 13: a network's code is its password ("le code wifi", "il codice del wifi")
		} else if kind == 2 && genericCodeWords[w] && !(k > 0 && d.cueOf(k-1)&(cueOTP|cuePassword) != 0) && !d.credentialContext() {
			// A bare "code" is a credential only when the message says so,
			// or when its value has a one-time code's shape (six digits,
			// two groups of three, letters mixed with digits).
			kind = 6
		}
		j := d.valueAsCue(k, kind)
		if j < 0 {
			j = d.clauseValue(k, kind)
		}
		if j < 0 {
			continue
		}
		s, e := d.valueChunk(j)
		if d.toks[j].kind == tNum && e == d.toks[j].e && (e-s == 3 || e-s == 2) {
			d.otpValue(j, &e)
		}
		if ee := d.spacedSingles(j); ee > 0 && kind != 3 {
			e = ee
		} else if ee := d.mixedGroups(j); ee > e && kind != 3 {
			e = ee
		}
		from := d.toks[k].s
		if j < k {
			from = s
		}
		if s >= e || idx.claimed(from, e) && (idx.claimed(s, e) || !d.onlyChannelPhones(idx, from, s)) {
			continue
		}
		d.add(s, e, Secret, 0.8, "secret-clause")
		idx.added(s, e)
		if j > k {
			k = j
		}
		// A list of values: "my passwords are Tulip2020! and Seagull#44",
		// "PIN 4471 oder 4472".
		for m := d.tokenAt(e); m+1 < n && k >= j && !d.toks[m].nl; {
			if !(d.isWord(m) && listJoiners[d.lw(m)] || d.isPunct(m, ',') || d.isPunct(m, '/')) || d.toks[m+1].nl || !d.shapedFor(m+1, kind) {
				break
			}
			s2, e2 := d.valueChunk(m + 1)
			if idx.claimed(s2, e2) {
				break
			}
			d.add(s2, e2, Secret, 0.8, "secret-clause")
			idx.added(s2, e2)
			k = d.tokenAt(e2) - 1
			m = d.tokenAt(e2)
		}
	}
}

// onlyChannelPhones reports whether every finding between a cue and its
// value (the span [a, b)) is a phone number the code was sent to, named
// after a channel word ("un code par SMS au 06 …, c'est 481 206", "a code
// by text to 07…, it's …": round 15). Any other finding between keeps the
// walk's answer: the value is not the cue's.
func (d *doc) onlyChannelPhones(x *clauseIndex, a, b int) bool {
	// A secret the walk added in between is no phone.
	if k, _ := slices.BinarySearchFunc(x.own, b, func(sp [2]int, t int) int { return sp[0] - t }); k > 0 && x.own[k-1][1] > a {
		return false
	}
	// The earlier findings that overlap [a, b): of those starting before b,
	// back to where none earlier ends after a (by the index, not a scan of
	// every finding per cue: security review).
	i, _ := slices.BinarySearchFunc(x.spans, b, func(sp [2]int, t int) int { return sp[0] - t })
	found := false
	for j := i - 1; j >= 0 && x.maxEnd[j] > a; j-- {
		d.work++
		if x.spans[j][1] <= a {
			continue
		}
		c := d.cands[x.at[j]]
		if c.typ != Phone {
			return false
		}
		m := d.tokenAt(c.s)
		ok := false
		for i, words := m-1, 0; i >= 0 && words < 3; i-- {
			if !d.isWord(i) {
				break
			}
			if channelWords[d.lw(i)] {
				ok = true
				break
			}
			words++
		}
		if !ok {
			return false
		}
		found = true
	}
	return found
}

// clauseIndex answers the clause walk's two questions about the findings
// made before it, and the secrets it adds itself, by binary search: a
// message with thousands of cue words and findings stays linear (asked by
// scanning every finding per cue, it was quadratic: security review).
type clauseIndex struct {
	spans   [][2]int // the earlier findings' spans, by start
	at      []int    // at[i]: the index in doc.cands of spans[i]
	maxEnd  []int    // maxEnd[i]: the largest end among spans[:i+1]
	secrets []int    // the starts of the earlier secrets and of those added, sorted
	own     [][2]int // the secrets the walk added: disjoint, by start
}

func newClauseIndex(cands []cand) *clauseIndex {
	x := &clauseIndex{spans: make([][2]int, len(cands)), at: make([]int, len(cands))}
	for i, c := range cands {
		x.at[i] = i
		if c.typ == Secret {
			x.secrets = append(x.secrets, c.s)
		}
	}
	slices.SortStableFunc(x.at, func(a, b int) int { return cands[a].s - cands[b].s })
	for i, k := range x.at {
		x.spans[i] = [2]int{cands[k].s, cands[k].e}
	}
	slices.Sort(x.secrets)
	x.maxEnd = make([]int, len(x.spans))
	for i, sp := range x.spans {
		x.maxEnd[i] = sp[1]
		if i > 0 {
			x.maxEnd[i] = max(x.maxEnd[i], x.maxEnd[i-1])
		}
	}
	return x
}

// claimed reports whether a finding already covers part of [s, e), or a
// secret lies anywhere in it (the cue's own value was found another way).
func (x *clauseIndex) claimed(s, e int) bool {
	// Of the spans starting before e, does any end after s?
	if i, _ := slices.BinarySearchFunc(x.spans, e, func(sp [2]int, t int) int { return sp[0] - t }); i > 0 {
		// BinarySearchFunc finds the first span starting at e or later.
		if x.maxEnd[i-1] > s {
			return true
		}
	}
	i, _ := slices.BinarySearchFunc(x.own, e, func(sp [2]int, t int) int { return sp[0] - t })
	return i > 0 && x.own[i-1][1] > s
}

// added records a secret the walk found at [s, e).
func (x *clauseIndex) added(s, e int) {
	i, _ := slices.BinarySearchFunc(x.own, s, func(sp [2]int, t int) int { return sp[0] - t })
	x.own = slices.Insert(x.own, i, [2]int{s, e})
	j, _ := slices.BinarySearch(x.secrets, s)
	x.secrets = slices.Insert(x.secrets, j, s)
}

// clauseValue walks the clause after cue k and returns the token of a
// stated, shaped value, or -1.
func (d *doc) clauseValue(k, kind int) int {
	n := len(d.toks)
	stated, fill := false, 0
	formColon := false
	for j, words := k+1, 0; j < n && words < 16; j++ {
		tk := &d.toks[j]
		if tk.nl {
			// A form's value on the line after "Password:".
			if !(formColon && j >= 2 && d.isPunct(j-1, ':') && j-1 <= k+3) {
				return d.nextSentenceValue(j, kind)
			}
		}
		if tk.kind == tPunct {
			c := d.text[tk.s]
			switch c {
			case '.', '!', '?', ';':
				if c == '.' && d.ellipsisGoesOn(j) {
					continue // "del locker Amazon... scusate, del vostro locker, è …"
				}
				m := j + 1
				for m < n && d.toks[m].kind == tPunct && !d.toks[m].nl && (d.isPunct(m, '.') || d.isPunct(m, '!') || d.isPunct(m, '?')) {
					m++
				}
				return d.nextSentenceValue(m, kind)
			case ':', '=':
				stated, fill = true, 0
				if j <= k+3 {
					formColon = true
				}
				continue
			case '(', ')':
				stated = false
				continue
			}
			if tt := d.tokText(j); quoteMark(tt) || c == '"' || c == '\'' || c == '`' {
				if j+1 < n && !d.toks[j+1].sp {
					stated = true // a quoted value
					fill = 0
				}
				continue
			}
			continue
		}
		words++
		lw := d.lw(j)
		el := elided(lw)
		if pinWords[d.lw(k)] && giftWords[el] {
			continue // round 13: "el PIN de la tarjeta regalo es 8830": a gift card's PIN is its secret
		}
		if kind == 1 && el == "area" && el != lw {
			continue // round 14: "la password dell'area riservata": where the password is used, not an area code
		}
		if expiredWords[el] {
			// round 15: "the code expired before I could type it. new one is
			// 552 901": the value of the code that replaced it.
			return d.afterExpiry(j, kind)
		}
		if (notSecretCues[el] || clauseStops[el] || objectWords[el] || clauseStops[lw] || hasAnySuffixCue(lw) || refCompound(el)) && !(kind == 5 && phoneDevices[lw]) {
			if objectWords[el] || !d.purposeWord(j) {
				return -1 // "the code on the box", "on my receipt": printed there
			}
			// "für die Zahlung", "for order 448812": the purpose of the
			// credential; its own number, if any, is passed over.
			j = d.ownNumber(j)
			stated = false
			continue
		}
		if copulas[lw] || copulas[el] || clauseShowVerbs[lw] || kind == 5 && coordOpeners[lw] {
			stated, fill = true, 0
			continue
		}
		if kind != 3 && (sentToMe[lw] || strings.HasPrefix(lw, "m'") || strings.HasPrefix(lw, "m’")) {
			if v := d.handedToMe(j); v > j {
				// round 15: "einen Übertragungscode eingeben, sie hat mir X
				// geschickt", "she sent me X", "lei mi ha mandato X": the
				// code a person sent the writer is stated like after a
				// copula.
				stated, fill = true, 0
				j = v - 1
				continue
			}
		}
		if stated && tk.kind == tWord && clauseFillers[lw] && fill < 2 && !d.shapedFor(j, kind) {
			fill++
			continue
		}
		if ee := d.spacedSingles(j); ee > 0 && kind != 3 && (stated || (j == k+1 || j == k+2 && d.isPunct(k+1, ':')) && d.clauseEnds(ee)) {
			return j // round 14: "code 2 9 4 1", "el código es 3 0 7 7 1": a code read out digit by digit
		}
		if ee := d.mixedGroups(j); stated && ee > 0 && kind != 3 && d.clauseEnds(ee) {
			return j // round 14: "the check code is Tk4 9Pr 7Zs": a code printed in groups
		}
		if stated {
			if d.shapedFor(j, kind) {
				return j
			}
			stated = false
		}
	}
	return -1
}

// mixedGroups returns the end of three or four groups of three or four
// letters and digits, each group mixing both, joined by single spaces at
// token j ("Tk4 9Pr 7Zs", "4KQ7 X2M9 7TR1"); 0 when not. Words have no
// digits, a postcode has two groups, a phone number no letters.
func (d *doc) mixedGroups(j int) int {
	t := d.text
	p, groups, end := d.toks[j].s, 0, 0
	for groups < 5 {
		q := p
		for q < len(t) && (isAlpha(t[q]) || isDigit(t[q])) {
			q++
		}
		if g := t[p:q]; len(g) < 3 || len(g) > 4 || !hasDigit(g) || !hasLetter(g) || q < len(t) && t[q] >= 0x80 {
			break
		}
		groups++
		end = q
		if q+1 < len(t) && t[q] == ' ' && (isAlpha(t[q+1]) || isDigit(t[q+1])) {
			p = q + 1
			continue
		}
		break
	}
	if groups < 3 || groups > 4 {
		return 0
	}
	return end
}

// spacedSingles returns the end of four to eight single digits, each after
// one space, that start at token j and that no further digit or number
// continues ("2 9 4 1", "3 0 7 7 1"); 0 when not. A phone's groups, a
// quantity ("3 x 2 kg") or a list of sizes have longer groups or words
// between.
func (d *doc) spacedSingles(j int) int {
	n := len(d.toks)
	m := j
	for m < n && m-j < 9 && d.toks[m].kind == tNum && d.toks[m].e-d.toks[m].s == 1 && (m == j || !d.toks[m].nl && d.text[d.toks[m-1].e:d.toks[m].s] == " ") {
		m++
	}
	if c := m - j; c < 4 || c > 8 {
		return 0
	}
	if m < n && !d.toks[m].nl && (d.toks[m].kind == tNum || d.toks[m].kind == tWord && d.toks[m].digit || clauseUnits[d.lw(m)]) {
		return 0
	}
	if m < n && !d.toks[m].sp && d.toks[m].kind == tPunct && (d.isPunct(m, '-') || d.isPunct(m, '/') || d.isPunct(m, '.') && m+1 < n && d.toks[m+1].kind == tNum && !d.toks[m+1].sp) {
		return 0
	}
	return d.toks[m-1].e
}

// shapedFor reports whether the value at token j has the shape of a
// credential of the cue's kind, and is no quantity or price.
func (d *doc) shapedFor(j, kind int) bool {
	s, e := d.valueChunk(j)
	if s >= e || s != d.toks[j].s {
		return false
	}
	v := d.text[s:e]
	if kind != 3 && d.toks[j].kind == tNum && e == d.toks[j].e && len(v) == 2 && d.twoDigitGroups(j) > j {
		// round 15: "47 20 93", a code typed in three groups of two
		// digits (a fourth group makes it a phone's or an account's).
		if jj := d.twoDigitGroups(j) + 1; jj < len(d.toks) && clauseUnits[d.lw(jj)] {
			return false
		}
		return true
	}
	if kind != 3 && d.toks[j].kind == tNum && e == d.toks[j].e && len(v) == 3 {
		// "448 209": a code typed in two groups (not a phone's first groups).
		ee := e
		if d.otpValue(j, &ee) && ee > e {
			if jj := d.tokenAt(ee); jj < len(d.toks) && clauseUnits[d.lw(jj)] {
				return false
			}
			return true
		}
	}
	if len(v) < 4 || len(v) > 128 {
		return false
	}
	// A unit or currency after it, or a currency sign before it.
	if jj := d.tokenAt(e); jj < len(d.toks) && jj > j {
		if clauseUnits[d.lw(jj)] && !d.toks[jj].nl {
			return false
		}
	}
	if j > 0 && clauseUnits[d.lw(j-1)] && d.toks[j-1].kind == tPunct {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '/' || v[i] == '@' {
			return false // a date, a path, an address
		}
	}
	digits := allDigits(v)
	switch kind {
	case 4, 5:
		kind = 2
	case 6:
		// A bare "code" with no credential in the message: a one-time
		// code's own shape only, six digits or two groups of three.
		if digits {
			return len(v) == 6
		}
		return false
	}
	if !digits && kind != 3 && dashedDigits(v) {
		return true // "449-102", "44-91-02"
	}
	if digits && d.toks[j].kind == tNum && e == d.toks[j].e {
		// A group of a longer spaced number (a phone's, an account's).
		if j+1 < len(d.toks) && d.toks[j+1].kind == tNum && !d.toks[j+1].nl && d.text[e:d.toks[j+1].s] == " " {
			return false
		}
		if j > 0 && d.toks[j-1].kind == tNum && !d.toks[j].nl && d.text[d.toks[j-1].e:s] == " " {
			return false
		}
	}
	switch kind {
	case 1:
		if digits {
			return len(v) >= 4 && len(v) <= 10 && !yearLike(v)
		}
		if d.quoted(s, e) && d.plainPassword(v) && !strings.ContainsAny(v, " ") {
			return true // a quoted word: "I typed the password 'sunflower' twice"
		}
		return passwordLike(v) && (hasDigit(v) || strongPassword(v)) && !strings.HasPrefix(v, "#")
	case 2:
		if digits {
			return len(v) >= 4 && len(v) <= 10 && !yearLike(v)
		}
		if len(v) > 12 {
			return keyLike(v)
		}
		return hasDigit(v) && hasLetter(v) && alnumAnd(v, "-") && !promoShaped(v) && strings.Count(v, "-") <= 2
	case 3:
		if digits {
			return len(v) >= 6 && len(v) <= 10
		}
		return keyLike(v) || len(v) >= 12 && hasLetter(v) && hasDigit(v) && entropy(v) >= 3.0 && alnumAnd(v, "-_")
	}
	return false
}

// alnumAnd: v holds only letters, digits and the extra characters.
func alnumAnd(v, extra string) bool {
	for _, r := range v {
		if !(r >= '0' && r <= '9') && !unicode.IsLetter(r) && !strings.ContainsRune(extra, r) {
			return false
		}
	}
	return true
}

// purposePreps introduce what a credential is for.
var purposePreps = set(strings.Fields(`for für fürs pour para voor per zur zum à au aux al alla allo bij
	to an naar sur auf on op via por par sul sulla sullo nel nella im am aufs dans en in from uit`))

var purposeDets = set(strings.Fields(`the my your this die der den das dem meine meinen meiner mein ihre ihrer ihren
	la le les l' ma mon mes votre el los las mi mis su il lo la mia mio het de mijn uw een a an une un una uno ein eine einer`))

// purposeWord reports whether the look-alike word at j follows a purpose
// preposition, with at most one determiner between ("für die Zahlung",
// "for order", "pour la commande"): it says what the credential is for,
// not what the value is.
func (d *doc) purposeWord(j int) bool {
	i := j - 1
	if i >= 0 && d.isWord(i) && purposeDets[d.lw(i)] {
		i--
	}
	return i >= 0 && d.isWord(i) && purposePreps[d.lw(i)]
}

// ownNumber returns the last token of the number that belongs to the
// reference word at j ("order 448812", "Sendung Nr. 0034…", "order #55"),
// or j when none follows.
func (d *doc) ownNumber(j int) int {
	m := j + 1
	for m < len(d.toks) && m <= j+3 && !d.toks[m].nl {
		if d.toks[m].kind == tPunct && (d.isPunct(m, '#') || d.isPunct(m, ':') || d.isPunct(m, '.')) {
			m++
			continue
		}
		if d.isWord(m) && !d.toks[m].digit && (clauseStops[d.lw(m)] || d.lw(m) == "n") {
			m++
			continue
		}
		break
	}
	if m < len(d.toks) && !d.toks[m].nl && d.toks[m].digit {
		_, e := d.valueChunk(m)
		if jj := d.tokenAt(e); jj > m {
			return jj - 1
		}
		return m
	}
	return j
}

// clauseNotSecret is notSecret without the words after the cue that say
// what it is for ("Abholcode für Sendung …"): those the walk reads itself.
func (d *doc) clauseNotSecret(k int) bool {
	if !d.notSecret(k) {
		return false
	}
	for j := k + 1; j < len(d.toks) && j <= k+2; j++ {
		if d.toks[j].kind == tWord && notSecretCues[elided(d.lw(j))] {
			if !d.purposeWord(j) {
				return true
			}
			// the purpose after the cue; the words before still decide
			for i := k - 1; i >= 0 && i >= k-3; i-- {
				if d.toks[i].kind == tWord && (notSecretCues[elided(d.lw(i))] || hasAnySuffixCue(d.lw(i))) {
					return true
				}
			}
			return hasAnySuffixCue(d.lw(k))
		}
	}
	return true
}

// ellipsisGoesOn reports whether the full stop at j is part of an
// ellipsis that a lower-case word continues.
func (d *doc) ellipsisGoesOn(j int) bool {
	dots := 0
	m := j
	for m < len(d.toks) && d.isPunct(m, '.') && dots < 4 {
		dots++
		m++
	}
	if j > 0 && d.isPunct(j-1, '.') {
		dots++
	}
	return dots >= 2 && m < len(d.toks) && d.isWord(m) && !d.toks[m].upper && !d.toks[m].nl
}

// presentWords open a sentence that presents a value: "Here it is:",
// "Hier ist er:", "Le voici :", "Aquí está:", "Eccolo:", "Hier is hij:".
var presentWords = set(strings.Fields(`here it is it's this that hier ist er sie es le la voici voilà c'est aquí está es este
	esto ecco eccolo eccola è questo is hij ze dit new neue nouveau nuevo nuovo nieuwe one`))

// nextSentenceValue reads the sentence or line that starts at token m
// after the cue's own has ended: a shaped value alone in it ("… a login
// code. 551903."), or after a few presenting words and a colon ("Here it
// is: 449102"). Only this one sentence is read.
func (d *doc) nextSentenceValue(m, kind int) int {
	n := len(d.toks)
	if m >= n {
		return -1
	}
	// A value alone: the sentence or line ends right after it.
	if d.toks[m].kind != tPunct && d.shapedFor(m, kind) {
		_, e := d.valueChunk(m)
		if d.toks[m].kind == tNum && e == d.toks[m].e && e-d.toks[m].s == 3 {
			d.otpValue(m, &e)
		}
		jj := d.tokenAt(e)
		if jj >= n || d.toks[jj].nl || jj < n && d.toks[jj].kind == tPunct && (d.isPunct(jj, '.') || d.isPunct(jj, '!')) && (jj+1 >= n || d.toks[jj+1].nl || d.toks[jj+1].sp) {
			return m
		}
		return -1
	}
	if j := d.anaphoricValue(m, kind); j > 0 {
		return j
	}
	// A few presenting words, then a colon and the value.
	for j, words := m, 0; j < n && words <= 4; j++ {
		if j > m && d.toks[j].nl {
			return -1
		}
		if d.toks[j].kind == tPunct {
			if d.isPunct(j, ':') {
				v := j + 1
				if v < n && !d.toks[v].nl && d.toks[v].kind != tPunct && d.shapedFor(v, kind) {
					return v
				}
				return -1
			}
			if d.isPunct(j, ',') || d.tokText(j) == "'" || d.tokText(j) == "’" {
				continue
			}
			return -1
		}
		words++
		if !presentWords[d.lw(j)] {
			return -1
		}
	}
	return -1
}

// dashedDigits: two to four groups of 2–4 digits joined by single dashes,
// 4–10 digits in all, and no date ("449-102", "44-91-02"; not 12-03-24).
func dashedDigits(v string) bool {
	groups := strings.Split(v, "-")
	if len(groups) < 2 || len(groups) > 4 {
		return false
	}
	total := 0
	for _, g := range groups {
		if len(g) < 2 || len(g) > 4 || !allDigits(g) || len(g) != len(groups[0]) {
			return false // unequal groups (4471-20) are article numbers
		}
		total += len(g)
	}
	if total < 4 || total > 10 {
		return false
	}
	if len(groups) == 3 {
		a, b := atoiSmall(groups[0]), atoiSmall(groups[1])
		if len(groups[0]) == 4 || len(groups[2]) == 4 || a >= 1 && a <= 31 && b >= 1 && b <= 12 || b >= 1 && b <= 31 && a >= 1 && a <= 12 {
			return false // a date
		}
	}
	return true
}

func atoiSmall(g string) int {
	v := 0
	for i := 0; i < len(g); i++ {
		v = v*10 + int(g[i]-'0')
	}
	return v
}

// usedAsWords say what a value is used as: "… as my new password", "… als
// neues Passwort", "… comme nouveau mot de passe", "… como contraseña",
// "… come password", "… als wachtwoord".
var usedAsWords = set(strings.Fields(`as als comme como come`))

// asFillers may stand between the as-word and the cue.
var asFillers = set(strings.Fields(`my the a new your our mein meine mein neues neue neuen das die den ein eine
	mon ma mes le la un une nouveau nouvelle mi mis el la una nuevo nueva mio mia il la un una nuovo nuova
	mijn het de een nieuw nieuwe mot de`))

// valueAsCue returns the token of a shaped value right before "as (my new)
// <cue>" ("I used Marigold!2291 as my new password"), or -1.
func (d *doc) valueAsCue(k, kind int) int {
	j := k - 1
	for j >= 0 && k-j <= 5 && d.isWord(j) && !d.toks[j+1].nl && asFillers[d.lw(j)] && !usedAsWords[d.lw(j)] {
		j--
	}
	if j < 1 || !d.isWord(j) || !usedAsWords[d.lw(j)] || d.toks[j+1].nl {
		return -1
	}
	// The value is the chunk that ends right before the as-word.
	v := j - 1
	for v > 0 && !d.toks[v].sp && !d.toks[v].nl {
		v-- // back to the chunk's first token ("Marigold!2291" is several)
	}
	if d.toks[j].nl || v < 0 {
		return -1
	}
	if s, e := d.valueChunk(v); s >= e || d.tokenAt(e) != j && d.tokenAt(e-1)+1 != j {
		return -1
	}
	if !d.shapedFor(v, kind) {
		return -1
	}
	return v
}

// maybeCompoundCue: the long word at k is hyphenated, ends in a closed
// compound's cue (…passwort, …schlüssel, …wachtwoord, …token) or is a
// Dutch diminutive (…je), so the look-ups are worth making.
func (d *doc) maybeCompoundCue(k int) bool {
	t := d.text[d.toks[k].s:d.toks[k].e]
	if strings.IndexByte(t, '-') > 0 || strings.HasSuffix(t, "je") {
		return true
	}
	return compoundCue(d.lw(k)) != ""
}

// listJoiners join a second value to the first.
var listJoiners = set(strings.Fields(`and or und oder et ou y o e oppure en of`))

// secretSoonAfter reports a secret starting within a short clause's reach
// (120 bytes) at or after from, the end of a cue.
func (x *clauseIndex) secretSoonAfter(from int) bool {
	i, _ := slices.BinarySearch(x.secrets, from)
	return i < len(x.secrets) && x.secrets[i]-from < 120
}

// pairPassWords are the short labels of a password in a credential pair.
var pairPassWords = set(strings.Fields(`pass pw pwd passwd pword psw ww mdp`))

// pairUserWords label the user name a credential pair begins with.
var pairUserWords = set(strings.Fields(`user username login benutzer benutzername nutzer nutzername utilisateur identifiant
	usuario gebruiker gebruikersnaam utente`))

// scanCredentialPairs reads the password of a credential pair written
// short: "user admin, pass Brambles!2026", "login: shop / pw Tegel#88",
// "utente admin, psw Neve2026!" (round 13). A short label counts only after
// a user label earlier in its sentence ("a season pass" stays a pass), and
// its value must have a password's shape.
func (d *doc) scanCredentialPairs() {
	n := len(d.toks)
	for k := 1; k+1 < n; k++ {
		if !d.isWord(k) || !pairPassWords[d.lw(k)] {
			continue
		}
		user := false
		for m := k - 1; m >= 0 && m >= k-8; m-- {
			if d.toks[m+1].nl || d.isPunct(m, '.') || d.isPunct(m, '!') || d.isPunct(m, '?') || d.isPunct(m, ';') {
				break
			}
			if d.isWord(m) && pairUserWords[d.lw(m)] {
				user = true
				break
			}
		}
		if !user {
			continue
		}
		j := k + 1
		for j < n && !d.toks[j].nl && (d.isPunct(j, ':') || d.isPunct(j, '=') || d.isPunct(j, '-')) {
			j++
		}
		if j >= n || d.toks[j].nl && j > k+1 && !d.isPunct(j-1, ':') || !d.shapedFor(j, 1) {
			continue
		}
		s, e := d.valueChunk(j)
		if s < e {
			d.add(s, e, Secret, 0.8, "secret-pair")
			k = d.tokenAt(e) - 1
		}
	}
}

// ageAdjectives name one of a credential's versions: "the old one", "le
// nouveau", "die alte", "la anterior", "de oude", "quella vecchia".
var ageAdjectives = set(strings.Fields(`old new previous current former ancien ancienne nouveau nouvelle actuel actuelle précédent précédente
	alte alter altes alten neue neuer neues aktuelle aktuelles vorherige vorheriges bisherige bisheriges
	anterior antigua antiguo nueva nuevo actual viejo vieja oude nieuwe huidige vorige vecchia vecchio nuova nuovo attuale precedente`))

// expiredWords say that a code ran out ("it expired", "ist abgelaufen",
// "a expiré", "ha caducado", "è scaduto", "is verlopen").
var expiredWords = set(strings.Fields(`expired abgelaufen expiré expirée expiró expirado expirada caducado caducada caducó scaduto scaduta verlopen`))

// expiryJoiners may open the clause after the expiry: "…, but the new one
// is …", "…, aber der neue ist …".
var expiryJoiners = set(strings.Fields(`and but so now und aber jetzt et mais y pero e ma en maar nu`))

// afterExpiry reads the clause or sentence after an expiry word (at j) for
// the value of the code that replaced the expired one, named by its version
// ("new one is 552 901", "der neue ist 481 220", "el nuevo es 5520"), or
// returns -1: the expired value itself, or a date, is not read.
func (d *doc) afterExpiry(j, kind int) int {
	n := len(d.toks)
	for m := j + 1; m < n && m <= j+14; m++ {
		tk := &d.toks[m]
		var next int
		switch {
		case tk.nl:
			next = m
		case tk.kind == tPunct && (d.isPunct(m, '.') || d.isPunct(m, '!') || d.isPunct(m, '?') || d.isPunct(m, ';') || d.isPunct(m, ',')):
			next = m + 1
		default:
			continue
		}
		for next < n && d.toks[next].kind == tPunct && !d.toks[next].nl {
			next++
		}
		if next < n && d.isWord(next) && expiryJoiners[d.lw(next)] {
			next++
		}
		return d.anaphoricValue(next, kind)
	}
	return -1
}

// anaphorArticles may open the anaphor: "the", "l'", "die", "el", "het", "quella".
var anaphorArticles = set(strings.Fields(`the my der die das mein meine le la mon ma el la mi de het mijn il la lo quella quello mio mia`))

// anaphoricValue reads a sentence that names the credential of the one
// before by its version and states its value: "The password was changed.
// The old one was Tulip2020", "L'ancien était Lutin2024*", "Die alte war
// Fichte88", "La anterior era Gaviota_77" (round 13). Only a version
// adjective (with an article and "one") may stand before the copula.
func (d *doc) anaphoricValue(m, kind int) int {
	n := len(d.toks)
	j := m
	if j < n && d.isWord(j) && anaphorArticles[d.lw(j)] {
		j++
	}
	if j >= n || !d.isWord(j) || d.toks[j].nl || !ageAdjectives[elided(d.lw(j))] {
		return -1
	}
	j++
	if j < n && d.isWord(j) && (d.lw(j) == "one" || d.lw(j) == "uno" || d.lw(j) == "una") {
		j++
	}
	if j >= n || !d.isWord(j) || d.toks[j].nl || !(copulas[d.lw(j)] || clauseShowVerbs[d.lw(j)] || d.lw(j) == "is") {
		return -1
	}
	j++
	if j < n && d.isPunct(j, ':') {
		j++
	}
	if j < n && !d.toks[j].nl && d.toks[j].kind != tPunct && d.shapedFor(j, kind) {
		return j
	}
	return -1
}

// networkWords name a wireless network, whose "code" is its password.
var networkWords = set(strings.Fields(`wifi wi-fi wlan wireless réseau red rete netwerk netzwerk network hotspot`))

// networkCode reports a generic "code" that names a network's password:
// the network word just before it ("wifi code", "WLAN Code") or within the
// next three words ("le code du wifi", "il codice della rete wifi").
func (d *doc) networkCode(k int) bool {
	if k > 0 && d.isWord(k-1) && !d.toks[k].nl && networkWords[d.lw(k-1)] {
		return true
	}
	for j := k + 1; j < len(d.toks) && j <= k+4; j++ {
		if d.toks[j].nl || d.toks[j].kind == tPunct {
			return false
		}
		if networkWords[elided(d.lw(j))] {
			return true
		}
	}
	return false
}

// sentToMe are the writer as the one a code was sent to ("me", "mir",
// "mij", "m'", "mi").
var sentToMe = set(strings.Fields(`me mir mij mi m'`))

// sendVerbs send or give something to someone, in the forms that stand
// before the recipient pronoun or, in German and Dutch, after the value.
var sendVerbs = set(strings.Fields(`sent gave texted forwarded send
	geschickt gegeben geschickt weitergeleitet schickte gab
	envoyé donné transmis envoie envoyait
	mandó envió dio pasó mandado enviado dado pasado
	mandato inviato dato passato girato
	stuurde gaf stuurt gestuurd gegeven doorgestuurd`))

// handedToMe reads the recipient pronoun at j: after a sending verb ("sent
// me X", "stuurde me X") or before an auxiliary and the sending verb ("mi
// ha mandato X", "m'a envoyé X", "me mandó X") it returns the token where
// the value starts; before the value with the verb after it ("hat mir X
// geschickt", "heeft me X gestuurd") likewise; otherwise j.
func (d *doc) handedToMe(j int) int {
	n := len(d.toks)
	if j > 0 && d.isWord(j-1) && sendVerbs[d.lw(j-1)] {
		return j + 1
	}
	aux := true // only auxiliaries so far between the pronoun and the verb
	for m, words := j+1, 0; m < n && words < 4 && !d.toks[m].nl; m++ {
		if d.toks[m].kind == tPunct && !d.isPunct(m, '-') {
			return j
		}
		if !d.isWord(m) {
			aux = false
			continue
		}
		if sendVerbs[d.lw(m)] {
			if aux {
				return m + 1
			}
			return j + 1
		}
		if !sendAux[d.lw(m)] {
			aux = false
		}
		words++
	}
	return j
}

// sendAux are the auxiliaries between the pronoun and a sending verb.
var sendAux = set(strings.Fields(`has had have hat hatte a avait ha había habia aveva heeft had`))

// handVerbs hand a code over to someone: "I sent it to them", "se lo
// mandé", "gliel'ho mandato", "ich hab ihn weitergegeben", "je le lui ai
// donné", "ik heb hem doorgegeven".
var handVerbs = set(strings.Fields(`sent gave given told forwarded read texted
	geschickt gegeben weitergegeben gesagt durchgegeben vorgelesen geschickt geschickt
	envoyé donné dit transmis lu communiqué
	mandé mandado envié enviado di dado dije dicho pasé pasado leí
	mandato dato detto inviato letto passato comunicato
	gestuurd gegeven doorgegeven gezegd voorgelezen`))

// scanHandedCodes finds a one-time code the writer says they handed over,
// with no credential word in the message: a number in two groups of three
// digits ("503 118") after a colon or a past copula ("was", "era", "war"),
// in a sentence whose verb hands something over and whose value ends it
// (round 13: "ya se lo mandé, era 503 118", "gliel'ho mandato: 281 904").
// Two groups of three are a code's typing; a phone, a price or a count
// runs on or carries a unit.
func (d *doc) scanHandedCodes() {
	n := len(d.toks)
	for j := 2; j+1 < n; j++ {
		a, b := &d.toks[j], &d.toks[j+1]
		if a.kind != tNum || b.kind != tNum || a.e-a.s != 3 || b.e-b.s != 3 || !b.sp || b.nl {
			continue
		}
		if m := j + 2; m < n && !d.toks[m].nl && (d.toks[m].kind == tNum || d.isWord(m) && clauseUnits[d.lw(m)] ||
			d.toks[m].kind == tPunct && !d.toks[m].sp && m+1 < n && d.toks[m+1].kind == tNum && !d.toks[m+1].sp) {
			continue
		}
		if d.toks[j-1].kind == tNum || d.toks[j-1].kind == tPunct && !a.sp {
			continue
		}
		p := j - 1
		if !(d.isPunct(p, ':') || d.isWord(p) && (d.lw(p) == "was" || d.lw(p) == "era" || d.lw(p) == "war" || d.lw(p) == "était" || d.lw(p) == "c'était")) {
			continue
		}
		handed := false
		for m := p - 1; m >= 0 && m >= p-8; m-- {
			if d.toks[m+1].nl || d.isPunct(m, '.') || d.isPunct(m, '?') || d.isPunct(m, '!') || d.isPunct(m, ';') {
				break
			}
			if d.toks[m].kind == tNum || d.isWord(m) && (clauseStops[elided(d.lw(m))] || notSecretCues[elided(d.lw(m))]) {
				break // "we sent 250 boxes, total was …": a count, a price
			}
			if d.isWord(m) && handVerbs[d.lw(m)] {
				handed = true
				break
			}
		}
		if handed {
			d.add(a.s, b.e, Secret, 0.75, "secret-handed")
			j++
		}
	}
}

// pinWords name a personal identification number outright.
var pinWords = set(strings.Fields(`pin pincode pin-code pin-nummer pinnummer geheimzahl`))

// giftWords name a gift card, whose PIN is no promotion.
var giftWords = set(strings.Fields(`gift giftcard gift-card geschenk geschenkkarte geschenkgutschein gutschein cadeau carte-cadeau
	regalo tarjeta-regalo kado cadeaukaart cadeaubon regalo`))
