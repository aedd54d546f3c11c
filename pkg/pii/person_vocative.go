package pii

import "strings"

// A name with no cue word before it still has a place in a chat message
// that only a person's name takes: set off by commas as the one spoken to
// ("Yes Mirthe, we can", "Check it again, Brigida."), or alone after the
// last sentence as the writer's signature ("... for you? Sibylle"). The
// word must look like a name and be no word the lexicons file as something
// else (stop words, weekdays, months, places, brands), no shipping option,
// size or notice word, and have no common-noun ending.

// answerWords open a reply; a capitalised word between one and a comma is
// the person answered ("Ja Jolien, das geht").
var answerWords = set(strings.Fields(`yes yeah yep yup no nope ok okay sure ja jawohl jep nee nein oui non ouais si sí sì vale claro certo
	esatto bene klar perfetto perfecto parfait super prima top zeker certo bueno genial great perfect cool fine alright
	d'accord natürlich natuurlijk entendido capito compris noted done goed prima`))

// addressedPronouns open a clause spoken to someone ("Sibylle, your slot is
// booked", "Jolien, du bekommst", "Brigida, votre colis").
var addressedPronouns = set(strings.Fields(`you your you've you'll you're du dein deine dich dir ihr euer eure ihnen
	vous votre vos tu ton ta tes te usted ustedes su sus tus je jij jouw uw jullie ti il tuo tua vi vostro vostra
	we wir nous nosotros wij noi i ich je io ik`))

// notVocative are capitalised words that stand where a vocative does but
// name a service, a size or a notice ("Order placed, Express:", "Size
// swapped, Medium.", "Update, your order").
var notVocative = set(strings.Fields(`express standard premium economy priority basic plus pro deluxe classic
	small medium large regular xl xxl mini maxi update reminder note notice attention info tip fyi warning important
	news hinweis achtung wichtig erinnerung remarque rappel important aviso recordatorio nota importante avviso
	promemoria attenzione opgelet herinnering mededeling let status
	sorry disculpa disculpe disculpad perdona perdone perdón perdon scusa scusi scusate pardon désolé désolée
	excusez entschuldigung entschuldige verzeihung sorry excuses
	however otherwise meanwhile anyway therefore instead besides allerdings trotzdem außerdem übrigens ansonsten
	inzwischen sinon cependant pourtant ensuite además entonces luego sonst dus echter verder intanto comunque
	inoltre quindi però allora done uiteraard natuurlijk helaas gelukkig inderdaad eigenlijk natürlich
	selbstverständlich eigentlich gerne gern évidemment malheureusement heureusement naturellement effectivement
	desde lamentablemente afortunadamente naturalmente efectivamente purtroppo certamente ovviamente sicuramente
	fortunatamente actually honestly basically unfortunately fortunately obviously`))

// commonEndings end nouns, participles and adverbs, rarely a given name.
var commonEndings = []string{"ung", "heit", "keit", "schaft", "tion", "sion", "ment", "ness", "ity", "ité", "dad", "ing", "ed",
	"ly", "tà", "ist", "ato", "ito", "uto", "ado", "ido", "olto", "erto", "ile", "igt", "iert", "isme", "ismo", "ismus", "teur", "tore", "eur", "ship", "ware", "zeit", "card", "kaart", "karte"}

// vocativeWord reports a word that may be a name where only a name
// stands: capitalised as a name, three letters or more, and known to no
// lexicon as anything else.
func (d *doc) vocativeWord(k int) bool {
	return !(d.toks[k].nl && k > 0) && d.nameLikeWord(k)
}

// nameLikeWord is vocativeWord wherever the word stands, also first on
// its line.
func (d *doc) nameLikeWord(k int) bool {
	if !d.capWord(k) || d.toks[k].allUp || d.toks[k].letters < 3 || d.flags[k]&flagBlocked != 0 {
		return false
	}
	t := d.tokText(k)
	if !nameShaped(t) || contraction(d.lw(k)) || elision(t) {
		return false
	}
	lw := d.lw(k)
	lex := d.e.lex
	if lex.stop[lw] || notVocative[lw] || cueWords[lw] != 0 || monthNames[lw] > 0 || titleWords[lw] || answerWords[lw] {
		return false
	}
	if _, cue := nameCues[lw]; cue && d.toks[k].info&wGiven == 0 {
		return false
	}
	if lex.ambiguous[lw] && d.toks[k].info&wGiven == 0 {
		return false
	}
	if d.toks[k].info&(wGiven|wSurname) == 0 {
		if encliticImperative(lw) {
			return false
		}
		if commonEnding(lw) {
			return false
		}
	}
	return true
}

