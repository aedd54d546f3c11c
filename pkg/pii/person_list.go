package pii

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A list of capitalised single words joined by commas and and/und/et/y/
// en/e is a list of names once one of its items is a name already found
// ("Priya, Osric and Tamsin") or the list follows a word saying names come
// ("Prénoms à broder : Gaspard, Apolline et Margaux"). Each item is a name
// of its own. German capitalises nouns, so there only a names cue makes an
// unknown item a name.

// namesWords announce a list of names.
var namesWords = set(strings.Fields(`names namen vornamen noms prénoms prenoms nombres namen nomi`))

func (d *doc) nameLists() {
	n := len(d.toks)
	found := len(d.cands)
	named := false
	for _, c := range d.cands {
		if c.typ == Person {
			if !named {
				if cap(d.nameEnd) < n {
					d.nameEnd = make([]int32, n)
				}
				d.nameEnd = d.nameEnd[:n]
			}
			named = true
			s := d.tokenAt(c.s)
			d.flags[s] |= flagNameStart
			d.nameEnd[s] = int32(d.tokenAt(c.e - 1))
		}
	}
	var items [8][2]int
	for k := 0; k < n; k++ {
		if !d.capWord(k) || d.toks[k].kind != tWord {
			continue
		}
		cnt, hasName, joined := 0, false, false
		m := k
		for cnt < len(items) {
			e, isName := m, false
			if named && d.flags[m]&flagNameStart != 0 {
				e, isName = int(d.nameEnd[m]), true
			}
			hasName = hasName || isName
			items[cnt] = [2]int{m, e}
			cnt++
			p := e + 1
			if p < n && d.isPunct(p, ',') {
				p++
			}
			if p < n && d.isWord(p) && pairJoiners[d.lw(p)] {
				p++
				joined = true
			}
			if p == e+1 || p >= n || !d.capWord(p) || d.toks[p].nl {
				// "Fleur, Ties, Jip en opa Henk": the list goes on with a
				// relative named by a title; its items are the family's names.
				hasName = hasName || joined && p > e+1 && d.kinAfter(p)
				break
			}
			m = p
		}
		last := items[cnt-1][1]
		if cnt < 2 || !joined {
			continue
		}
		cue := d.namesCueBefore(k)
		if !cue && !hasName {
			k = last
			continue
		}
		for i := 0; i < cnt; i++ {
			s, e := items[i][0], items[i][1]
			if d.covered(d.toks[s].s, d.toks[e].e, found) {
				continue
			}
			if !d.vocativeWord(s) || !cue && d.lang == "de" && d.toks[s].info&wGiven == 0 {
				continue
			}
			if i == cnt-1 {
				e = d.extendName(s, 2)
			} else if s+1 < n && d.capWord(s+1) && d.toks[s].info&wGiven == 0 {
				continue // "Casa Verde": a phrase of words, not a given name
			}
			d.addName(s, e, 0.7, "person-list")
		}
		k = last
	}
}

// namesCueBefore reports a names word a few words before token k in its
// sentence ("The names to print are", "Bitte mit Namen besticken:").
func (d *doc) namesCueBefore(k int) bool {
	for j, w := k-1, 0; j >= 0 && w < 6; j-- {
		if d.toks[j].kind != tWord {
			if d.isPunct(j, ':') {
				continue
			}
			if d.toks[j].kind == tPunct && !d.isPunct(j, '-') {
				return false
			}
			continue
		}
		if namesWords[d.lw(j)] {
			return true
		}
		if d.toks[j].nl {
			return false
		}
		w++
	}
	return false
}

// bornWords say whose birth a date is, right after a name ("Loredana
// Capuzzi, nata il ...").
var bornWords = set(strings.Fields(`born geboren né née nacido nacida nato nata geb`))

