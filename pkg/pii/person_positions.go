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