// vocative reports a name at token k spoken to, set off by commas.
func (d *doc) vocative(k int) bool {
	// Where the word stands first: that rules out most capitalised words
	// before any table is asked about the word itself.
	return d.vocativePlace(k) && d.vocativeWord(k) && !(d.lang == "de" && d.toks[k].info&wGiven == 0 && !d.vocativeOpening(k))
}

// vocativeOpening: after an answer word ("Yes Mirthe, ...", "Oui Brigida
// !", two-word answers too: "Va bene Lapo,", "Alles klar Jördis,"), or
// opening a message addressed to the reader ("Sibylle, your slot is
// booked").
func (d *doc) vocativeOpening(k int) bool {
	n := len(d.toks)
	if k > 0 && d.isWord(k-1) && answerWords[d.lw(k-1)] && (d.sentenceStart(k-1) || d.isWord(k-2) && d.sentenceStart(k-2) && !d.toks[k-1].nl) &&
		!d.toks[k].nl && (d.isPunct(k+1, ',') || d.isPunct(k+1, '!')) {
		return true
	}
	if k > 1 && d.isPunct(k-1, ',') && d.isWord(k-2) && answerWords[d.lw(k-2)] && d.sentenceStart(k-2) && !d.toks[k].nl && d.toks[k].info&wBrandOrPlace == 0 &&
		k+1 < n && (d.isPunct(k+1, '.') || d.isPunct(k+1, '!') || d.isPunct(k+1, ',')) {
		return true // round 15: "Done, Ottilie.", "Claro, Ainara, ...": the one answered, after the answer's comma
	}
	if d.isPunct(k+1, ',') && k+2 < n && d.sentenceStart(k) && !d.toks[k+2].nl && d.toks[k].info&wBrandOrPlace == 0 {
		if d.apologyAfter(k+2) || d.pleaseAfter(k+2) && d.toks[k].info&wGiven != 0 {
			return true // round 15: "Ottilie, lo siento mucho", "Ainara, por favor no …": an apology or a plea to them
		}
	}
	return d.isPunct(k+1, ',') && k+2 < n && d.isWord(k+2) && !d.toks[k+2].upper && !d.toks[k+2].nl && addressedPronouns[d.lw(k+2)] && d.sentenceStart(k)
}

// apologyOpeners open an apology to the one named before the comma, one or
// two words ("sorry", "lo siento", "es tut mir leid", "mi dispiace").
var apologyOpeners = set([]string{"sorry", "apologies", "lo siento", "siento", "disculpa", "perdona", "es tut", "tut mir",
	"entschuldige", "désolé", "désolée", "toutes mes", "mi dispiace", "scusa", "scusami", "het spijt", "excuses", "sorry dat"})

// pleaseOpeners open a plea ("please", "por favor", "bitte", "s'il te
// plaît", "per favore", "alsjeblieft").
var pleaseOpeners = set([]string{"please", "por favor", "bitte", "s'il", "s’il", "per favore", "per piacere", "alsjeblieft", "alstublieft"})

// apologyAfter reports an apology opening at token m (lower case).
func (d *doc) apologyAfter(m int) bool {
	return d.openerAt(m, apologyOpeners)
}

// pleaseAfter reports a plea opening at token m (lower case).
func (d *doc) pleaseAfter(m int) bool {
	return d.openerAt(m, pleaseOpeners)
}

func (d *doc) openerAt(m int, set map[string]bool) bool {
	n := len(d.toks)
	if m >= n || !d.isWord(m) || d.toks[m].upper || d.toks[m].nl {
		return false
	}
	if set[d.lw(m)] {
		return true
	}
	return m+1 < n && d.isWord(m+1) && !d.toks[m+1].nl && set[d.lw(m)+" "+d.lw(m+1)]
}