// bornPair reports two name-shaped words at k and k+1 directly followed
// by ", born ...": a form's full name before its holder's birth date,
// also when no lexicon knows either word ("Wilhelmina Oosterbeek,
// geboren op ...").
func (d *doc) bornPair(k int) int {
	n := len(d.toks)
	// Where the comma and birth word stand first: most capitalised words
	// have none after them, and the word tables are asked only then.
	e := -1
	for m := k + 1; m <= k+2 && m+2 < n; m++ {
		if d.isPunct(m+1, ',') && d.isWord(m+2) && bornWords[d.lw(m+2)] {
			e = m
			break
		}
	}
	if e < 0 || e == k+2 && (d.toks[k].info&wGiven == 0 || d.lang == "de") {
		// A third word only after a known given name outside German,
		// where a capitalised noun may open the line.
		return -1
	}
	if !d.nameLikeWord(k) || d.e.lex.stop[d.lw(k)] {
		return -1
	}
	for m := k + 1; m <= e; m++ {
		if d.toks[m].nl || !d.toks[m].sp || !d.nameLikeWord(m) {
			return -1
		}
	}
	return e
}

// nextDoor are the words after a name that say it is a neighbour's
// ("Verhoeven van de buren neemt het aan", "Marguerite from next door").
var nextDoor = [][]string{{"van", "de", "buren"}, {"van", "hiernaast"}, {"from", "next", "door"}, {"next", "door"},
	{"von", "nebenan"}, {"d'à", "côté"}, {"de", "al", "lado"}, {"della", "porta", "accanto"}, {"dei", "vicini"},
	{"de", "enfrente"}, {"van", "nummer"}, {"from", "number"}, {"at", "number"}}

var nextDoorFirst = func() map[string]bool {
	m := map[string]bool{}
	for _, ws := range nextDoor {
		m[ws[0]] = true
	}
	return m
}()

// neighbourName reports a name-shaped word at k followed by words saying
// it lives next door.
func (d *doc) neighbourName(k int) bool {
	if k+2 >= len(d.toks) || !d.isWord(k+1) || d.toks[k+1].upper || !nextDoorFirst[d.lw(k+1)] || !d.capWord(k) {
		return false
	}
	for _, ws := range nextDoor {
		if ws[0] != d.lw(k+1) {
			continue
		}
		i := 0
		for ; i < len(ws) && k+1+i < len(d.toks) && d.isWord(k+1+i) && d.lw(k+1+i) == ws[i]; i++ {
		}
		if i == len(ws) {
			return d.nameLikeWord(k) && !d.toks[k].allUp
		}
	}
	return false
}

// introFollowers start what a caller says after introducing themself in
// lower case ("its bill again", "c'est désiré je rappelle").
var introFollowers = set(strings.Fields(`again here calling about from i je ich io ik yo encore
	nochmal ancora otra weer de`))

// lowerIntroName reports a lower-case known given name at j after a chat
// self-introduction, followed by a bracket, the end, or a word starting
// what the caller says next.
func (d *doc) lowerIntroName(j int) bool {
	n := len(d.toks)
	if !d.isWord(j) || d.toks[j].upper || d.toks[j].digit || d.toks[j].info&wGiven == 0 || d.flags[j]&flagBlocked != 0 || d.toks[j].nl {
		return false
	}
	if lw := d.lw(j); d.e.lex.stop[lw] || cueWords[lw] != 0 || contraction(lw) {
		return false
	}
	m := j + 1
	return m >= n || d.isPunct(m, '(') || d.isPunct(m, ',') || d.isWord(m) && !d.toks[m].nl && introFollowers[d.lw(m)]
}

// elidedPrefixes are articles and prepositions written elided onto the
// next word in Italian and French ("Nell'ordine", "Dell'articolo",
// "L'article", "Qu'il").
var elidedPrefixes = set(strings.Fields(`l d dell nell all dall sull coll quell quest qu un c j s n m t`))

// elidedArticle reports an elided article or preposition glued to a lower-
// case word: never a name ("Nell'ordine" is not "Nell").
func elidedArticle(lw string) bool {
	i := strings.IndexAny(lw, "'’")
	if i <= 0 || !elidedPrefixes[lw[:i]] {
		return false
	}
	rest := lw[i+1:]
	if lw[i] != '\'' {
		rest = lw[i+len("’"):]
	}
	return len(rest) >= 3
}

