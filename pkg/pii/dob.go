package pii

import "strings"

// Dates of birth: a date with a year that a birth cue ("DOB", "born",
// "geb.", "née le", "nacida el", "geboren op", "nata il", a form line)
// introduces. Other dates (orders, deliveries, expiry) are not labelled, so
// without a cue nothing is reported.

var birthCues = map[string]bool{
	"dob": true, "d.o.b": true, "birth": true, "birthdate": true, "birthday": true, "born": true,
	"geb": true, "geboren": true, "geburtsdatum": true, "geburtstag": true, "geb.-datum": true, "geburtstdatum": true,
	"né": true, "née": true, "naissance": true, "anniversaire": true, "nee": true,
	"nacido": true, "nacida": true, "nacimiento": true, "cumpleaños": true, "nací": true, "naci": true, "nac": true,
	"nació": true, "nacio": true, "nacieron": true, "nacimos": true, "naciste": true, "nacidos": true, "nacidas": true,
	"nés": true, "nées": true, "nate": true, "geburtsdaten": true, "birthdates": true, "geboortedata": true,
	// "came into the world", "zur Welt", "venue au monde", "vino al mundo",
	// "venuta al mondo", "ter wereld": only after their preposition (bornWorld).
	"world": true, "welt": true, "monde": true, "mundo": true, "mondo": true, "wereld": true,
	// Age checks ask for a date of birth: "For the age verification: 14
	// March 1990", "Altersprüfung", "vérification d'âge", "verifica
	// dell'età". English "age" counts only before such a word (ageCue).
	"age": true, "altersprüfung": true, "altersverifikation": true, "altersverifizierung": true, "alterskontrolle": true,
	"altersnachweis": true, "d'âge": true, "d’âge": true, "edad": true, "dell'età": true, "dell’età": true, "età": true,
	"leeftijdscheck": true, "leeftijdscontrole": true, "leeftijdsverificatie": true, "leeftijd": true,
	"geboortedatum": true, "verjaardag": true, "geb.datum": true,
	"nato": true, "nata": true, "nascita": true, "compleanno": true, "nati": true,
}

// monthNames maps month names and abbreviations of the six languages to 1–12.
var monthNames = buildMonths()

func buildMonths() map[string]int {
	m := map[string]int{}
	add := func(n int, names ...string) {
		for _, s := range names {
			m[s] = n
		}
	}
	add(1, "january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene", "januari", "gennaio", "gen")
	add(2, "february", "feb", "februar", "feber", "février", "fevrier", "févr", "fev", "febrero", "februari", "febbraio", "febr")
	add(3, "march", "mar", "märz", "maerz", "mars", "marzo", "maart", "mrt")
	add(4, "april", "apr", "avril", "avr", "abril", "abr", "aprile")
	add(5, "may", "mai", "mayo", "mei", "maggio", "mag")
	add(6, "june", "jun", "juni", "juin", "junio", "giugno", "giu")
	add(7, "july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug")
	add(8, "august", "aug", "août", "aout", "agosto", "ago", "augustus")
	add(9, "september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set")
	add(10, "october", "oct", "oktober", "okt", "octobre", "octubre", "okt", "ottobre", "ott")
	add(11, "november", "nov", "novembre", "noviembre")
	add(12, "december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic", "dicembre")
	return m
}

