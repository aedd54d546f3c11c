package pii

import "strings"

// Round 14: someone named as the one who does a job, by a copula: "Tomorrow's
// driver is Grace.", "Je bezorger vandaag is Mo.", "Il tuo corriere oggi è
// Ilaria.". The role nouns are people who deliver or drive; the word after
// the copula must be one the lexicon knows as a given name (a nationality,
// a brand or an adjective is none: "the driver is Polish", "your courier is
// DHL") and must end its clause.

// deliveryRoles are people who bring or drive something.
var deliveryRoles = set(strings.Fields(`driver courier rider deliverer
	fahrer fahrerin bote zusteller zustellerin kurier
	livreur livreuse chauffeur coursier
	repartidor repartidora conductor mensajero
	bezorger bezorgster chauffeur koerier
	corriere autista fattorino rider`))

// roleTimeWords may stand between the role and its copula.
var roleTimeWords = set(strings.Fields(`today tomorrow tonight heute morgen aujourd'hui demain ce soir hoy mañana
	vandaag morgen vanavond oggi domani stasera`))

// deliveryCopulas link the role to the name.
var deliveryCopulas = set(strings.Fields(`is ist est es è será sarà wird`))

func (d *doc) deliveryRoleNames() {
	n := len(d.toks)
	for k := 0; k+2 < n; k++ {
		if !d.isWord(k) || !deliveryRoles[d.lw(k)] {
			continue
		}
		j := k + 1
		for m := 0; m < 2 && j < n && d.isWord(j) && roleTimeWords[d.lw(j)] && !d.toks[j].nl; m++ {
			j++
		}
		if j >= n || !d.isWord(j) || d.toks[j].nl || !deliveryCopulas[d.lw(j)] {
			continue
		}
		j++
		if j >= n || !d.isWord(j) || d.toks[j].nl || !d.toks[j].upper || d.toks[j].allUp && d.toks[j].letters > 1 {
			continue
		}
		if d.toks[j].info&wGiven == 0 {
			continue
		}
		e := j
		if e+1 < n && d.isWord(e+1) && !d.toks[e+1].nl && d.toks[e+1].upper && d.toks[e+1].info&(wGiven|wSurname) != 0 {
			e++ // a surname the lexicon knows
		}
		if m := e + 1; m < n && !d.toks[m].nl && !(d.isPunct(m, '.') || d.isPunct(m, ',') || d.isPunct(m, '!') || d.isPunct(m, ';') || d.isPunct(m, '?') || d.isPunct(m, ')')) {
			continue
		}
		d.addName(j, e, 0.7, "person-delivery-role")
		k = e
	}
}
