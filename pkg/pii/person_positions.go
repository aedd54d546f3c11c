package pii

import "strings"

// Round 12: positions only a name can take, without a lexicon.
//
// coordinatedNames: a capitalised word (or a given name and a surname) set
// beside the writer by "and I" in the six languages ("Ysolde and I
// ordered", "Wiebke und ich", "Ombeline et moi", "Itziar y yo", "Ottavia
// e io", "Sjoukje en ik"). The words before the joiner must open the
// clause (a sentence start, a comma, or "with/mit/avec/con/met"), and no
// determiner, kin word, title or business word stands there: "Mein Mann
// und ich", "the kids and I" stay outside.
//
// roleCopulaNames: a role that only a person fills (the account holder,
// the contact person, the recipient, Ansprechpartner, titulaire,
// destinatario, contactpersoon, referente …), then within a few words of
// its clause a copula, then a name-shaped word or two that end the clause
// ("Ansprechpartner vor Ort ist Ingolf Bräutigam", "the recipient this
// time is Quillon Vasterby", "il referente per la consegna è Ottavia
// Scognamiglio").

// firstPersonAfterJoiner: "and I", "und ich", "et moi", "y yo", "e io",
// "en ik" (the joiner, then the pronoun).
var firstPersonAfterJoiner = map[string]string{
	"and": "i me", "und": "ich mich mir", "et": "moi", "y": "yo", "e": "io", "en": "ik mij",
}

// coordOpeners may stand right before the coordinated name.
var coordOpeners = set(strings.Fields(`with mit avec con met amb`))

func (d *doc) coordinatedNames() {
	n := len(d.toks)
	for k := 1; k+1 < n; k++ {
		if d.toks[k].info&wJoin == 0 || d.toks[k].kind != tWord || d.toks[k].nl {
			continue
		}
		prons, ok := firstPersonAfterJoiner[d.lw(k)]
		if !ok {
			continue
		}
		d.work++
		p := k + 1
		if !d.isWord(p) || d.toks[p].nl || !strings.Contains(" "+prons+" ", " "+d.lw(p)+" ") {
			continue
		}
		if d.lw(k) == "e" && d.lang != "it" && d.lang != "" || d.lw(k) == "en" && d.lang != "nl" && d.lang != "" || d.lw(k) == "y" && d.lang != "es" && d.lang != "" {
			continue
		}
		if d.lw(p) == "i" && d.tokText(p) != "I" {
			continue
		}
		e := k - 1
		if !d.coordName(e) {
			continue
		}
		s := e
		if s > 0 && !d.toks[s].nl && d.coordName(s-1) && d.toks[s-1].upper {
			s-- // "Wiebke Oltmanns und ich"
		}
		if !d.clauseOpens(s) {
			continue
		}
		if s == e && (d.toks[e].info&wGiven == 0 || d.e.lex.place1[d.lw(e)]) {
			// One word alone may be a thing or a firm ("Coffee and I",
			// "Netflix e io"): a given name the lexicon knows, also one that
			// is a word too ("Rose and I"); a full name needs none.
			continue
		}
		d.addName(s, e, 0.7, "person-coordinated")
	}
}

// coordName: token k is a capitalised, name-shaped word that is no
// stop word, title, kin, team or business word, brand or place.
func (d *doc) coordName(k int) bool {
	if k < 0 || !d.nameLikeWord(k) {
		return false
	}
	lw := d.lw(k)
	if kinWords[lw] || d.familyWord(k) || teamWords[lw] || deptWords[lw] || businessWord(lw) || goodsDeterminers[lw] || pairJoiners[lw] {
		return false
	}
	return true
}

// clauseOpens reports whether a clause opens at token s: a sentence start,
// a comma, a dash, or an opener ("with", "mit", "avec") before it.
func (d *doc) clauseOpens(s int) bool {
	if d.sentenceStart(s) {
		return true
	}
	if d.isPunct(s-1, ',') || d.isPunct(s-1, '(') {
		return true
	}
	if tt := d.tokText(s - 1); tt == "—" || tt == "–" {
		return true
	}
	return d.isWord(s-1) && coordOpeners[d.lw(s-1)]
}

// personRoles are roles that only a person fills.
var personRoles = set(strings.Fields(`holder accountholder cardholder recipient addressee ansprechpartner ansprechpartnerin
	ansprechperson empfänger empfängerin kontoinhaber kontoinhaberin inhaber inhaberin karteninhaber karteninhaberin
	titulaire destinataire interlocuteur interlocutrice titular destinatario destinataria interlocutor interlocutora
	contactpersoon ontvanger rekeninghouder geadresseerde referente intestatario intestataria titolare`))