// dateFillers may stand between a birth cue and its date.
var dateFillers = map[string]bool{
	"on": true, "the": true, "is": true, "was": true, "am": true, "le": true, "el": true, "il": true, "op": true,
	"a": true, "of": true, "date": true, "datum": true, "de": true, "di": true, "van": true, "ist": true, "est": true,
	"es": true, "è": true, "e": true, "in": true, "at": true, "my": true, "mein": true, "meine": true, "ma": true,
	"mi": true, "mijn": true, "la": true, "mia": true, "his": true, "her": true, "sein": true, "ihr": true,
	"daughter": true, "son": true, "i": true, "was/is": true, "geboren": true, "born": true, "nata": true, "nato": true,
	"né": true, "née": true, "nacido": true, "nacida": true, "el:": true, "il:": true, "le:": true, "lautet": true,
	"dia": true, "día": true, "giorno": true, "jour": true, "tag": true, "dag": true, "fecha": true, "data": true,
	"sono": true, "ben": true, "soy": true, "suis": true, "bin": true, "je": true, "ich": true, "ik": true, "yo": true,
	"er": true, "sie": true, "hij": true, "zij": true, "ze": true, "il/elle": true, "elle": true, "él": true, "ella": true,
	"lui": true, "lei": true, "we": true, "she": true, "he": true, "they": true, "are": true, "were": true,
	"wurde": true, "wurden": true, "werd": true, "is:": true, "d'anniversaire": true, "naissance": true, "nascita": true,
	"nacimiento": true, "birth": true, "geburt": true, "for": true, "both": true, "beide": true, "me": true,
	"us": true, "uns": true, "nous": true, "noi": true, "ons": true, "ambos": true, "entrambi": true, "two": true,
	"für": true, "pour": true, "para": true, "per": true, "voor": true, "all": true, "tutti": true, "todos": true,
	"alle": true, "tous": true, "dates": true, "daten": true,
	"está": true, "steht": true, "staat": true, "sta": true,
}

// ageCueWords are the birth cues that name an age check.
var ageCueWords = map[string]bool{
	"age": true, "altersprüfung": true, "altersverifikation": true, "altersverifizierung": true, "alterskontrolle": true,
	"altersnachweis": true, "d'âge": true, "d’âge": true, "edad": true, "dell'età": true, "dell’età": true, "età": true,
	"leeftijdscheck": true, "leeftijdscontrole": true, "leeftijdsverificatie": true, "leeftijd": true,
}

// ageCheckWords make "age" a birth cue ("age verification", "age check").
var ageCheckWords = map[string]bool{"verification": true, "check": true, "checks": true, "verify": true, "verified": true, "proof": true, "confirmation": true}

// worldCues are "world" in the six languages; they are birth cues after
// their preposition ("into the world", "zur Welt", "au monde", "al mundo",
// "al mondo", "ter wereld"). backward says the date comes before the cue
// ("kam am 4. Mai 2010 zur Welt"), as it does for a final "geboren".
var worldCues = map[string]struct {
	prep     string
	backward bool
}{
	"world": {"the", false}, "welt": {"zur", true}, "monde": {"au", false}, "mundo": {"al", false},
	"mondo": {"al", false}, "wereld": {"ter", true},
}

