package pii

import "strings"

// Round 13: a name after its form label written without a colon, in a
// list of fields: "…, name Kev", "Geburtsdatum: …, Name Dimitrios
// Papadakis", "prénom Noé, né le …", "Cognome Mensah.", "Persona de
// contacto Yeray Padrón.", "account name C. Ó Súilleabháin".

// labelQualifiers may stand before a name label and belong to it.
var labelQualifiers = set(strings.Fields(`account full first last given family customer holder child child's baby
	kontoinhaber vollständiger titulaire nombre titular volledige nome`))

// labelContinuations continue a name label: "nombre completo", "nom complet".
var labelContinuations = set(strings.Fields(`completo completa complet complète complete full vollständiger vollständig volledige intero del de of des van`))

// contactLabels are one-word labels of a contact person.
var contactLabels = set(strings.Fields(`ansprechpartner ansprechpartnerin contactpersoon referente interlocuteur interlocutrice`))

// labelFieldNames reads the name after a name label that opens a field
// (first on its line, or after a comma, semicolon, colon or full stop),
// when the name fills the field: it ends at a comma, a full stop, a
// bracket, a line's or the text's end.
func (d *doc) labelFieldNames() {
	n := len(d.toks)
	for k := 0; k < n; k++ {
		if !d.isWord(k) {
			continue
		}
		lw := d.lw(k)
		end := -1
		switch {
		case nameLabels[lw] || contactLabels[lw]:
			end = k
		case (lw == "persona" || lw == "personne" || lw == "contact") && k+1 < n && d.isWord(k+1):
			if d.lw(k+1) == "person" {
				end = k + 1
			} else if k+2 < n && (d.lw(k+1) == "de" || d.lw(k+1) == "di") && d.isWord(k+2) &&
				(d.lw(k+2) == "contacto" || d.lw(k+2) == "contact" || d.lw(k+2) == "contatto" || d.lw(k+2) == "riferimento") {
				end = k + 2
			}
		}
		if end < 0 {
			continue
		}
		s := k
		if s > 0 && d.isWord(s-1) && !d.toks[s].nl && labelQualifiers[d.lw(s-1)] {
			s--
		}
		if s > 0 && !d.toks[s].nl && !(d.isPunct(s-1, ',') || d.isPunct(s-1, ';') || d.isPunct(s-1, ':') || d.isPunct(s-1, '.')) {
			continue
		}
		j := end + 1
		if j >= n || d.toks[j].nl || !d.isWord(j) {
			continue
		}
		if !(d.nameLikeWord(j) || d.toks[j].letters == 1 && d.toks[j].upper && j+1 < n && d.isPunct(j+1, '.')) {
			continue
		}
		s2, e2, ok := d.readName(j, ncStrong)
		if !ok || s2 != j {
			continue
		}
		if labelContinuations[d.lw(j)] {
			continue // "nombre completo", "nom complet": the label goes on
		}
		known := false
		for m := j; m <= e2; m++ {
			if d.isWord(m) && d.toks[m].info&(wGiven|wSurname) != 0 {
				known = true
			}
		}
		if !known && e2 > j && d.toks[k].upper && !marked(d.text[d.toks[j].s:d.toks[e2].e]) && !(d.toks[j].letters == 1 && d.isPunct(j+1, '.')) {
			continue // "Name Change Request", "Name Produkt Sommerkleid": a heading's words
		}
		if m := e2 + 1; m < n && !d.toks[m].nl && !(d.isPunct(m, ',') || d.isPunct(m, '.') || d.isPunct(m, ';') || d.isPunct(m, ')') || quoteMark(d.tokText(m))) {
			continue
		}
		d.addName(s2, e2, 0.75, "person-label-field")
		k = e2
	}
}

// marked reports a hyphen or a letter outside ASCII in a name's words
// ("Pryce-Jones", "Padrón"), which a heading's English words lack.
func marked(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == '-' || v[i] >= 0x80 {
			return true
		}
	}
	return false
}