// capitalAfterElision reports a capital right after the apostrophe of w
// ("d'Amico", "dell’Orto"): a surname's particle, where an elided article
// before an ordinary word is followed by lower case ("nell'app").
func capitalAfterElision(w string) bool {
	i := strings.IndexAny(w, "'’")
	if i < 0 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(strings.TrimLeft(w[i:], "'’"))
	return unicode.IsUpper(r)
}

// ampersandBrand reports a word glued to '&' and another capitalised word
// ("Viktor&Rolf", "Dolce&Gabbana"): a brand named after people.
func (d *doc) ampersandBrand(k int) bool {
	n := len(d.toks)
	if k+2 < n && d.isPunct(k+1, '&') && !d.toks[k+1].sp && !d.toks[k+2].sp && d.capWord(k+2) {
		return true
	}
	return k >= 2 && d.isPunct(k-1, '&') && !d.toks[k].sp && !d.toks[k-1].sp && d.capWord(k-2)
}

// subjectPronouns stand after the verb when a sentence opens with an
// adverb ("Dan sturen we", "Dann schicken wir", "Then do we").
var subjectPronouns = set(strings.Fields(`we wij ik jij hij zij wir ich du er i he she they u je jullie`)) // round 14: Dutch "u", "je", "jullie" ("Dan krijgt u …")

// invertedAdverb reports a word opening a sentence before a lower-case
// verb and a subject pronoun: the inversion after an adverb ("Dan sturen
// we het opnieuw" — Dutch "then"), so the word is no name.
func (d *doc) invertedAdverb(k int) bool {
	return k+2 < len(d.toks) && d.sentenceStart(k) && d.isWord(k+1) && !d.toks[k+1].upper && d.isWord(k+2) &&
		!d.toks[k+2].upper && subjectPronouns[d.lw(k+2)] && !d.toks[k+1].nl && !d.toks[k+2].nl
}

// listArticles may stand between a list's last "and" and a relative's
// title ("y el abuelo", "e il nonno", "and the dog").
var listArticles = set(strings.Fields(`the el la il lo de der die das le my mijn mein meine mon ma mi mio mia onze our unsere notre nuestro nostro`))

// kinAfter reports a kinship title at m, after up to two articles, with a
// capitalised word after it.
func (d *doc) kinAfter(m int) bool {
	for i := 0; i < 2 && m < len(d.toks) && d.isWord(m) && listArticles[d.lw(m)]; i++ {
		m++
	}
	return m+1 < len(d.toks) && d.isWord(m) && titleWords[d.lw(m)] && d.capWord(m+1)
}

// Round 10. jobNouns name someone by their job: a courier opening a
// message with it ("Driver here —", "Fahrer hier,", "Livreur :") names no
// one, while one right before a name-shaped word is that person's title
// ("the delivery driver Tomasz said", "il tecnico Gualtiero è passato").
var jobNouns = set(strings.Fields(`driver courier rider deliveryman postman postwoman technician engineer porter concierge caretaker janitor
	fahrer fahrerin bote kurier zusteller zustellerin paketbote postbote techniker technikerin monteur hausmeister
	livreur livreuse coursier coursière facteur technicien technicienne gardien gardienne concierge transporteur
	repartidor repartidora mensajero transportista cartero técnico técnica tecnico conserje portero
	bezorger bezorgster koerier chauffeur postbode monteur technicus conciërge huismeester
	corriere fattorino autista postino tecnica portiere portinaio custode
	fitter installer plumber electrician handyman montador montadora instalador instaladora fontanero electricista
	installateur plombier électricien monteurin elektriker klempner handwerker
	installateur loodgieter elektricien klusjesman montatore installatore idraulico elettricista`))

// bellWords name a doorbell, buzzer or intercom; a quoted word in the
// clause after one is the name it shows ("l'interphone « Barthélemy »",
// "el telefonillo del segundo pone «Carrasco»", "bij de bel staat
// "Mulder" en "Brink"").
var bellWords = set(strings.Fields(`buzzer bell doorbell intercom klingel klingelschild türschild türklingel sonnette interphone
	l'interphone l’interphone interfono citofono campanello telefonillo portero timbre bel deurbel intercom naambordje`))