func (d *doc) scanDOB() {
	d.scanBirthYearDates()
	n := len(d.toks)
	for k := 0; k < n; k++ {
		tk := &d.toks[k]
		if tk.kind == tWord && d.lw(k) == "d" && k+4 < n && d.isPunct(k+1, '.') && d.lw(k+2) == "o" && d.isPunct(k+3, '.') && d.lw(k+4) == "b" {
			k += 4 // "D.O.B"
		} else if tk.kind != tWord || tk.info&wBirth == 0 || !birthCues[d.lw(k)] {
			continue
		}
		d.work++
		// "anniversaire de mariage" is a wedding anniversary.
		if d.lw(k) == "anniversaire" && k+2 < n && d.lw(k+2) == "mariage" {
			continue
		}
		if d.lw(k) == "age" && !(k+1 < n && ageCheckWords[d.lw(k+1)]) {
			continue
		}
		backward := d.lw(k) == "geboren"
		if wc, ok := worldCues[d.lw(k)]; ok {
			if k == 0 || d.lw(k-1) != wc.prep {
				continue
			}
			backward = wc.backward
		}
		// A cue after its date: "Ich bin am 03.11.1969 geboren", "Mijn
		// dochter is op 4 mei 2010 geboren", "kam am 4. Mai 2010 zur Welt".
		if backward {
			p := k - 1
			if _, ok := worldCues[d.lw(k)]; ok {
				p = k - 2
			}
			if s, ok := d.dateEndingAt(p); ok {
				d.add(d.toks[s].s, d.toks[p].e, DateOfBirth, 0.85, "dob-context")
				k = d.moreBirthDates(k)
				continue
			}
		}
		ageCue := ageCueWords[d.lw(k)]
		corrected := false
		found := false
		// Up to eight tokens later, skipping fillers and punctuation.
		for j, seen := k+1, 0; j < n && seen < 8; j++ {
			if d.toks[j].kind == tPunct {
				if c := d.text[d.toks[j].s]; c == '!' || c == '?' {
					break
				}
				continue
			}
			if end, ok := d.dateAt(j); ok {
				if placeholderDate(d.text[d.toks[j].s:d.toks[end].e]) {
					// "wrong DOB, it says 01/01/1900. Correct one is ...": a
					// system's default is no one's birth date; the right
					// one may follow.
					corrected, seen, j = true, 0, end
					continue
				}
				d.add(d.toks[j].s, d.toks[end].e, DateOfBirth, 0.9, "dob-context")
				k = d.moreBirthDates(end)
				found = true
				break
			}
			if otherDateCues[d.lw(j)] || otherDateCompound(d.lw(j)) {
				break // "birthday present, ordered 12/05/2024"
			}
			if !corrected && !ageCue && d.correctionAt(j) {
				// "The date of birth on my account is wrong, it's ...",
				// "Das Geburtsdatum ist falsch, richtig ist der ...": a
				// correction of the birth date gives the right one next.
				corrected, seen = true, 0
				continue
			}
			if !corrected && !dateFillers[d.lw(j)] && !birthCues[d.lw(j)] && (seen > 2 || ageCue && !ageCheckWords[d.lw(j)] && !ageFillers[d.lw(j)]) {
				// After an age-check word only a form-like lead-in may come
				// before the date ("Altersprüfung: ...", "age check: my date
				// of birth is ..."), not a clause ("hat am 12.05.2024 nicht
				// geklappt").
				break
			}
			seen++
		}
		if !found && !ageCue {
			if s, e, ok := d.birthDateAhead(k); ok {
				d.add(d.toks[s].s, d.toks[e].e, DateOfBirth, 0.85, "dob-context")
				k = e
				continue
			}
		}
		if !found && !ageCue {
			if s, e, ok := d.answeredDate(k); ok {
				// "Agent: please tell me your date of birth.\nCustomer:
				// 1st of May 1980": the answer on the next line.
				d.add(d.toks[s].s, d.toks[e].e, DateOfBirth, 0.85, "dob-answer")
				k = e
			}
		}
	}
}

// answeredDate finds a date that answers the birth cue at k on the next
// line: the line holds nothing but the date (after a speaker label such as
// "Customer:"), so it can only be the answer to the question above it.
func (d *doc) answeredDate(k int) (int, int, bool) {
	n := len(d.toks)
	m := k + 1
	for m < n && m <= k+30 && !d.toks[m].nl {
		m++
	}
	if m >= n || !d.toks[m].nl {
		return 0, 0, false
	}
	if m+1 < n && d.isWord(m) && d.isPunct(m+1, ':') && !d.toks[m+1].nl {
		m += 2 // "Customer:", "Kunde:", "Client :"
	}
	if m >= n {
		return 0, 0, false
	}
	end, ok := d.dateAt(m)
	if !ok {
		return 0, 0, false
	}
	if e := end + 1; e < n && !d.toks[e].nl && !(d.toks[e].kind == tPunct && (e+1 >= n || d.toks[e+1].nl)) {
		return 0, 0, false // more follows on the line: not a bare answer
	}
	return m, end, true
}

// otherDateCompound reports a compound that names another date
// (Lieferdatum, leverdatum, Bestelldatum, Ablaufdatum): one ending in
// "datum" that is no birth word.
func otherDateCompound(w string) bool {
	return len(w) > 6 && strings.HasSuffix(w, "datum") && !birthCues[w] && !strings.Contains(w, "geb")
}

