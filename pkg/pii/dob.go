package pii

// Dates of birth: a date with a year that a birth cue ("DOB", "born",
// "geb.", "née le", "nacida el", "geboren op", "nata il", a form line)
// introduces. Other dates (orders, deliveries, expiry) are not labelled, so
// without a cue nothing is reported.

var birthCues = map[string]bool{
	"dob": true, "d.o.b": true, "birth": true, "birthdate": true, "birthday": true, "born": true,
	"geb": true, "geboren": true, "geburtsdatum": true, "geburtstag": true, "geb.-datum": true, "geburtstdatum": true,
	"né": true, "née": true, "naissance": true, "anniversaire": true, "nee": true,
	"nacido": true, "nacida": true, "nacimiento": true, "cumpleaños": true, "nací": true, "naci": true, "nac": true,
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
	"nacimiento": true, "birth": true, "geburt": true,
}

func (d *doc) scanDOB() {
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
		// Up to eight tokens later, skipping fillers and punctuation.
		for j, seen := k+1, 0; j < n && seen < 8; j++ {
			if d.toks[j].kind == tPunct {
				if c := d.text[d.toks[j].s]; c == '!' || c == '?' {
					break
				}
				continue
			}
			if end, ok := d.dateAt(j); ok {
				d.add(d.toks[j].s, d.toks[end].e, DateOfBirth, 0.9, "dob-context")
				k = d.moreBirthDates(end)
				break
			}
			if otherDateCues[d.lw(j)] {
				break // "birthday present, ordered 12/05/2024"
			}
			if !dateFillers[d.lw(j)] && !birthCues[d.lw(j)] && seen > 2 {
				break
			}
			seen++
		}
	}
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
			if j+1 < n && d.isPunct(j, '\'') {
				if _, ok := d.numTok(j+1, 2, 2); ok {
					return j + 1, true
				}
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

// moreBirthDates continues a list of birth dates in one sentence ("I was
// born on 03.11.1969, my wife on 21 January 1972"): further dates count
// while no other date cue comes between. It returns the last token used.
func (d *doc) moreBirthDates(end int) int {
	last := end
	for j, words := end+1, 0; j < len(d.toks) && words < 8; j++ {
		tk := &d.toks[j]
		if tk.nl {
			break
		}
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' || c == '!' || c == '?' || c == ';' {
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