// vocativePlace reports the positions of a vocative around token k: an
// opening (vocativeOpening), or ", Brigida." closing a sentence and ",
// Brigida, it arrives" or ", Sibylle: you find it" inside one, where the
// word before the comma ends a clause in lower case (not a list of
// capitalised words or numbers). German capitalises its nouns, so there a
// word the given names do not know is a vocative only in an opening
// ("bitte vorher anrufen, Hund!" is not one).
func (d *doc) vocativePlace(k int) bool {
	n := len(d.toks)
	if k+1 >= n || d.toks[k+1].kind != tPunct {
		return false
	}
	if d.vocativeOpening(k) {
		return true
	}
	if k < 2 || !d.isPunct(k-1, ',') || d.toks[k].nl || !d.isWord(k-2) || d.toks[k-2].upper || d.toks[k-2].digit || d.sentenceStart(k-1) {
		return false
	}
	switch {
	case d.isPunct(k+1, '.') || d.isPunct(k+1, '!') || d.isPunct(k+1, '?'):
		m := k + 2
		return m >= n || d.toks[m].nl || d.capWord(m) || d.toks[m].kind == tPunct
	case d.isPunct(k+1, ',') || d.isPunct(k+1, ':'):
		m := k + 2
		return m < n && d.isWord(m) && !d.toks[m].upper && !d.toks[m].digit && !d.toks[m].nl && !pairJoiners[d.lw(m)] && !orWords[d.lw(m)]
	}
	return false
}

// orWords end a list as "and" does ("Red, Blue, or Green").
var orWords = set(strings.Fields(`or oder ou o of`))

// lastSignature reports a lone name after the message's last sentence: "...
// anything else I can do for you? Sibylle", "... sous trois jours.
// Sibylle, Maison Bleuet". It returns the name's last token.
func (d *doc) lastSignature(k int) bool {
	n := len(d.toks)
	if k < 3 || !(d.isPunct(k-1, '.') || d.isPunct(k-1, '!') || d.isPunct(k-1, '?')) {
		return false // (a message that is the name alone is no signature)
	}
	// Nothing after it (not "Garantie?", a question), or the shop after
	// the name, to the message's end: "Sibylle, Maison Bleuet", "Sibylle
	// at Lampenhuis".
	if d.isPunct(k+1, ',') && d.teamToEnd(k+2) {
		// A team after the name says it signs, also on a line of its own.
		return d.nameLikeWord(k)
	}
	if k+1 != n && !(d.isPunct(k+1, ',') && d.shopToEnd(k+2) || d.signsForShop(k)) {
		return false
	}
	return d.vocativeWord(k)
}

// teamToEnd reports the team a signature's name writes for, to the end
// of the message: "Renzo, team Sicurezza", "Océane, équipe Sécurité".
func (d *doc) teamToEnd(m int) bool {
	return m < len(d.toks) && d.isWord(m) && !d.toks[m].nl && teamWords[d.lw(m)] && d.shopToEnd(m+1)
}

// signsForShop reports a signature's name at e followed by the shop it
// writes for, to the end of its line: "Rob at Lampenhuis", "Ilse von
// Gartenglück".
func (d *doc) signsForShop(e int) bool {
	return d.isWord(e+1) && signoffShopWords[d.lw(e+1)] && d.shopToEnd(e+2)
}

// shopToEnd reports one to four capitalised words from m to the end of
// the line or message, as a shop's name is written.
func (d *doc) shopToEnd(m int) bool {
	n := len(d.toks)
	if m >= n || d.toks[m].nl {
		return false
	}
	words := 0
	for ; m < n && !(words > 0 && d.toks[m].nl); m++ {
		if d.toks[m].kind == tPunct {
			if d.isPunct(m, '&') || (d.isPunct(m, '.') || d.isPunct(m, '!')) && (m+1 == n || d.toks[m+1].nl) {
				continue
			}
			return false
		}
		if !d.capWord(m) && !(d.isWord(m) && particles[d.lw(m)]) {
			return false
		}
		words++
	}
	return words > 0 && words <= 4
}

// signoffShopWords join a signature's name to the shop it writes for
// ("Rob at Lampenhuis", "Ilse von Gartenglück").
var signoffShopWords = set(strings.Fields(`at from @ bei von vom chez de du van bij da di dal`))