// correctionWords say that what was just named is wrong.
var correctionWords = map[string]bool{
	"wrong": true, "incorrect": true, "wrongly": true, "incorrectly": true, "mistake": true, "typo": true, "outdated": true,
	"falsch": true, "fehlerhaft": true, "inkorrekt": true, "verkehrt": true, "faux": true, "fausse": true, "erroné": true,
	"erronée": true, "incorrecte": true, "erreur": true, "mal": true, "incorrecta": true, "incorrecto": true,
	"equivocada": true, "equivocado": true, "errónea": true, "erróneo": true, "erronea": true, "erroneo": true,
	"sbagliata": true, "sbagliato": true, "errata": true, "errato": true, "errore": true, "fout": true, "onjuist": true,
	"verkeerd": true, "verkeerde": true,
}

// correctionAt reports a correction word at token j, or "stimmt nicht",
// "klopt niet", "n'est pas bonne", "no es correcta", "non è corretta",
// "is not right".
func (d *doc) correctionAt(j int) bool {
	w := d.lw(j)
	if correctionWords[w] {
		return true
	}
	if j+1 < len(d.toks) {
		switch w {
		case "isn't", "isn’t":
			nx := d.lw(j + 1)
			return nx == "right" || nx == "correct"
		case "stimmt", "klopt", "is":
			nx := d.lw(j + 1)
			return nx == "nicht" || nx == "niet" || nx == "not" && j+2 < len(d.toks) && (d.lw(j+2) == "right" || d.lw(j+2) == "correct")
		case "pas", "no", "non", "niet", "nicht", "not":
			nx := d.lw(j + 1)
			return nx == "bonne" || nx == "correcte" || nx == "correcta" || nx == "correcto" || nx == "corretta" || nx == "corretto" || nx == "correct" || nx == "right" || nx == "juist" || nx == "richtig" || nx == "exacte"
		}
	}
	return false
}

// ageFillers may stand between an age-check word and the birth date.
var ageFillers = map[string]bool{"please": true, "bitte": true, "svp": true, "por": true, "favor": true, "per": true, "favore": true, "graag": true, "here": true, "hier": true}

// dateEndingAt finds a date whose last token is p, starting at most eight
// tokens before it, and returns its first token.
func (d *doc) dateEndingAt(p int) (int, bool) {
	if p < 0 || p >= len(d.toks) || d.toks[p].kind == tPunct {
		return 0, false
	}
	for j := p; j >= 0 && j >= p-8; j-- {
		if e, ok := d.dateAt(j); ok && e == p {
			return j, true
		}
		if d.toks[j].nl {
			break
		}
	}
	return 0, false
}

func (d *doc) numTok(k, minLen, maxLen int) (int, bool) {
	if k < 0 || k >= len(d.toks) || d.toks[k].kind != tNum {
		return 0, false
	}
	l := d.toks[k].e - d.toks[k].s
	if l < minLen || l > maxLen {
		return 0, false
	}
	return atoiBytes(d.tokText(k)), true
}

// adjacent reports whether token k+1 follows k with no space.
func (d *doc) adjacent(k int) bool {
	return k+1 < len(d.toks) && !d.toks[k+1].sp
}