// bellShowVerbs say what a doorbell shows ("an der Klingel steht
// Kowalczyk", "the buzzer reads Hollings").
var bellShowVerbs = set(strings.Fields(`says reads shows steht stehen staat staan pone dice indique affiche marque c'è porte`))

// doorbellNames finds the names a doorbell clause shows: quoted
// capitalised words, one after a showing verb, or one right after "for"
// ("the buzzer for Hollings"), each its own span.
func (d *doc) doorbellNames() {
	n := len(d.toks)
	for k := 0; k < n; k++ {
		if d.toks[k].info&wBell == 0 || !bellWords[d.lw(k)] {
			continue
		}
		d.work++
		for j := k + 1; j < n && j <= k+12; j++ {
			if d.sentenceBreak(j) && (d.toks[j].kind != tPunct || j+1 >= n || d.toks[j+1].sp || d.toks[j+1].nl) {
				break
			}
			if d.toks[j].kind == tPunct && quoteTok(d.tokText(j)) && j+1 < n && (d.capWord(j+1) || j+2 < n && d.isWord(j+1) && particles[d.lw(j+1)] && d.capWord(j+2)) {
				if s, e, ok := d.readName(j+1, ncStrong); ok && !d.covered(d.toks[s].s, d.toks[e].e, len(d.cands)) {
					// Two names on one bell: "Öztürk / Schmitz", "Kaya & Lenz".
					s2, e2, ok2 := 0, 0, false
					if e+2 < n && (d.isPunct(e+1, '/') || d.isPunct(e+1, '&')) && d.capWord(e+2) {
						s2, e2, ok2 = d.readName(e+2, ncStrong)
					}
					if ok2 && e2+1 < n && quoteTok(d.tokText(e2+1)) {
						d.addName(s, e, 0.75, "person-doorbell")
						d.addName(s2, e2, 0.75, "person-doorbell")
						j = e2 + 1
					} else if e+1 < n && quoteTok(d.tokText(e+1)) {
						d.addName(s, e, 0.75, "person-doorbell")
						j = e + 1
					}
				}
				continue
			}
			if d.isWord(j) && (bellShowVerbs[d.lw(j)] || j == k+1 && d.lw(j) == "for") && j+1 < n && d.capWord(j+1) && !d.toks[j+1].nl && d.nameLikeWord(j+1) {
				if s, e, ok := d.readName(j+1, ncStrong); ok && !d.covered(d.toks[s].s, d.toks[e].e, len(d.cands)) {
					d.addName(s, e, 0.75, "person-doorbell")
					j = e
				}
			}
		}
	}
}

// roleName reports a name-shaped word at k+1 after the role noun at k,
// followed by a verb, a comma or the clause's end: "il tecnico Gualtiero
// è passato", "el transportista Anselmo dice". In German, where nouns are
// capitalised, the name must be a known given name.
func (d *doc) roleName(k int) bool {
	n := len(d.toks)
	m := k + 1
	if m < n && d.isPunct(m, ',') {
		// "El montador, Tavita Leota, irá ...": an apposition set off by
		// commas on both sides.
		m++
		e := m
		if e+1 < n && d.nameLikeWord(e+1) && !d.toks[e+1].nl {
			e++
		}
		if !d.nameLikeWord(m) || d.toks[m].nl || e+1 >= n || !d.isPunct(e+1, ',') || d.toks[k].allUp || !jobNouns[d.lw(k)] {
			return false
		}
		return d.lang != "de" || d.toks[m].info&wGiven != 0
	}
	if m >= n || d.toks[k].kind != tWord || d.toks[k].allUp || !jobNouns[d.lw(k)] || d.toks[m].nl || !d.nameLikeWord(m) {
		return false
	}
	if d.lang == "de" && d.toks[m].info&wGiven == 0 {
		return false
	}
	return m+1 >= n || d.toks[m+1].kind == tPunct || d.isWord(m+1) && !d.toks[m+1].upper
}