// roleCopulas state who fills the role.
var roleCopulas = set(strings.Fields(`is was ist war heißt est était c'est es era fue è sarà wordt`))

func (d *doc) roleCopulaNames() {
	n := len(d.toks)
	for k := 0; k+2 < n; k++ {
		if d.toks[k].info&wRole == 0 || d.toks[k].kind != tWord || !personRoles[d.lw(k)] && !(d.lw(k) == "person" && k > 0 && d.lw(k-1) == "contact") {
			continue
		}
		d.work++
		// The copula within four words of the role, on its line and in its
		// sentence; "contact" alone is too often the verb.
		for m, words := k+1, 0; m < n && words < 5; m++ {
			if d.toks[m].nl {
				break
			}
			if d.toks[m].kind == tPunct {
				if c := d.text[d.toks[m].s]; c == '.' || c == '!' || c == '?' || c == ';' || c == ':' || c == '(' {
					break
				}
				continue
			}
			words++
			lw := d.lw(m)
			if !roleCopulas[lw] {
				if d.toks[m].digit {
					break
				}
				continue
			}
			j := m + 1
			if j >= n || d.toks[j].nl || !d.coordName(j) {
				break
			}
			s, e, ok := d.readName(j, ncStrong)
			if !ok || s != j {
				break
			}
			if e+1 < n && !d.toks[e+1].nl && d.isWord(e+1) && d.toks[e+1].upper {
				break // the name runs on into capitalised words: a firm's name
			}
			d.addName(s, e, 0.75, "person-role")
			k = e
			break
		}
	}
}

// speechVerbs follow the name of someone who said, wrote or promised
// something ("Brannagh told me", "Ombeline m'a dit", "Sjoukje zei"); the
// second word, where there is one, must follow too.
var speechVerbs = map[string]string{
	"told": "", "said": "", "says": "", "mentioned": "", "promised": "", "wrote": "", "replied": "", "explained": "",
	"confirmed": "", "assured": "", "sagte": "", "meinte": "", "versprach": "", "schrieb": "", "bestätigte": "",
	"zei": "", "zegt": "", "beloofde": "", "schreef": "", "bevestigde": "", "dijo": "", "prometió": "", "escribió": "",
	"confirmó": "", "explicó": "",
	// Compound tenses with a clitic: "m'a dit", "me dijo", "mi ha detto",
	// "hat gesagt", "heeft gezegd".
	"m'a": "dit promis écrit confirmé expliqué assuré", "m’a": "dit promis écrit confirmé expliqué assuré",
	"a": "dit promis écrit confirmé", "me": "dijo prometió escribió confirmó explicó aseguró",
	"mi": "ha", "ha": "detto promesso scritto confermato spiegato", "hat": "gesagt versprochen geschrieben bestätigt gemeint",
	"heeft": "gezegd beloofd geschreven bevestigd",
}

// speechSubjects finds a name-shaped word or two opening a sentence (or
// after "and/but") right before a speech verb. A brand, place, team or job
// word, a kin word or a German noun-shaped word there names no person.
func (d *doc) speechSubjects() {
	n := len(d.toks)
	for k := 1; k+1 < n; k++ {
		if d.toks[k].info&wRole == 0 || d.toks[k].kind != tWord || d.toks[k].upper || d.toks[k].nl {
			continue
		}
		second, ok := speechVerbs[d.lw(k)]
		if !ok {
			continue
		}
		d.work++
		if second != "" {
			m := k + 1
			if d.lw(k) == "mi" {
				// "mi ha detto"
				if m+1 >= n || d.lw(m) != "ha" || !strings.Contains(" "+speechVerbs["ha"]+" ", " "+d.lw(m+1)+" ") {
					continue
				}
			} else if m >= n || !d.isWord(m) || !strings.Contains(" "+second+" ", " "+d.lw(m)+" ") {
				continue
			}
		}
		e := k - 1
		if !d.speechName(e) {
			continue
		}
		s := e
		if s > 0 && !d.toks[s].nl && d.speechName(s-1) {
			s--
		}
		if !d.sentenceStart(s) && !(s > 0 && d.isWord(s-1) && clauseJoiners[d.lw(s-1)]) {
			continue
		}
		if s == e && d.toks[e].info&wGiven == 0 {
			continue // one unknown word may be a firm ("Apple told me"); a full name or a known given name
		}
		d.addName(s, e, 0.7, "person-speaker")
	}
}