// dateAt parses a date with a year that starts at token k and returns its
// last token. Numeric (d.m.y, m/d/y, y-m-d, two- or four-digit years) and
// written forms ("5. Juni 1971", "7 de julio de 1968", "1st of May 1980",
// "May 1, 1980") of the six languages.
func (d *doc) dateAt(k int) (int, bool) {
	n := len(d.toks)
	// Numeric with one separator kind and no spaces.
	if a, ok := d.numTok(k, 1, 4); ok && k+4 < n && d.adjacent(k) && d.adjacent(k+1) && d.adjacent(k+2) && d.adjacent(k+3) {
		sep := d.toks[k+1]
		if sep.kind == tPunct && sep.e-sep.s == 1 && d.isPunct(k+3, d.text[sep.s]) {
			c := d.text[sep.s]
			if c == '.' || c == '/' || c == '-' {
				b, ok2 := d.numTok(k+2, 1, 2)
				y, ok3 := d.numTok(k+4, 2, 4)
				la := d.toks[k].e - d.toks[k].s
				ly := d.toks[k+4].e - d.toks[k+4].s
				if ok2 && ok3 && ly != 3 {
					if la == 4 && y <= 31 && b >= 1 && b <= 12 && y >= 1 && d.toks[k+4].e-d.toks[k+4].s <= 2 && a >= 1900 {
						return k + 4, true // y-m-d
					}
					if la <= 2 && a >= 1 && b >= 1 && (a <= 12 && b <= 31 || a <= 31 && b <= 12) && (ly == 2 || y >= 1900 && y <= 2100) {
						if k+5 < n && d.adjacent(k+4) && d.isPunct(k+5, c) && k+6 < n && d.toks[k+6].kind == tNum && d.adjacent(k+5) {
							return 0, false // longer dotted number
						}
						return k + 4, true
					}
				}
			}
		}
	}
	// A Roman month between one separator: "31-XII-1999", "12.IV.1975".
	if a, ok := d.numTok(k, 1, 2); ok && a >= 1 && a <= 31 && k+4 < n && d.adjacent(k) && d.adjacent(k+1) && d.adjacent(k+2) && d.adjacent(k+3) {
		if c := d.text[d.toks[k+1].s]; (c == '-' || c == '/' || c == '.') && d.isPunct(k+1, c) && d.isPunct(k+3, c) && d.toks[k+2].kind == tWord && romanMonth(d.tokText(k+2)) > 0 {
			if y, ok := d.numTok(k+4, 4, 4); ok && y >= 1900 && y <= 2100 {
				return k + 4, true
			}
		}
	}
	// Written: [day][.|st|nd|rd|th|er|º] [of|de] month [,] [de|del] year
	j := k
	day := 0
	if v, ok := d.numTok(j, 1, 2); ok && v >= 1 && v <= 31 {
		day = v
		j++
		if j < n && (d.isPunct(j, '.') || d.tokText(j) == "º" || d.tokText(j) == "°") && !d.toks[j].sp {
			j++
		}
	} else if j < n && d.toks[j].kind == tWord && d.toks[j].digit {
		w := d.lw(j)
		v, suf := 0, ""
		for i := 0; i < len(w); i++ {
			if isDigit(w[i]) {
				v = v*10 + int(w[i]-'0')
			} else {
				suf = w[i:]
				break
			}
		}
		switch suf {
		case "st", "nd", "rd", "th", "er", "e", "eme", "ème", "º", "°", "o", "ste", "de", "te":
			if v >= 1 && v <= 31 {
				day = v
				j++
			}
		}
	}
	if day > 0 && j+3 < n && (d.isPunct(j, '-') || d.isPunct(j, '/')) && d.adjacent(j-1) && d.adjacent(j) &&
		monthNames[d.lw(j+1)] > 0 && d.adjacent(j+1) && d.isPunct(j+2, d.text[d.toks[j].s]) && d.adjacent(j+2) {
		// "12-Jan-1990", "03/mar/85": a month name between one separator.
		if y, ok := d.numTok(j+3, 2, 4); ok && d.toks[j+3].e-d.toks[j+3].s != 3 && (y >= 1900 && y <= 2100 || d.toks[j+3].e-d.toks[j+3].s == 2) {
			return j + 3, true
		}
	}
	if day > 0 {
		if j < n && (d.lw(j) == "of" || d.lw(j) == "de" || d.lw(j) == "di") {
			j++
		}
		if j < n && monthNames[d.lw(j)] > 0 {
			j++
			if j < n && d.isPunct(j, '.') && !d.toks[j].sp {
				j++
			}
			if j < n && d.isPunct(j, ',') {
				j++
			}
			if j < n && (d.lw(j) == "de" || d.lw(j) == "del" || d.lw(j) == "of") {
				j++
			}
			if y, ok := d.numTok(j, 4, 4); ok && y >= 1900 && y <= 2100 {
				return j, true
			}
			// "4 de julio del 85": a two-digit year after its preposition.
			if _, ok := d.numTok(j, 2, 2); ok && j > 0 && (d.lw(j-1) == "del" || d.lw(j-1) == "de") {
				return j, true
			}
			if j+1 < n && d.isPunct(j, '\'') {
				if _, ok := d.numTok(j+1, 2, 2); ok {
					return j + 1, true
				}
			}
			// "30 avril 88": a two-digit year right after the month, not
			// an hour ("12 mars 10h", "12 mars 10:30", "10 heures").
			if _, ok := d.numTok(j, 2, 2); ok && d.toks[j].sp && (j+1 >= n || d.toks[j+1].sp && !timeWords[d.lw(j+1)] || d.isPunct(j+1, '.') || d.isPunct(j+1, ',') || d.isPunct(j+1, ';')) {
				return j, true
			}
		}
		return 0, false
	}
	// Month first: "May 1, 1980", "Nov. 28 1990", "May 1st, 1980".
	if j < n && d.toks[j].kind == tWord && monthNames[d.lw(j)] > 0 {
		j++
		if j < n && d.isPunct(j, '.') && !d.toks[j].sp {
			j++
		}
		if v, ok := d.numTok(j, 1, 2); ok && v >= 1 && v <= 31 {
			j++
		} else if j < n && d.toks[j].kind == tWord && d.toks[j].digit && d.toks[j].e-d.toks[j].s <= 4 {
			j++
		} else {
			return 0, false
		}
		if j < n && d.isPunct(j, ',') {
			j++
		}
		if y, ok := d.numTok(j, 4, 4); ok && y >= 1900 && y <= 2100 {
			return j, true
		}
	}
	return 0, false
}