// dashSignature reports a name-shaped word after a dash at the end of
// an agent's message: "— Ciarán @ the workshop", "— Maëlle, service
// client", "— Seán". The name ends the message, or a team or shop
// follows it to the end.
func (d *doc) dashSignature(k int) bool {
	n := len(d.toks)
	if !d.nameLikeWord(k + 1) {
		return false
	}
	e := k + 1
	if e+1 < n && d.capWord(e+1) && !d.toks[e+1].nl && d.nameLikeWord(e+1) {
		e++ // "— Aoife Brennan"
	}
	if e+1 >= n || d.toks[e+1].nl || (d.isPunct(e+1, '.') || d.isPunct(e+1, '!')) && (e+2 >= n || d.toks[e+2].nl) {
		return true
	}
	if d.isPunct(e+1, '@') || d.isWord(e+1) && signoffShopWords[d.lw(e+1)] {
		return d.lineEndsWithin(e+2, 5)
	}
	if d.isPunct(e+1, ',') && e+2 < n && d.isWord(e+2) && d.teamPhrase(e+2) {
		return d.lineEndsWithin(e+3, 4)
	}
	return false
}

// signoffPlaceWords name where an agent works, after their name on a
// signature line ("Box Office", "Lens lab", "service client").
var signoffPlaceWords = set(strings.Fields(`box office lab desk counter reception workshop atelier bakery servicio servizio
	klantenservice kundenservice pâtisserie boulangerie ticketing tickets kassa caisse taquilla biglietteria`))

// teamPhrase reports a team, department or workplace word at m, or one
// word before it ("Box Office", "Lens lab").
func (d *doc) teamPhrase(m int) bool {
	is := func(j int) bool {
		if !d.isWord(j) || d.toks[j].nl {
			return false
		}
		lw := d.lw(j)
		return teamWords[lw] || deptWords[lw] || signoffPlaceWords[lw]
	}
	return is(m) || m+1 < len(d.toks) && d.isWord(m) && is(m+1)
}

// teamAfterName reports, for the dash at k opening a line, one or two
// name words, a comma and a team phrase that ends the message.
func (d *doc) teamAfterName(k int) bool {
	e := k + 1
	if !d.nameLikeWord(e) {
		return false
	}
	if e+1 < len(d.toks) && d.nameLikeWord(e+1) && !d.toks[e+1].nl {
		e++
	}
	return e+2 < len(d.toks) && d.isPunct(e+1, ',') && d.teamPhrase(e+2) && d.teamTail(e+2) && d.lastLine(k)
}

// teamTail reports that the line from m to its end is a team's name: at
// most four words, each a team or workplace word or capitalised ("Box
// Office", "service client", "Lens lab"), so that "Store pickup" and
// "Box Office pickup" (a product's delivery option) are none.
func (d *doc) teamTail(m int) bool {
	words := 0
	for ; m < len(d.toks) && !d.toks[m].nl; m++ {
		if !d.isWord(m) {
			if d.isPunct(m, '.') || d.isPunct(m, '!') || d.isPunct(m, '|') {
				continue
			}
			return false
		}
		lw := d.lw(m)
		if !d.toks[m].upper && !teamWords[lw] && !deptWords[lw] && !signoffPlaceWords[lw] {
			return false
		}
		if words++; words > 4 {
			return false
		}
	}
	return words > 0
}

// nameBeforeDash returns the first of one or two name words that open the
// last line of the message before the dash at k, a team phrase after it
// ending the line; -1 when not.
func (d *doc) nameBeforeDash(k int) int {
	s := k - 1
	if s < 0 || !d.nameLikeWord(s) {
		return -1
	}
	if !d.toks[s].nl && s > 0 && d.nameLikeWord(s-1) {
		s--
	}
	a := s
	if !d.toks[s].nl {
		a = s - 1
	}
	if !d.toks[s].nl && !(s > 0 && d.isPunct(s-1, '|') && d.toks[s-1].nl) || !d.teamPhrase(k+1) || !d.teamTail(k+1) || !d.lastLine(k) || d.isPunct(len(d.toks)-1, '|') {
		return -1
	}
	// The line signs a message whose last line before it ends a sentence
	// ("... on Monday.\nTavita Leota – service client"), not a list under
	// a heading ("Order summary:\nOak Table – Store pickup"); a name the
	// lexicons know needs no more.
	if !d.anyKnown(s, k-1) && (a == 0 || !(d.isPunct(a-1, '.') || d.isPunct(a-1, '!') || d.isPunct(a-1, '?'))) {
		return -1
	}
	return s
}