// apostropheSurname reports an Irish O' surname ("O'Donoghue", "O’Neill"):
// capitalised on both sides of the apostrophe, never an ordinary word.
func (d *doc) apostropheSurname(k int) bool {
	if !d.capWord(k) || d.flags[k]&flagBlocked != 0 || d.toks[k].allUp {
		return false
	}
	t := d.tokText(k)
	var rest string
	switch {
	case strings.HasPrefix(t, "O'"):
		rest = t[2:]
	case strings.HasPrefix(t, "O’"):
		rest = t[len("O’"):]
	default:
		return false
	}
	return len(rest) >= 3 && nameShaped(rest)
}

// encliticImperative reports a Spanish or Italian imperative with its
// pronoun attached and the stress marked ("Cuéntame", "Revísalo",
// "Dímelo"): a verb, not a name.
func encliticImperative(lw string) bool {
	if !strings.ContainsAny(lw, "áéíóúàèìòù") {
		return false
	}
	for _, s := range []string{"me", "te", "se", "lo", "la", "le", "nos", "los", "las", "les", "melo", "selo", "glielo"} {
		if len(lw) > len(s)+3 && strings.HasSuffix(lw, s) {
			return true
		}
	}
	return false
}

// commonEnding reports a word with a common-noun, participle or adverb
// ending (a stem of three letters or more before it).
func commonEnding(lw string) bool {
	for _, s := range commonEndings {
		if len(lw) >= len(s)+3 && strings.HasSuffix(lw, s) {
			return true
		}
	}
	return false
}

// trailingDetailName returns the last token of one to three name-shaped
// words at k that end the message after a comma, when the item before the
// comma is a detail already found (a date of birth, a phone number, an
// e-mail address): "Booking for the eye test, DOB 04/09/1981, Marjorie
// Tulloch". It returns -1 otherwise.
func (d *doc) trailingDetailName(k int) int {
	n := len(d.toks)
	if k < 2 || !d.isPunct(k-1, ',') || d.toks[k].nl || !d.toks[k].upper || !d.nameLikeWord(k) {
		return -1
	}
	e := k
	for e+1 < n && e-k < 2 && !d.toks[e+1].nl && d.capWord(e+1) && d.nameLikeWord(e+1) {
		e++
	}
	if !(e+1 == n || e+2 == n && (d.isPunct(e+1, '.') || d.isPunct(e+1, '!'))) {
		return -1
	}
	end := d.toks[k-2].e
	for _, c := range d.cands {
		if c.typ != Person && c.e == end {
			return e
		}
	}
	return -1
}

// kinApposition returns the last token of one to three name-shaped words
// at k that an apposition of kin follows ("van de rekening van Geertruida
// Zwaneveld, mijn moeder", "given to Ottilie, my neighbour"), or -1. The
// name must stand inside a sentence; in German, where nouns are
// capitalised, its first word must be a known name.
func (d *doc) kinApposition(k int) int {
	n := len(d.toks)
	// The cheap test first: a comma and a possessive within four tokens.
	comma := false
	for m := k + 1; m < n && m <= k+4 && !comma; m++ {
		comma = d.isPunct(m, ',') && m+1 < n && d.isWord(m+1) && possessive[d.lw(m+1)]
	}
	if !comma || d.sentenceStart(k) || !d.toks[k].upper || !d.nameLikeWord(k) || d.lang == "de" && d.toks[k].info&(wGiven|wSurname) == 0 {
		return -1
	}
	e := k
	for e+1 < n && e-k < 3 && !d.toks[e+1].nl && (d.capWord(e+1) && d.nameLikeWord(e+1) || d.isWord(e+1) && particles[d.lw(e+1)] && e+2 < n && d.capWord(e+2)) {
		e++
	}
	if !d.capWord(e) || e+3 >= n || !d.isPunct(e+1, ',') || !d.isWord(e+2) || !possessive[d.lw(e+2)] || !d.isWord(e+3) {
		return -1
	}
	if lw := d.lw(e + 3); kinWords[lw] || neighbourWords[lw] {
		return e
	}
	return -1
}

// neighbourWords name the people next door and at home, beside kinWords.
var neighbourWords = set(strings.Fields(`neighbour neighbor flatmate roommate housemate colleague
	nachbar nachbarin mitbewohner mitbewohnerin kollege kollegin voisin voisine colocataire collègue
	vecino vecina compañero compañera compañera de piso buurman buurvrouw huisgenoot huisgenote collega
	vicino vicina coinquilino coinquilina collega`))