// timeWords follow an hour ("10 heures", "10 Uhr").
var timeWords = set(strings.Fields(`h hours hour heures heure uhr horas hora uur ore ora am pm`))

// placeholderDate reports a system's default date (01/01/1900,
// 1900-01-01, 01.01.1900): a form's blank, no birth date.
func placeholderDate(v string) bool {
	if len(v) < 8 || len(v) > 10 || !strings.Contains(v, "1900") {
		return false
	}
	ones := 0
	for i := 0; i < len(v); i++ {
		if v[i] == '1' {
			ones++
		}
	}
	return ones == 3 // the year's 1, the day's and the month's: 1 January 1900
}

// otherDateCues end a list of birth dates: a later date in the sentence
// that one of these introduces is not a birth date.
var otherDateCues = map[string]bool{
	"order": true, "ordered": true, "delivery": true, "deliver": true, "delivered": true, "arrive": true, "expires": true,
	"expiry": true, "valid": true, "shipped": true, "bestellt": true, "lieferung": true, "geliefert": true, "bestellung": true,
	"commande": true, "livraison": true, "livré": true, "expire": true, "pedido": true, "entrega": true, "envío": true,
	"caduca": true, "bestelling": true, "levering": true, "geleverd": true, "verloopt": true, "ordine": true,
	"consegna": true, "scade": true, "scadenza": true, "gültig": true, "until": true, "bis": true, "jusqu'au": true,
	"hasta": true, "tot": true, "fino": true, "since": true, "seit": true, "depuis": true, "desde": true, "sinds": true,
	"dal": true, "anniversary": true, "hochzeitstag": true, "wedding": true, "mariage": true, "boda": true,
	"bruiloft": true, "matrimonio": true, "married": true, "verheiratet": true,
	"present": true, "gift": true, "party": true, "geschenk": true, "feier": true, "party,": true, "cadeau": true,
	"fête": true, "regalo": true, "fiesta": true, "feest": true, "festa": true, "sent": true, "paid": true,
	"arrived": true, "angekommen": true, "arrivé": true, "llegó": true, "aangekomen": true, "arrivato": true,
	"bestellt,": true, "purchased": true, "bought": true, "gekauft": true, "acheté": true, "comprado": true,
	"gekocht": true, "comprato": true, "ships": true, "dispatched": true, "verschickt": true, "envoyé": true,
}

// startsRelation reports whether token j starts "my wife", "mein Mann",
// "ma fille", "mi hijo", "mijn man", "mio marito" (a possessive and a
// word), or "and"/"und"/"et"/"y"/"en"/"e" before one.
func (d *doc) startsRelation(j int) bool {
	if j < len(d.toks) && (d.lw(j) == "and" || d.lw(j) == "und" || d.lw(j) == "et" || d.lw(j) == "y" || d.lw(j) == "en" || d.lw(j) == "e") {
		j++
	}
	return j+1 < len(d.toks) && possessive[d.lw(j)] && kinWords[d.lw(j+1)]
}