// lastLine reports that no line break follows token k.
func (d *doc) lastLine(k int) bool {
	for m := k + 1; m < len(d.toks); m++ {
		if d.toks[m].nl {
			return false
		}
	}
	return true
}

// lineEndsWithin reports the message's or the line's end within w words
// from token m, with no sentence end before it.
func (d *doc) lineEndsWithin(m, w int) bool {
	for words := 0; m < len(d.toks); m++ {
		if d.toks[m].nl {
			return true
		}
		if d.toks[m].kind == tPunct {
			if d.sentenceBreak(m) && m+1 < len(d.toks) && !d.toks[m+1].nl {
				return false
			}
			continue
		}
		if words++; words > w {
			return false
		}
	}
	return true
}

// thingLists are what a list of names may name that is no person.
var thingLists = set(strings.Fields(`products product items item files file colours colors sizes models variants
	produkte produkt artikel dateien farben größen modelle produits produit articles fichiers couleurs tailles modèles
	productos producto artículos archivos colores tallas modelos prodotti prodotto articoli file colori taglie modelli
	producten product artikelen bestanden kleuren maten modellen`))

// nameLineList reads a list of names one per line under a line that
// announces them and ends with a colon ("Namen voor de rug:", "Names for
// the shirts:", "Prénoms :"): each following line that is one capitalised
// word, or two (a given name and a surname), is a name, until a line that
// is not; two such lines at least (round 15). The line cue says what the
// words are, so a name that is also a word ("Ivy", "Roos") counts, and in
// German too.
func (d *doc) nameLineList() {
	n := len(d.toks)
	var idx *clauseIndex // built at the first list: most messages have none
	for k := 0; k < n; k++ {
		if !d.isWord(k) || !namesWords[d.lw(k)] {
			continue
		}
		c := k + 1
		for c < n && c <= k+5 && !d.toks[c].nl && !d.isPunct(c, ':') {
			c++
		}
		if c >= n || c > k+5 || d.toks[c].nl || !d.isPunct(c, ':') || c+1 >= n || !d.toks[c+1].nl {
			continue
		}
		things := false
		for i := max(0, k-1); i < c; i++ {
			if d.isWord(i) && thingLists[d.lw(i)] {
				things = true // "Names of the products:", "Namen der Dateien:"
			}
		}
		if things {
			continue
		}
		var lines [][2]int
		for m := c + 1; m < n && len(lines) < 40; {
			e := m
			for e+1 < n && !d.toks[e+1].nl && e-m < 2 {
				e++
			}
			if e+1 < n && !d.toks[e+1].nl {
				break // a longer line
			}
			ok := true
			for i := m; i <= e; i++ {
				if !d.capWord(i) || d.toks[i].allUp && d.toks[i].letters > 1 || d.toks[i].digit || d.e.lex.stop[d.lw(i)] || d.toks[i].info&wBrandOrPlace != 0 {
					ok = false
				}
			}
			if !ok {
				break
			}
			lines = append(lines, [2]int{m, e})
			m = e + 1
		}
		if len(lines) < 2 || !slices.ContainsFunc(lines, func(l [2]int) bool { return d.toks[l[0]].info&wGiven != 0 }) {
			// One line at least must start with a known given name: under
			// "Names:" people list colours, options and teams too ("Rot",
			// "Standard", "Red Dragons": security review).
			continue
		}
		// Whether a line is already a finding is asked of an index of the
		// findings made before this pass (the names it adds lie on earlier
		// lines): scanning every finding per line was quadratic in a
		// message of many such lists (security review).
		if idx == nil {
			idx = newClauseIndex(d.cands)
		}
		for _, l := range lines {
			d.work++
			if !idx.claimed(d.toks[l[0]].s, d.toks[l[1]].e) {
				d.addName(l[0], l[1], 0.65, "person-line-list")
			}
		}
		k = lines[len(lines)-1][1]
	}
}