var clauseJoiners = set(strings.Fields(`and but then und aber dann et mais puis y pero luego e ma poi en maar toen`))

func (d *doc) speechName(k int) bool {
	if !d.coordName(k) {
		return false
	}
	lw := d.lw(k)
	if jobNouns[lw] || jobTitle(lw) || d.e.lex.place1[lw] {
		return false
	}
	if d.lang == "de" && d.toks[k].info&(wGiven|wSurname) == 0 && !germanSurnameShape(lw) {
		return false // German capitalises nouns: "Kundendienst sagte"
	}
	return true
}

// giftNouns are things given to someone named after "for" ("a gift for
// Ysolde", "un cadeau pour …", "een cadeau voor …", "un regalo per …").
var giftNouns = set(strings.Fields(`gift present surprise card geschenk überraschung karte cadeau carte surprise
	regalo sorpresa tarjeta presente kado cadeautje verrassing kaart kaartje biglietto pensiero`))

var giftPreps = set(strings.Fields(`for für pour para per voor`))

// giftRecipients: a name-shaped word (or a given name and a surname) after
// a gift noun and "for", that ends the clause.
func (d *doc) giftRecipients() {
	n := len(d.toks)
	for k := 0; k+2 < n; k++ {
		if d.toks[k].info&wRole == 0 || d.toks[k].kind != tWord || !giftNouns[d.lw(k)] {
			continue
		}
		d.work++
		p := k + 1
		if !d.isWord(p) || !giftPreps[d.lw(p)] || d.toks[p].nl {
			continue
		}
		s := p + 1
		if s >= n || d.toks[s].nl || !d.speechName(s) {
			continue
		}
		e := s
		if e+1 < n && !d.toks[e+1].nl && d.speechName(e+1) {
			e++
		}
		if e+1 < n && !d.toks[e+1].nl && d.isWord(e+1) && d.toks[e+1].upper {
			continue // runs on into capitalised words: a title or a firm
		}
		if occasionWords[d.lw(s)] || s == e && d.toks[s].info&wGiven == 0 && !(e+1 >= n || d.toks[e+1].nl || d.toks[e+1].kind == tPunct) {
			// "a gift for Christmas", "un regalo per Natale"; an unknown
			// word must end its clause ("a gift for Apple fans" names none).
			continue
		}
		d.addName(s, e, 0.7, "person-gift")
		k = e
	}
}

// talkedParticiples close a Dutch or German clause about talking with
// someone ("met Sjoukje gesproken", "mit Wiebke telefoniert").
var talkedParticiples = set(strings.Fields(`gesproken gebeld gemaild gechat gebeld geappt gesprochen telefoniert gechattet geschrieben gemailt`))

// talkedWith: "met/mit" + a name-shaped word (or two) + a talking
// participle.
func (d *doc) talkedWith() {
	n := len(d.toks)
	for k := 0; k+2 < n; k++ {
		if d.toks[k].info&wRole == 0 || d.toks[k].kind != tWord || d.lw(k) != "met" && d.lw(k) != "mit" {
			continue
		}
		d.work++
		s := k + 1
		if d.toks[s].nl || !d.coordName(s) {
			continue
		}
		e := s
		if e+1 < n && !d.toks[e+1].nl && d.coordName(e+1) {
			e++
		}
		if e+1 >= n || !d.isWord(e+1) || d.toks[e+1].nl || !talkedParticiples[d.lw(e+1)] {
			continue
		}
		if s == e && d.toks[s].info&wGiven == 0 {
			continue // "mit Vodafone telefoniert": one unknown word may be a firm
		}
		d.addName(s, e, 0.7, "person-talked")
		k = e
	}
}

// occasionWords are what a gift is for when it is for no one: holidays
// and occasions in the six languages.
var occasionWords = set(strings.Fields(`christmas xmas easter birthday valentine valentine's valentines mother's father's
	hanukkah chanukah eid diwali halloween thanksgiving weihnachten ostern geburtstag muttertag vatertag valentinstag
	nikolaus noël noel pâques anniversaire fête saint-valentin navidad reyes pascua cumpleaños sanvalentín
	natale pasqua compleanno befana kerst kerstmis pasen sinterklaas verjaardag valentijn valentijnsdag moederdag vaderdag`))