// kinWords name the relatives whose birth dates customers give with
// their own.
var kinWords = set(strings.Fields(`
wife husband son daughter mum mom mother dad father brother sister partner boyfriend girlfriend grandma grandmother
grandad grandfather grandson granddaughter child children kid kids baby twin twins aunt uncle niece nephew cousin spouse
mann frau sohn tochter mutter vater bruder schwester partnerin freund freundin oma opa enkel enkelin kind kinder zwillinge
tante onkel ehemann ehefrau
mari femme fils fille mère père frère sœur soeur compagnon compagne conjoint conjointe enfant enfants bébé grand-mère grand-père
marido esposo esposa mujer hijo hija madre padre hermano hermana pareja novio novia abuela abuelo hijos hijas bebé
man vrouw zoon dochter moeder vader broer zus vriend vriendin oma opa kinderen
marito moglie figlio figlia fratello sorella compagno compagna nonna nonno bambino bambina figli figlie
`))

// moreBirthDates continues a list of birth dates in one sentence ("I was
// born on 03.11.1969, my wife on 21 January 1972"): further dates count
// while no other date cue comes between. It returns the last token used.
func (d *doc) moreBirthDates(end int) int {
	last := end
	crossed := false
	for j, words := end+1, 0; j < len(d.toks) && words < 8; j++ {
		tk := &d.toks[j]
		if tk.nl {
			// A new line may go on with a relative's date, once.
			if crossed || !d.startsRelation(j) {
				break
			}
			crossed, words = true, 4
		}
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' || c == '!' || c == '?' || c == ';' {
				// "I was born on 03.11.1969. My wife on 21 January 1972.":
				// the next sentence may go on with a relative's date.
				if c == '.' && !crossed && j+1 < len(d.toks) && d.startsRelation(j+1) {
					crossed, words = true, 4
					continue
				}
				if c == '.' && d.selfCorrectionAhead(j+1) {
					// "born 1985-06-30... sorry, 2015-06-30": the writer
					// corrects the birth date they just gave, within a few
					// words ("Sorry to bother you, the parcel from ..." is
					// another matter).
					words = 5
					continue
				}
				break
			}
			continue
		}
		if otherDateCues[d.lw(j)] {
			break
		}
		if e, ok := d.dateAt(j); ok {
			d.add(d.toks[j].s, d.toks[e].e, DateOfBirth, 0.8, "dob-context")
			last, j, words = e, e, 0
			continue
		}
		words++
	}
	return last
}

// selfCorrections start a sentence that takes back what was just written
// ("sorry, ...", "I mean ...", "ich meine ...", "pardon, ...").
var selfCorrections = set(strings.Fields(`sorry oops correction pardon perdón perdon perdona scusa scusate scusi excusez désolé désolée`))

// selfCorrectionAhead reports a self-correction word as the next word at
// or after token j, past punctuation on the same line.
func (d *doc) selfCorrectionAhead(j int) bool {
	for ; j < len(d.toks) && d.toks[j].kind == tPunct && !d.toks[j].nl; j++ {
	}
	if j >= len(d.toks) || d.toks[j].nl || !d.isWord(j) {
		return false
	}
	w := d.lw(j)
	if w == "i" || w == "ich" || w == "je" || w == "ik" || w == "io" {
		// "I mean", "ich meine", "je veux dire", "ik bedoel", "intendo"
		if j+1 < len(d.toks) {
			nx := d.lw(j + 1)
			return nx == "mean" || nx == "meant" || nx == "meine" || nx == "meinte" || nx == "bedoel" || nx == "veux"
		}
		return false
	}
	return selfCorrections[w]
}

// dateEntryVerbs say a value was typed into a form ("i put", "ich habe ...
// eingegeben", "j'ai mis", "puse", "ik heb ... ingevuld", "ho messo").
var dateEntryVerbs = set(strings.Fields(`put entered typed wrote filled eingegeben eingetragen eingetippt geschrieben mis saisi
	tapé écrit rempli puse pongo introduje escribí escribi ingevuld ingevoerd getypt geschreven ingetypt messo inserito
	scritto digitato`))

// birthDateAhead finds the date a birth cue names further on, past the
// words that say whose or what for: after the colon that ends the cue's
// lead-in ("Geburtsdatum vom Kind für die Garantie: 12. März 2019") or
// after a verb of typing it into the form ('it wants "DOB (MM/DD/YYYY)",
// i put 07/22/1994'). The line must name no other date.
func (d *doc) birthDateAhead(k int) (int, int, bool) {
	n := len(d.toks)
	for j, words := k+1, 0; j < n && words < 12; j++ {
		if d.toks[j].nl {
			return 0, 0, false
		}
		if d.toks[j].kind == tPunct {
			c := d.text[d.toks[j].s]
			if c == '!' || c == '?' || c == '.' && j+1 < n && d.toks[j+1].sp {
				return 0, 0, false
			}
			if c == ':' && j+1 < n && !d.toks[j+1].nl {
				if end, ok := d.dateAt(j + 1); ok {
					return j + 1, end, true
				}
				// "fecha de nacimiento del titular: Andrés Molina,
				// 15-03-1977": whose birth date, by name, then the date.
				m := j + 1
				for m < n && m-j <= 4 && d.capWord(m) && !d.toks[m].nl {
					m++
				}
				if m > j+1 && m+1 < n && d.isPunct(m, ',') && !d.toks[m+1].nl {
					if end, ok := d.dateAt(m + 1); ok {
						return m + 1, end, true
					}
				}
				return 0, 0, false
			}
			continue
		}
		lw := d.lw(j)
		if otherDateCues[lw] || otherDateCompound(lw) {
			return 0, 0, false
		}
		if dateEntryVerbs[lw] && j+1 < n && !d.toks[j+1].nl {
			if end, ok := d.dateAt(j + 1); ok {
				return j + 1, end, true
			}
		}
		words++
	}
	return 0, 0, false
}

// romanMonths are the months in upper-case Roman numerals, as Spanish,
// Italian and Polish forms write them ("31-XII-1999").
var romanMonths = map[string]int{"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11, "XII": 12}

func romanMonth(w string) int { return romanMonths[w] }

// birthYearWords state the year someone was born ("Ich bin Jahrgang
// 1952", "Geburtsjahr 1948", "geboortejaar 1961").
var birthYearWords = set(strings.Fields(`jahrgang geburtsjahr geboortejaar`))

// fullDateWords ask for or give the whole date after a birth year ("das
// ganze Datum", "the full date", "la date complète", "la fecha completa",
// "de volledige datum", "la data completa").
var fullDateWords = set(strings.Fields(`ganze ganzes genaue vollständige full whole complete complète entière completa exacta volledige hele esatta intera`))

// scanBirthYearDates finds, after a birth-year word, a full date later in
// the message whose year is that birth year or that follows a "whole
// date" phrase: "Ich bin Jahrgang 1952 ..., das ganze Datum: 3.7.1952".
func (d *doc) scanBirthYearDates() {
	n := len(d.toks)
	for k := 0; k < n; k++ {
		if d.toks[k].kind != tWord || d.toks[k].info&wBirth == 0 || !birthYearWords[d.lw(k)] {
			continue
		}
		d.work++
		year := ""
		for j := k + 1; j < n && j <= k+3; j++ {
			if d.toks[j].kind == tNum {
				if l := d.toks[j].e - d.toks[j].s; l == 2 || l == 4 {
					year = d.tokText(j)
				}
				break
			}
		}
		for j := k + 1; j < n && j <= k+60; j++ {
			if d.toks[j].kind != tNum {
				continue
			}
			end, ok := d.dateAt(j)
			if !ok {
				continue
			}
			y := d.tokText(end)
			same := year != "" && len(y) == 4 && strings.HasSuffix(y, year)
			whole := false
			for m := j - 1; m >= 0 && m >= j-4; m-- {
				if d.isWord(m) && fullDateWords[d.lw(m)] {
					whole = true
				}
			}
			if same || whole {
				d.add(d.toks[j].s, d.toks[end].e, DateOfBirth, 0.85, "dob-context")
				k = end
				break
			}
		}
	}
}
