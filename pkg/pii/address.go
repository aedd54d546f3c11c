package pii

import "strings"

// Street-level addresses. An address starts at a street with a house
// number, found in one of the layouts of the six languages:
//
//	prefix type:  "Rue Victor Hugo 14", "Via dei Mille 24", "Calle Mayor 15", "C/ de Alcalá 120"
//	number first: "12 rue Victor Hugo", "45 avenue Jean Jaurès", "12 Elm Road", "2201 Queen St W"
//	compound:     "Goethestraße 8", "Kastanienallee 7", "Kerkstraat 12", "Rosenheimer Str. 145"
//
// and continues over what follows it directly: flat, floor and building
// notes, postcode and city, province, state, country, across line breaks
// of a pasted block. A unit written before the street ("Flat 3B,", "Appt
// 12, 3e étage") is included. A street without a number, or a postcode and
// city alone, is not an address.

// prefixTypes come before the street name.
var prefixTypes = set(strings.Fields(`
rue avenue av boulevard bd bld blvd chemin allée allee place impasse imp quai route rte cours square passage faubourg fbg
rond-point esplanade promenade sentier voie cité résidence hameau lieu-dit parvis
calle c cl avenida avda paseo pº plaza pza camino carretera ctra ronda travesía travesia glorieta carrer rambla pasaje
rúa rua vía callejón bulevar urbanización urb polígono poligono avinguda passeig plaça ptge rbla calzada
via viale piazza piazzale corso vicolo largo strada contrada lungomare lungarno borgo salita località loc
vico lungotevere circonvallazione fondamenta frazione fraz traversa rampa calata riva salizada campo
laan plein
`))

// suffixTypes end an English street name or stand as a word after a
// German, Dutch or English name.
var suffixTypes = set(strings.Fields(`
street st road rd avenue ave lane ln drive dr way close court ct place pl crescent cres terrace tce boulevard blvd
gardens gdns grove square sq hill row mews walk parade highway hwy parkway pkwy circle cir trail trl park green rise
view gate wharf quay broadway alley loop cottages cottage mansions buildings villas yard mount vale heights fields
meadow meadows grange brae wynd circus esplanade embankment causeway
straße strasse str weg gasse allee platz ring damm ufer chaussee steig pfad markt graben wall
straat laan plein gracht kade singel dijk steeg dreef pad
`))

// compoundSuffixes end one-word German and Dutch street names.
var compoundSuffixes = []string{
	"straße", "strasse", "str", "weg", "gasse", "allee", "platz", "ring", "damm", "ufer", "chaussee", "steig", "pfad",
	"markt", "graben", "wall", "gässle", "gässli", "stieg", "berg", "hof", "zeile", "promenade", "anger", "feld", "brücke",
	"straat", "laan", "plein", "gracht", "kade", "singel", "dijk", "steeg", "dreef", "pad", "hof", "markt", "veld",
	"baan", "wal", "haven", "weide", "erf", "park", "lei", "vest",
}

// cityArticles begin town names: Den Haag, La Rochelle, Le Havre, Las Palmas, El Puerto.
var cityArticles = set(strings.Fields(`den de der die das la le les el los las il lo the`))

var italianAbbrev = set(strings.Fields(`c.so v.le p.za p.zza l.go p.le v.lo s.da`))

// abbrevPrefix street types are abbreviations, written with their dot or
// slash ("C/", "Avda.", "Fraz."): without it they are other words.
var abbrevPrefix = set(strings.Fields(`c cl av bd pza loc urb imp rte fbg ctra avda fraz ptge rbla`))

// numberMarkers stand between a street name and its house number ("Calle
// Mayor nº 15", "Via Roma civico 12", "Reforma No. 222", "número 50").
var numberMarkers = set(strings.Fields(`nº n no nr n° núm num número numero civico nummer huisnummer hausnummer # nro`))

// numberMarker returns the token after a number marker at m (and its dot)
// when a house number follows, else 0.
func (d *doc) numberMarker(m int) int {
	if m >= len(d.toks) || !numberMarkers[d.lw(m)] && !d.isPunct(m, '#') {
		return 0
	}
	j := m + 1
	if j < len(d.toks) && d.isPunct(j, '.') {
		j++
	}
	if j < len(d.toks) && !d.toks[j].nl {
		if _, ok := d.houseNumber(j); ok {
			return j
		}
	}
	return 0
}

// ambiguousPrefix street types are also common words ("via email",
// "place an order", "cours"); their street names must be capitalised.
var ambiguousPrefix = set(strings.Fields(`via place largo strada borgo cours passage route square ronda camino c cl av bd loc urb imp pl campo riva rampa calata traversa`))

// lowerStreetName reads a lower-case street name from j: up to four words
// (connectors included) directly followed by a house number.
func (d *doc) lowerStreetName(j int) (int, int) {
	words := 0
	for m := j; m < len(d.toks) && m-j < 5; m++ {
		if d.toks[m].nl || !d.isWord(m) || d.toks[m].digit {
			if words > 0 && d.toks[m].kind == tNum && !d.toks[m].nl {
				return m, words
			}
			return 0, 0
		}
		if !streetConnectors[d.lw(m)] {
			// A verb or function word makes it a clause, not a name: "via
			// del Corso è aperto fino alle 20".
			if copulas[d.lw(m)] || d.e.lex.stop[d.lw(m)] {
				return 0, 0
			}
			words++
		}
	}
	return 0, 0
}

// lowerNameToEnd reads lower-case street-name words from j up to a comma
// followed by a postcode, or the end of the line; it returns the last word.
func (d *doc) lowerNameToEnd(j int) (int, bool) {
	m := j
	for m < len(d.toks) && m-j < 6 && d.isWord(m) && !d.toks[m].digit && (m == j || !d.toks[m].nl) {
		m++
	}
	if m == j {
		return 0, false
	}
	e := m - 1
	if m >= len(d.toks) || d.toks[m].nl {
		return e, true
	}
	if d.isPunct(m, ',') {
		if _, ok := d.postcodeAhead(m + 1); ok {
			return e, true
		}
	}
	// "3 av. jean jaurès 69007 lyon": a postcode and a town right after.
	if d.toks[m].kind == tNum && d.toks[m].e-d.toks[m].s >= 4 && m+1 < len(d.toks) && !d.toks[m+1].nl {
		if _, ok := d.postcodeAhead(m); ok {
			return e, true
		}
	}
	return 0, false
}

// streetAdjectives precede a compound street name as a separate word.
var streetAdjectives = set(strings.Fields(`
korte lange oude nieuwe kleine grote hoge lage noord zuid oost west sint
alte neue große grosse kleine obere untere hintere vordere innere äußere hohe lange kurze breite sankt st
`))

// germanPrepStreets begin street names such as "Am Sonnenhang", "An der
// Alster", "Im Winkel", "Zum Hafen".
var germanPrepStreets = set(strings.Fields(`am an im auf in zum zur unter hinter vor beim über`))

// streetConnectors may stand inside a street name.
var streetConnectors = set(strings.Fields(`
de del della delle dei degli di dell' d' da dal des du la le les los las el do das dos van der den von y e et und the of
sur sous lès aan op het 't ter ten al alla allo alle ai agli sul sulla dal dalla nel nella au aux
`))

// unitWords mark flat, floor and building notes.
var unitWords = set(strings.Fields(`
apt apartment appt app flat suite ste unit floor fl étage etage ét escalier esc bât bâtiment bat porte bte boîte boite bus
piso puerta pta escalera planta bajo izq izda izquierda dcha dcho derecha scala interno int piano stock og eg ug dg whg
wohnung top stiege tür rgb hinterhaus vorderhaus gartenhaus seitenflügel quergebäude hinterhof hh vh rückgebäude bloque portal nave capannone edificio edif gebäude haus
building bldg block c/o col colonia za zi zac zone polígono poligono industrial estate gewerbegebiet lotissement
residencia urbanización urb quartier local box postbus bis ter dpto depto departamento apto interior int. room
palazzina blocco
hoog verdieping etage huis hs bg sous portal esc. bajos entlo entresuelo ático atico km casa parcela manzana mz lote
halle hal hangar kavel lotto
zimmer zi kamer chambre ch habitación habitacion hab stanza appartement appartamento
`))

// countryNames continue an address.
var addressCountries = set(strings.Fields(`
germany deutschland allemagne alemania duitsland germania austria österreich autriche oostenrijk switzerland schweiz
suisse suiza zwitserland svizzera france frankreich francia frankrijk spain spanien espagne españa spanje spagna italy
italien italie italia italië netherlands niederlande nederland belgium belgien belgique bélgica belgië belgio luxembourg
luxemburg uk england scotland wales ireland irland irlande irlanda ierland usa canada kanada mexico méxico mexiko mexique
messico portugal
`))

func (d *doc) isWord(k int) bool { return k >= 0 && k < len(d.toks) && d.toks[k].kind == tWord }

// houseNumber reports whether token k is a house number: 1–5 digits, or
// digits with up to three letters (55A, 3a, 221B, 12bis), and returns the
// last token of it (a range "40–42" or "12-14" or "5/7" is one number).
func (d *doc) houseNumber(k int) (int, bool) {
	if k >= len(d.toks) {
		return 0, false
	}
	tk := &d.toks[k]
	switch {
	case tk.kind == tNum && tk.e-tk.s <= 5:
	case tk.kind == tWord && tk.digit && isDigit(d.text[tk.s]) && tk.e-tk.s <= 7 && tk.letters <= 3:
		// digits then letters only
		w := d.text[tk.s:tk.e]
		i := 0
		for i < len(w) && isDigit(w[i]) {
			i++
		}
		for ; i < len(w); i++ {
			if !isAlpha(w[i]) {
				return 0, false
			}
		}
	case tk.kind == tWord && d.lw(k) == "s" && k+2 < len(d.toks) && d.isPunct(k+1, '/') && d.lw(k+2) == "n":
		return k + 2, true // s/n, sin número
	case tk.kind == tWord && d.lw(k) == "snc":
		return k, true // senza numero civico
	default:
		return 0, false
	}
	end := k
	// Ranges and parts: "40–42", "12-14", "120/3/14" (Austrian stair/door), "15/B".
	for i := 0; i < 3 && end+2 < len(d.toks) && !d.toks[end+1].sp && !d.toks[end+2].sp; i++ {
		sep := d.tokText(end + 1)
		nx := &d.toks[end+2]
		ok := nx.kind == tNum && nx.e-nx.s <= 4 || nx.kind == tWord && nx.letters == 1 && nx.e-nx.s <= 3 ||
			sep == "-" && nx.kind == tWord && (houseSuffixes[d.lw(end+2)] || nx.allUp && romanNumeral(d.lw(end+2)))
		if !ok || !(sep == "-" || sep == "–" || sep == "/") {
			break
		}
		end += 2
	}
	// "3 a" / "12 B" as a letter suffix is left to the continuation.
	return end, true
}

// houseSuffixes follow a Dutch or Belgian house number: "452 hs", "45-III",
// "158-bis", "12 zw".
// frenchRepeat follow a French or Belgian house number written apart
// before the street ("12 bis rue ...").
var frenchRepeat = set(strings.Fields(`bis ter quater`))

var houseSuffixes = set(strings.Fields(`hs h bg bis ter zw rd huis boven beneden sous i ii iii iv`))

// measureWords after a number make it a time, quantity or price, not a
// house number ("Marienplatz 8 Uhr", "via WhatsApp 3 volte").
var measureWords = set(strings.Fields(`
uhr uur ore heures heure horas hora pm o'clock min mins minutes minuten minuti minutos
mal volte veces keer fois times stück stuks stuk pezzi pezzo unidades unidad pièces pièce pcs pieces items piezas pieza
colori colores couleurs farben kleuren colours colors estrellas stars sterne étoiles stelle sterren litros liter litres litri pulgadas pollici zoll inch inches
euro euros eur € $ £ chf dollars pounds kg cm mm ml semanas meses weeks months wochen monate semaines mois settimane
mesi weken maanden personas people persons personen persone cajas boxes botellas bottles flaschen bouteilles bottiglie jahre jahren years anni años jaar ans tage days giorni días dagen jours
prozent percent % procent
lezioni lezione lessons lesson lecciones lección leçons leçon lektionen lessen les clases cours kurse corsi
posti posto plazas plaza places seats sitze zitplaatsen plätze sedute asientos
stunden stunde hours hour heures uren
giorni giorno dia día jour tag dag
anni anno ans an año años jahr jaar
pacchi pacchetti ordini articoli paia prodotti scatole colli taglie codici moduli
pedidos artículos articulos paquetes pares productos bultos tallas códigos
commandes articles paires produits cartons tailles codes
pakete bestellungen paar produkte kartons größen codes
pakketten bestellingen artikelen producten dozen maten
parcels orders packages pairs products sizes codes modules
`))

// viaChannels after "via" make it the preposition ("via email", "via SMS",
// "via PayPal"), not the street type.
var viaChannels = set(strings.Fields(`email e-mail mail sms chat whatsapp telefono phone telefon paypal corriere posta app web
	internet amazon gls brt dhl ups sda dpd fedex tnt bonifico klarna satispay messenger telegram instagram facebook`))

func (d *doc) capWord(k int) bool {
	if !d.isWord(k) {
		return false
	}
	tk := &d.toks[k]
	return tk.upper && tk.letters > 0 && !tk.digit
}

func hasCompoundSuffix(w string) bool {
	for _, s := range compoundSuffixes {
		if len(w) > len(s)+2 && strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}

// strongCompound: a one-word street whose suffix is no ordinary word,
// accepted in lower case too ("hauptstraße 5", "kerkstraat 12").
// lowerCompound reports a lower-case compound street name at k that is
// trusted with more evidence: an abbreviated type with its dot
// ("hauptstr. 5", "dorpsstr. 3"), or another type word after an address
// word ("lieferadresse: kirchweg 4").
func (d *doc) lowerCompound(k int) bool {
	tk := &d.toks[k]
	if tk.kind != tWord || tk.upper || tk.digit || tk.letters < 5 {
		return false
	}
	// The cheap test first: a house number must follow (after the dot).
	m, dot := k+1, false
	if m < len(d.toks) && d.isPunct(m, '.') && !d.toks[m].sp {
		m, dot = m+1, true
	}
	if m >= len(d.toks) || d.toks[m].kind != tNum || d.toks[m].nl {
		return false
	}
	lw := d.lw(k)
	if dot && strings.HasSuffix(lw, "str") {
		return true
	}
	return hasCompoundSuffix(lw) && d.addressCueBefore(k)
}

func strongCompound(w string) bool {
	for _, s := range []string{"straße", "strasse", "straat", "gasse", "allee", "laan", "gracht"} {
		if len(w) > len(s)+2 && strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}

// romanNumeral: street names such as "Vittorio Emanuele II", "Via XX Settembre".
func romanNumeral(w string) bool {
	if len(w) == 0 || len(w) > 5 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if strings.IndexByte("ivxlc", w[i]) < 0 {
			return false
		}
	}
	return true
}

// streetAbbrevs are abbreviated titles inside street names.
var streetAbbrevs = set(strings.Fields(`dott dr prof sta sto gen mons card ing avv don mgr pres sen on cav mar st ste`))

// streetName consumes the words of a street name from k: capitalised
// words, connectors, roman numerals; it returns the token after the last
// name word and how many capitalised words it saw.
func (d *doc) streetName(k, maxWords int) (int, int) {
	caps := 0
	j := k
	last := k
	for words := 0; j < len(d.toks) && words < maxWords; words++ {
		tk := &d.toks[j]
		if words > 0 && tk.nl {
			break
		}
		if tk.kind == tPunct {
			// d' and dell' are joined to their word by the tokeniser; a
			// lone apostrophe or hyphen inside a name is allowed.
			if (d.isPunct(j, '\'') || d.isPunct(j, '-') || d.tokText(j) == "’") && !tk.sp && j+1 < len(d.toks) && !d.toks[j+1].sp {
				j++
				continue
			}
			break
		}
		lw := d.lw(j)
		if d.numberMarker(j) > 0 {
			break // "Paseo de la Reforma No. 222"
		}
		if tk.kind == tWord && (tk.upper || romanNumeral(lw) && tk.allUp) {
			caps++
			j++
			// An initial or a title abbreviation inside the name: "Via G.
			// Verdi", "Via S. Francesco", "Via Dott. Rossi".
			if (tk.letters == 1 || streetAbbrevs[lw]) && j+1 < len(d.toks) && d.isPunct(j, '.') && !d.toks[j].sp && d.capWord(j+1) && !d.toks[j+1].nl {
				j++
			}
			last = j
			continue
		}
		if tk.kind == tWord && (streetConnectors[lw] || strings.HasPrefix(lw, "dell'") || strings.HasPrefix(lw, "d'") || strings.HasPrefix(lw, "l'")) {
			if strings.Contains(lw, "'") && len(lw) > 5 {
				caps++
				j++
				last = j
				continue
			}
			j++
			continue
		}
		break
	}
	return last, caps
}

func (d *doc) scanAddresses() {
	n := len(d.toks)
	for k := 0; k < n; k++ {
		tk := &d.toks[k]
		if tk.kind == tPunct || tk.info&wStreet == 0 && !tk.upper && !tk.digit && tk.kind != tNum && !strongCompound(d.lw(k)) && !d.lowerCompound(k) &&
			!(tk.letters == 1 && k+1 < n && d.isPunct(k+1, '.')) { // "v.le monza 44"
			continue
		}
		lw := d.lw(k)
		start, end := -1, -1
		if tk.kind == tWord && len(lw) == 1 && k+2 < n && d.isPunct(k+1, '.') && !d.toks[k+1].sp && !d.toks[k+2].sp && italianAbbrev[lw+"."+d.lw(k+2)] {
			// "C.so Buenos Aires 33", "V.le Europa 22", "P.za Duomo 1".
			nameEnd, caps := d.streetName(k+3, 7)
			if caps == 0 {
				// "v.le monza 44, 20127 milano": lower case, when a postcode
				// or an address word vouches for it.
				if ne, c := d.lowerStreetName(k + 3); c > 0 {
					if e, ok := d.houseNumber(ne); ok && (d.addressCueBefore(k) || d.continuationHasPostcode(e)) {
						nameEnd, caps = ne, c
					}
				}
			}
			if caps > 0 {
				m := nameEnd
				if m < n && d.isPunct(m, ',') {
					m++
				}
				if e, ok := d.houseNumber(m); ok && !d.toks[m].nl {
					start, end = k, e
				}
			}
		}
		paseo := tk.kind == tWord && lw == "p" && k+2 < n && d.isPunct(k+1, '.') && d.lw(k+2) == "º" // "P.º de la Castellana"
		if lw == "via" && k+1 < n && d.isWord(k+1) && (viaChannels[d.lw(k+1)] || d.toks[k+1].allUp && d.toks[k+1].letters <= 4) {
			continue // "via email 2 volte", "via SMS 3 codici"
		}
		switch {
		case start >= 0:
		case tk.kind == tWord && (prefixTypes[lw] || paseo) && !tk.digit:
			// Prefix type: TYPE [.] name NUMBER. "C/" is "c" + "/".
			j := k + 1
			if paseo {
				j = k + 3
			} else if j < n && (d.isPunct(j, '.') || d.isPunct(j, '/')) && !d.toks[j].sp {
				j++
			} else if abbrevPrefix[lw] {
				break
			}
			nameEnd, caps := d.streetName(j, 7)
			if caps == 0 && (!ambiguousPrefix[lw] || d.addressCueBefore(k)) {
				// "calle mayor 15", "rue des lilas 8": written in lower case,
				// the number must follow the name directly.
				nameEnd, caps = d.lowerStreetName(j)
			} else if caps == 0 {
				// "via roma 12, 20121 milano": an ambiguous type word in
				// lower case with no address word before it counts when a
				// postcode follows.
				if ne, c := d.lowerStreetName(j); c > 0 {
					if e, ok := d.houseNumber(ne); ok && d.continuationHasPostcode(e) {
						nameEnd, caps = ne, c
					}
				}
			}
			if caps == 0 {
				break
			}
			m := nameEnd
			if m < n && d.isPunct(m, ',') {
				m++
			}
			if mm := d.numberMarker(m); mm > 0 {
				m = mm
			} else if m+1 < n && d.lw(m) == "km" && d.toks[m+1].kind == tNum {
				// "Ctra. de Valencia km 7,5": a kilometre point is the number.
				m++
			}
			if m < n && d.toks[m].nl {
				break
			}
			if e, ok := d.houseNumber(m); ok {
				if d.lw(m-1) == "km" && e+2 < n && d.isPunct(e+1, ',') && !d.toks[e+1].sp && d.toks[e+2].kind == tNum && !d.toks[e+2].sp {
					e += 2 // the decimal part: "km 7,5"
				}
				start, end = k, e
			} else if m > nameEnd && m < n {
				// "Polígono Industrial La Estación, nave 7, 28320 Pinto": the
				// number is a unit's, and a postcode must follow.
				if ue, ok := d.unitAhead(m); ok && d.hasNumber(m, ue) && d.continuationHasPostcode(ue) {
					start, end = k, ue
				}
			}
		case tk.kind == tWord && !tk.digit && (tk.upper && hasCompoundSuffix(lw) || strongCompound(lw) || d.lowerCompound(k)) || tk.kind == tWord && suffixTypes[lw] && k > 0 && d.capWord(k-1) && (lw == "straße" || lw == "strasse" || lw == "str" || lw == "weg" || lw == "allee" || lw == "platz" || lw == "straat" || lw == "laan" || lw == "gasse" || lw == "ring" || lw == "damm"):
			// Compound or two-word German/Dutch: NAME-TYPE NUMBER.
			s := k
			if suffixTypes[lw] && !hasCompoundSuffix(lw) && k > 0 && d.capWord(k-1) {
				s = k - 1
			}
			// "Korte Leidsedwarsstraat", "Alte Schönhauser Straße", "Sankt-...".
			for s > 0 && d.isWord(s-1) && d.toks[s-1].upper && streetAdjectives[d.lw(s-1)] && !d.toks[s].nl {
				s--
			}
			s = d.streetNamePrefix(s)
			s = d.germanPrepBefore(s)
			j := k + 1
			if j < n && d.isPunct(j, '.') && !d.toks[j].sp {
				j++
			}
			if j < n && d.toks[j].nl {
				break
			}
			if e, ok := d.houseNumber(j); ok {
				start, end = s, e
			}
		case tk.kind == tWord && tk.upper && germanPrepStreets[lw]:
			j := k + 1
			if j < n && (d.lw(j) == "der" || d.lw(j) == "den" || d.lw(j) == "dem") {
				j++
			}
			if !d.capWord(j) || monthNames[d.lw(j)] > 0 {
				break
			}
			// A word of the stop lexicon ("Winkel", "Laden") names a
			// street too ("Im Winkel 9"), but only with a postcode and a
			// known town right after the number.
			stop := d.e.lex.stop[d.lw(j)]
			if e, ok := d.houseNumber(j + 1); ok && e+1 < n && (d.isPunct(e+1, ',') || d.toks[e+1].nl && d.toks[k].nl) {
				// Only with a postcode after it: "Am Sonnenhang 3a, 2. OG, 79098 Freiburg",
				// or in a block whose lines lead to one ("Am Hang 3\nHinterhaus\n79102 Freiburg").
				if d.continuationHasPostcode(e) && (!stop || d.townAfter(e)) {
					start, end = k, e
				}
			}
		case d.isHouseNumberStart(k):
			// Number first: NUMBER [letter] (prefix-type name | name suffix-type).
			e0, _ := d.houseNumber(k)
			j := e0 + 1
			if j < n && (d.isPunct(j, ',')) {
				j++
			}
			if j+1 < n && d.isWord(j) && !d.toks[j].upper && !d.toks[j].nl && frenchRepeat[d.lw(j)] {
				j++ // "12 bis rue des Tanneurs", "3 ter avenue Foch"
			}
			if j >= n || d.toks[j].nl || !d.isWord(j) {
				break
			}
			jl := d.lw(j)
			if prefixTypes[jl] && (d.lang == "es" || d.lang == "it" || d.lang == "de" || d.lang == "nl") {
				// Spanish, Italian, German and Dutch write the number after
				// the street: "talla 42, Calle Mayor" is no address.
				break
			}
			if prefixTypes[jl] && jl != "c" && jl != "loc" && jl != "via" && jl != "largo" && jl != "strada" && jl != "place" || jl == "place" && d.lang != "en" {
				nj := j + 1
				if nj < n && d.isPunct(nj, '.') && !d.toks[nj].sp {
					nj++ // "3 av. Jean Jaurès", "12 bd. Voltaire"
				}
				nameEnd, caps := d.streetName(nj, 7)
				if caps > 0 {
					start, end = k, nameEnd-1
				} else if e, ok := d.lowerNameToEnd(nj); ok && (d.addressCueBefore(k) || d.continuationHasPostcode(e)) {
					// "8 rue des lilas, 75011 paris": lower case, so the name
					// must end at a comma before a postcode or at the line's
					// end, and an address word or a postcode vouches for it.
					start, end = k, e
				}
				break
			}
			// English: name words then a suffix type (and a direction).
			m := j
			caps := 0
			// In lower case the name follows the number directly and holds
			// no function words ("at 9, see you at the retail park").
			lower := !d.toks[j].upper && d.addressCueBefore(k) && j == e0+1
			for m < n && caps < 5 && (d.capWord(m) || lower && d.isWord(m) && !d.toks[m].digit) && !d.toks[m].nl {
				ml := d.lw(m)
				if lower && !d.toks[m].upper && d.e.lex.stop[ml] && !suffixTypes[ml] {
					break
				}
				if suffixTypes[ml] && caps > 0 {
					break
				}
				caps++
				m++
			}
			if caps > 0 && caps <= 3 && m < n && d.isPunct(m, ',') && !suffixTypes[d.lw(m)] && d.continuationHasPostcode(m-1) && !d.toks[k].nl {
				// "27 Kingsway, Cardiff CF10 3AN", "100 Bishopsgate, London
				// EC2N 4AG": no street word, but a postcode follows.
				start, end = k, m-1
				break
			}
			if caps == 0 || m >= n || d.toks[m].nl || !suffixTypes[d.lw(m)] || !d.toks[m].upper && !lower && d.lang != "en" && d.lang != "" {
				break
			}
			e := m
			if e+1 < n && d.isPunct(e+1, '.') && !d.toks[e+1].sp {
				e++
			}
			if e+1 < n && !d.toks[e+1].nl {
				switch d.tokText(e + 1) {
				case "N", "S", "E", "W", "NW", "NE", "SW", "SE":
					e++
				}
			}
			start, end = k, e
		}
		if start < 0 && tk.kind == tWord && tk.upper && !tk.digit {
			start, end = d.bareStreet(k)
		}
		if start < 0 {
			continue
		}
		if d.toks[end].digit && end+1 < n && measureWords[d.lw(end+1)] && !d.toks[end+1].nl {
			continue // "Marienplatz 8 Uhr": a time, not a house number
		}
		if d.toks[end].kind == tNum && end+2 < n && (d.isPunct(end+1, ':') || d.isPunct(end+1, ',') && d.toks[end+2].e-d.toks[end+2].s == 2) && !d.toks[end+1].sp && d.toks[end+2].kind == tNum && !d.toks[end+2].sp {
			continue // "Corso Vittorio Emanuele 18:30", "via PayPal 49,90": a time, a price
		}
		d.work++
		start = d.unitBefore(start)
		numEnd := end
		end = d.addressContinuation(end)
		if end == numEnd && d.toks[end].kind == tNum && d.toks[end].e-d.toks[end].s == 4 {
			// "El Paseo de Gracia 2024 edición": a year after a street name,
			// with nothing of an address after it, is a product or an event.
			if y := atoiBytes(d.tokText(end)); y >= 1900 && y <= 2099 {
				k = end
				continue
			}
		}
		d.add(d.toks[start].s, d.toks[end].e, Address, 0.85, "address")
		d.recipientLine(start)
		k = end
	}
	d.scanUnitAddresses()
}

// streetTitles stand before a person's name in Dutch and German street
// names ("Burgemeester de Withstraat", "Prins Hendrikkade", "Koningin
// Wilhelminalaan", "Eerste Helmersstraat", "Kaiser-Friedrich-Ring").
var streetTitles = set(strings.Fields(`
burgemeester wethouder prins prinses koning koningin graaf gravin hertog hertogin generaal admiraal kapitein
dokter dr professor prof pastoor pater kardinaal president minister jonkheer ds sint st mgr
eerste tweede derde vierde vijfde 1e 2e 3e 4e 5e
bürgermeister kaiser kaiserin könig königin prinz prinzessin graf herzog kardinal pfarrer doktor sankt
`))

// streetNamePrefix extends the start s of a compound street name back over
// the name it honours, on the same line: titles, ordinals, given names and
// surnames from the lexicon, and particles between them ("Jan van
// Galenstraat", "Van Baerlestraat", "2e Hugo de Grootstraat").
func (d *doc) streetNamePrefix(s int) int {
	lex := d.e.lex
	best := s
	for j := s - 1; j >= 0 && s-j <= 4; j-- {
		if !d.isWord(j) || d.toks[j+1].nl {
			break
		}
		lw := d.lw(j)
		tk := &d.toks[j]
		switch {
		case particles[lw] || lw == "'t":
			if tk.upper {
				best = j // "Van Baerlestraat", "De Clercqstraat"
			}
			continue
		case tk.upper && (streetTitles[lw] || lex.given[lw] || lex.surname[lw]) && !lex.stop[lw],
			ordinalSuffix(lw) && len(lw) <= 3:
			best = j
			continue
		}
		break
	}
	return best
}

// bareStreet matches a street written without a type word, trusted only
// when a postcode follows it: "Rokin 75, 1012 KL Amsterdam", "Meir 50, 2000
// Antwerpen", "Zeil 106, 60313 Frankfurt am Main". The name is one or two
// capitalised words that are no cue, stop, month or unit word; the
// postcode is a Dutch one (1234 AB) or one followed by a known town.
func (d *doc) bareStreet(k int) (int, int) {
	n := len(d.toks)
	j := k
	for j < n && j-k < 2 && d.capWord(j) && (j == k || !d.toks[j].nl) {
		j++
	}
	if j == k || j >= n || d.toks[j].nl || !d.toks[j].sp || d.toks[j].e-d.toks[j].s > 5 {
		return -1, -1
	}
	// The cheap structural checks first: most capitalised words are not
	// followed by a number and a postcode.
	e, ok := d.houseNumber(j)
	if !ok {
		return -1, -1
	}
	m := e + 1
	if m < n && d.isPunct(m, ',') {
		m++
	}
	// A unit between number and postcode: "Groenplaats 3 bus 2, 2000
	// Antwerpen".
	if m < n && !d.toks[m].nl && d.isWord(m) && (unitWords[d.lw(m)] || d.toks[m].digit && ordinalSuffix(d.lw(m))) {
		// (Or a floor: "Grote Markt 22, 2e verdieping, 9711 LV".)
		if ue, ok := d.unitAhead(m); ok {
			m = ue + 1
			if m < n && d.isPunct(m, ',') {
				m++
			}
		}
	}
	if m >= n {
		return -1, -1
	}
	if d.nlPostcode(m) == 0 {
		if d.toks[m].kind != tNum {
			return -1, -1
		}
		// A name opened by a street adjective or preposition ("Obere
		// Mühle 3, 34576 Homberg", "Hoge Akker 17") is a street's: the
		// town after the postcode need not be one the lexicon knows.
		shaped := streetAdjectives[d.lw(k)] || germanPrepStreets[d.lw(k)]
		if pe, ok := d.postcodeAhead(m); !ok || pe <= m || !shaped && !d.knownPlace(m+1) || shaped && !d.capWord(m+1) {
			return -1, -1
		}
	}
	lex := d.e.lex
	for w := k; w < j; w++ {
		lw := d.lw(w)
		if lex.stop[lw] || cueWords[lw] != 0 || monthNames[lw] > 0 || unitWords[lw] || measureWords[lw] {
			return -1, -1
		}
		if _, isCue := nameCues[lw]; isCue {
			return -1, -1
		}
		if w > k && (hasCompoundSuffix(lw) || strongCompound(lw)) {
			// "Adresse Ulmenweg 4, 89073 Ulm": the street is the compound,
			// matched from its own word; a label before it is not its name.
			return -1, -1
		}
	}
	return k, e
}

// isHouseNumberStart: a house number that does not continue a number or
// a date before it.
func (d *doc) isHouseNumberStart(k int) bool {
	if _, ok := d.houseNumber(k); !ok {
		return false
	}
	if k > 0 && !d.toks[k].sp {
		return false
	}
	if k > 0 && d.toks[k-1].kind == tNum && !d.toks[k].nl {
		return false
	}
	return true
}

// addressWords introduce an address.
var addressWords = set(strings.Fields(`
address addr ship deliver send live lives living to at adresse anschrift lieferadresse wohne wohnen liefern an
adresse habite domicile livrer à dirección direccion vivo envío envio enviar a adres woon woont verzenden naar
indirizzo abito spedire spedite a consegna
`))

// addressCueBefore reports whether an address word stands in the three
// tokens before k (for lower-case streets, which need more evidence).
func (d *doc) addressCueBefore(k int) bool {
	for j := k - 1; j >= 0 && j >= k-3; j-- {
		if !d.isWord(j) {
			continue
		}
		w := d.lw(j)
		if addressWords[w] || addressWords[lastPart(w)] { // j'habite
			return true
		}
	}
	return false
}

// unitBefore extends an address start over a flat or floor note written
// before the street, on the same line or the line before ("Flat 3B, 14
// Glenview Terrace", "Appt 12, 3e étage\n45 avenue Jean Jaurès").
func (d *doc) unitBefore(start int) int {
	best := start
	j := start - 1
	for steps := 0; steps < 3 && j >= 0; steps++ {
		if d.isPunct(j, ',') {
			j--
		}
		// A chunk back to the previous ',' or line start.
		chunkEnd := j
		i := j
		for i >= 0 && chunkEnd-i < 5 {
			if d.toks[i].kind == tPunct && !d.isPunct(i, '.') && !d.isPunct(i, '-') && !d.isPunct(i, '/') {
				break // ',' ':' '(' ... end the chunk
			}
			if d.toks[i].nl {
				break
			}
			i--
		}
		if i >= 0 && d.toks[i].nl && d.toks[i].kind != tPunct {
			// i begins the line
		} else {
			i++
		}
		if i < 0 {
			i = 0
		}
		if i > chunkEnd {
			break
		}
		if !d.unitChunk(i, chunkEnd) {
			// The note may end a longer clause: "My address is Flat 2, 33
			// Wellington Road": take the longest tail that is a note, and
			// look no further back.
			for m := i + 1; m <= chunkEnd; m++ {
				if d.isWord(m) && (d.toks[m].upper && (unitWords[d.lw(m)] || areaWords[d.lw(m)] || buildingWords[d.lw(m)]) ||
					d.toks[m].digit && ordinalSuffix(d.lw(m))) && d.unitChunk(m, chunkEnd) {
					best = m
					break
				}
			}
			break
		}
		best = i
		j = i - 1
		if d.toks[i].nl {
			// A unit note on the line before: look no further than it.
			if j >= 0 && d.isPunct(j, ',') {
				continue
			}
			break
		}
	}
	return best
}

// unitChunk reports whether tokens a..b are a flat, floor or building note:
// a unit word with a number or letter ("Flat 3B", "Suite 400", "2. OG",
// "3e étage", "int. 2", "scala B", "2º dcha.", "bus 4").
func (d *doc) unitChunk(a, b int) bool {
	if a > b || b-a > 5 {
		return false
	}
	unit := false
	if d.parkChunk(a, b) || d.buildingChunk(a, b) {
		return true
	}
	if areaWords[d.lw(a)] && d.isWord(a) {
		// "Col. Crédito Constructor", "ZA des Bruyères": a named area.
		caps := 0
		for j := a + 1; j <= b; j++ {
			if d.isPunct(j, '.') {
				continue
			}
			if d.capWord(j) {
				caps++
				continue
			}
			if d.isWord(j) && streetConnectors[d.lw(j)] {
				continue
			}
			return false
		}
		return caps > 0
	}
	for j := a; j <= b; j++ {
		tk := &d.toks[j]
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' || c == '/' || c == '-' || c == '°' {
				continue
			}
			if d.tokText(j) == "º" || d.tokText(j) == "°" {
				continue
			}
			return false
		}
		lw := d.lw(j)
		switch {
		case unitWords[lw]:
			unit = true
		case (lw == "º" || lw == "ª") && j > a && d.isPunct(j-1, '.'):
			unit = true // "3.º B", "1.ª planta": an ordinal written with its dot
		case tk.kind == tNum && tk.e-tk.s <= 5:
		case tk.digit && tk.e-tk.s <= 6 && ordinalSuffix(lw):
			unit = true // 3e, 2º, 2nd, 1er: a floor
		case tk.digit && tk.e-tk.s <= 5: // 3B
		case tk.letters == 1 && tk.upper: // scala B
		case sideWords[lw] && j > a:
			// "2. OG links", "3rd floor left", "2e étage gauche": which
			// door on the floor, after the floor itself.
		case lw == "étage" || lw == "floor" || lw == "stock" || lw == "piso" || lw == "piano" || lw == "etage" || lw == "verdieping":
			unit = true
		case floorNames[lw] && b > a:
			// "piano terra", "primo piano", "ground floor", "planta
			// baja": the floor's name beside its floor word.
		default:
			return false
		}
	}
	return unit
}

// floorNames name a floor beside a floor word ("piano terra", "primo
// piano", "ground floor", "planta baja", "begane grond"); alone they are
// ordinary words, so a unit chunk holds them only with another part.
var floorNames = set(strings.Fields(`terra primo secondo terzo quarto quinto rialzato seminterrato ammezzato attico
	ground first second third fourth top lower upper basement
	baja bajo primera segunda tercera cuarta principal
	premier première deuxième troisième rez-de-chaussée
	begane grond eerste tweede derde vierde
	erster zweiter dritter`))

// buildingWords end a named building's line before its street ("Kestrel
// House, 22 Mill Lane", "Residenz am Park, ...", "Palazzo Reale, ...").
var buildingWords = set(strings.Fields(`house court building tower towers hall lodge mansions chambers
	haus hof residenz résidence residence edificio torre palazzo gebouw toren residenza residencia residentie
	condominio palazzina wohnanlage`))

// buildingChunk reports whether tokens a..b are a named building: one to
// three capitalised words whose last is a building word.
func (d *doc) buildingChunk(a, b int) bool {
	if b > a && b-a <= 4 && d.capWord(a) && buildingWords[d.lw(a)] {
		// The building word first, as Romance languages write it:
		// "Residenza Le Ginestre", "Residencia Los Olivos".
		for j := a + 1; j <= b; j++ {
			if !d.capWord(j) && !(d.isWord(j) && streetConnectors[d.lw(j)]) {
				return false
			}
		}
		return d.capWord(b)
	}
	if b-a > 2 || !d.isWord(b) || !buildingWords[d.lw(b)] || b == a {
		return false
	}
	for j := a; j <= b; j++ {
		if !d.capWord(j) {
			return false
		}
	}
	return true
}

// sideWords say which door on a floor.
var sideWords = set(strings.Fields(`links rechts mitte li re left right rear front gauche droite fond
	sinistra destra centro interno links rechts midden voor achter`))

// parkWords name a business park, industrial estate or centre whose line
// stands before the street ("Riverside Business Park", "Zona Industriale",
// "Gewerbepark Nord", "Bedrijvenpark Noord").
var parkWords = set(strings.Fields(`park estate parc zona zone industriale industrial industrielle industriel polígono poligono
	gewerbepark industriepark gewerbegebiet industriegebiet bedrijvenpark bedrijventerrein industrieterrein businesspark
	centre center centro complex campus parque trading retail`))

// parkChunk reports whether tokens a..b are a business park's name:
// capitalised words (and connectors), one of them a park word or a
// compound ending in -park, -gebiet or -terrein.
func (d *doc) parkChunk(a, b int) bool {
	park, caps := false, 0
	for j := a; j <= b; j++ {
		if d.isPunct(j, '-') || d.isPunct(j, '.') {
			continue
		}
		if !d.isWord(j) || d.toks[j].digit {
			return false
		}
		lw := d.lw(j)
		if streetConnectors[lw] && j > a {
			continue
		}
		if !d.toks[j].upper {
			return false
		}
		caps++
		if parkWords[lw] || len(lw) > 6 && (strings.HasSuffix(lw, "park") || strings.HasSuffix(lw, "gebiet") || strings.HasSuffix(lw, "terrein")) {
			park = true
		}
	}
	return park && caps >= 1
}

// areaWords name a colonia, industrial zone or estate that continues an
// address with its own name.
var areaWords = set(strings.Fields(`col colonia za zi zac zone résidence residence cité domaine polígono poligono urbanización urb quartier lotissement residencia barrio fraccionamiento fracc parque gewerbegebiet`))

// ordinalSuffix: digits then an ordinal marker (2º, 3e, 1er, 2nd, 4th, 1ª).
func ordinalSuffix(w string) bool {
	i := 0
	for i < len(w) && isDigit(w[i]) {
		i++
	}
	if i == 0 || i == len(w) {
		return false
	}
	suf := w[i:]
	switch suf {
	case "º", "ª", "°", "e", "er", "ère", "eme", "ème", "st", "nd", "rd", "th", "o", "a", "mo":
		return true
	}
	// "4ºa", "2ºb", "2ºizq", "3ºdcha": the floor then the door.
	for _, o := range []string{"º", "ª", "°"} {
		if rest, ok := strings.CutPrefix(suf, o); ok && len(rest) <= 4 && strings.IndexFunc(rest, func(r rune) bool { return r < 'a' || r > 'z' }) < 0 {
			return true
		}
	}
	return false
}

// addressContinuation extends an address over what continues it: unit
// notes, postcode and city, province, state, country, at most four more
// lines of a pasted block.
func (d *doc) addressContinuation(end int) int {
	n := len(d.toks)
	lines := 0
	lastUnit, postcode := false, false
	for pieces := 0; pieces < 8; pieces++ {
		afterUnit := lastUnit
		j := end + 1
		if j >= n {
			break
		}
		if d.isPunct(j, ',') || d.isPunct(j, '-') && d.toks[j].sp || d.tokText(j) == "–" || (d.tokText(j) == "·" || d.tokText(j) == "•") && d.toks[j].sp {
			// (A middle dot or bullet separates a signature's address
			// pieces: "Deichstraße 12 · 28195 Bremen".)
			j++
		}
		if j >= n {
			break
		}
		if pieces == 0 && j == end+1 && d.isWord(j) && !d.toks[j].nl && d.toks[j].upper && orientationWords[d.lw(j)] && (j+1 >= n || d.toks[j+1].kind == tPunct || d.toks[j+1].nl) {
			// "Av. Constitución 2501 Sur", "Morelos 118 Pte.": a Mexican
			// street number's orientation.
			end = j
			if j+1 < n && d.isPunct(j+1, '.') && !d.toks[j+1].sp {
				end = j + 1
			}
			continue
		}
		if e := d.coloniaAt(j); e > 0 {
			end = e // "Col. Obispado": a Mexican colonia
			continue
		}
		if pieces > 0 && d.isPunct(j-1, ',') && j+3 < n && d.isWord(j) && d.toks[j].upper && d.toks[j].letters == 1 && d.isPunct(j+1, '.') && d.isWord(j+2) && d.toks[j+2].upper && d.toks[j+2].letters == 1 && d.isPunct(j+3, '.') && !d.toks[j+2].sp {
			end = j + 3 // "N.L.", "B.C.": a state abbreviated in dotted capitals
			continue
		}
		if d.toks[j].nl {
			lines++
			if lines > 4 {
				break
			}
		}
		// A postcode label: "CP 28014", "C.P. 03940", "CAP 20121", "PLZ 10115".
		if pl := d.postcodeLabel(j); pl > j {
			if e, ok := d.postcodeAhead(pl); ok {
				end = e
				continue
			}
		}
		// Letter suffix written apart ("3 a", "12 B"), "bis", "hs", "III".
		if pieces == 0 && j == end+1 && d.isWord(j) && !d.toks[j].nl && (d.toks[j].letters == 1 && d.toks[j].upper || houseSuffixes[d.lw(j)] && (!d.toks[j].upper || d.toks[j].allUp)) &&
			(j+1 >= n || d.toks[j+1].kind == tPunct || d.toks[j+1].nl || d.nlPostcode(j+1) > 0 || d.toks[j+1].kind == tNum) {
			end = j
			continue
		}
		if pe := d.provinceAt(j); pe > 0 && j == end+1 {
			end = pe
			continue
		}
		if ce := d.irishCounty(j); ce > 0 {
			// "Athlone, Co. Westmeath N37 F4E2": the county, then the
			// Eircode on the next piece.
			end = ce
			continue
		}
		if e, ok := d.postcodeAhead(j); ok {
			end = e
			postcode = true
			continue
		}
		if postcode && d.toks[j].nl {
			// A line after the postcode and city that is a floor or door
			// note ("3e porte à gauche") is a delivery note, not the
			// address's.
			if _, ok := d.unitAhead(j); ok {
				break
			}
		}
		if e, ok := d.unitAhead(j); ok {
			end = e
			lastUnit = true
			continue
		}
		lastUnit = false
		// City or district, when it is a known place or more address
		// follows it ("Rathmines, Dublin 6\nD06 K2X4").
		if e, ok := d.cityAhead(j); ok {
			if e2, ok2 := d.postcodeAhead(e + 1); ok2 && !d.toks[e+1].nl {
				end = e2
				continue
			}
			if d.knownPlace(j) || d.cityFollowed(e) {
				end = e
				continue
			}
			// A last unknown town after the street: "742 Evergreen Terrace,
			// Springfield." — when nothing but the sentence's end follows.
			// After a unit note too: "Avenida de la Paz 12, bajo izquierda,
			// Logroño."
			if (pieces == 0 || afterUnit) && d.isPunct(j-1, ',') && (e+1 >= n || d.toks[e+1].nl || d.isPunct(e+1, '.') || d.isPunct(e+1, '!') || d.isPunct(e+1, '?')) &&
				!d.e.lex.stop[d.lw(j)] && d.toks[j].info&wGiven == 0 {
				end = e
				continue
			}
		}
		if e, ok := d.streetPiece(j); ok && (d.cityFollowed(e) || d.townThenCounty(e)) {
			// "Lissadell Court, Main Street, Ballymote, Co. Sligo": an Irish
			// street without a number between a building and its town.
			end = e
			continue
		}
		if d.isWord(j) && addressCountries[d.lw(j)] && d.toks[j].upper {
			end = j
			continue
		}
		// Province "(MI)", state "CDMX", "ON", "BC".
		if d.isPunct(j, '(') && j+2 < n && d.isWord(j+1) && d.toks[j+1].allUp && d.toks[j+1].letters == 2 && d.isPunct(j+2, ')') {
			end = j + 2
			continue
		}
		if d.isWord(j) && d.toks[j].allUp && d.toks[j].letters >= 2 && d.toks[j].letters <= 4 && !d.toks[j].digit && (j+1 >= n || d.toks[j+1].nl || d.isPunct(j+1, '.') || d.isPunct(j+1, ',')) && pieces > 0 {
			end = j
			continue
		}
		break
	}
	return end
}

// orientationWords follow a Mexican street number (Sur, Norte, Ote., Pte.).
var orientationWords = set(strings.Fields(`sur norte oriente poniente ote pte nte`))

// coloniaAt returns the last word of "Col." and a capitalised district name
// at j, or 0.
func (d *doc) coloniaAt(j int) int {
	n := len(d.toks)
	if j+2 >= n || !d.isWord(j) || d.lw(j) != "col" || !d.toks[j].upper || !d.isPunct(j+1, '.') || !d.capWord(j+2) {
		return 0
	}
	e := j + 2
	for m := j + 3; m < n && m <= j+5 && !d.toks[m].nl && (d.capWord(m) || d.isWord(m) && particles[d.lw(m)] && d.capWord(m+1)); m++ {
		e = m
	}
	return e
}

// continuationHasPostcode reports whether what continues the address after
// token e reaches a postcode.
func (d *doc) continuationHasPostcode(e int) bool {
	end := d.addressContinuation(e)
	for j := e + 1; j <= end; j++ {
		if d.toks[j].kind == tNum && d.toks[j].e-d.toks[j].s >= 4 {
			return true
		}
		if d.isWord(j) && ukInward(d.tokText(j)) {
			return true
		}
	}
	return false
}

func (d *doc) hasNumber(a, b int) bool {
	for j := a; j <= b; j++ {
		if d.toks[j].digit || d.toks[j].kind == tNum {
			return true
		}
	}
	return false
}

// knownPlace reports whether the words from j name a place in the lexicon.
func (d *doc) knownPlace(j int) bool {
	if d.e.lex.place1[d.lw(j)] || addressCountries[d.lw(j)] {
		return true
	}
	_, kind := d.phraseAt(j)
	return kind == 'p'
}

// cityFollowed reports whether after the city ending at e comes (after a
// comma or line break) a postcode, a country or a known place.
func (d *doc) cityFollowed(e int) bool {
	k := e + 1
	if k >= len(d.toks) || !(d.isPunct(k, ',') || d.toks[k].nl) {
		return false
	}
	if d.isPunct(k, ',') {
		k++
	}
	if k >= len(d.toks) {
		return false
	}
	if _, ok := d.postcodeAhead(k); ok {
		return true
	}
	if d.irishCounty(k) > 0 {
		return true // "Kinsale, Co. Cork"
	}
	return d.isWord(k) && d.toks[k].upper && d.knownPlace(k)
}

// unitAhead matches a unit note from j to the next ',' or line end.
func (d *doc) unitAhead(j int) (int, bool) {
	e := j
	for e+1 < len(d.toks) && !d.isPunct(e+1, ',') && !d.toks[e+1].nl && e-j < 5 {
		e++
	}
	// The longest note from j: the chunk may go on with a postcode and town
	// when no comma separates them ("Calle Mayor 15 1ºB 28013 Madrid").
	for ; e >= j; e-- {
		if d.isPunct(e, '.') {
			// A trailing '.' as in "dcha." but not a sentence end.
			if e > j && d.unitChunk(j, e-1) {
				return e, true
			}
			continue
		}
		if d.unitChunk(j, e) {
			return e, true
		}
	}
	return 0, false
}

// cityAhead matches 1–4 capitalised words (with connectors, hyphens) from
// j and an optional district number ("Dublin 6").
func (d *doc) cityAhead(j int) (int, bool) {
	if !d.capWord(j) {
		// A known place may be written in lower case ("10115 berlin").
		if d.isWord(j) && d.knownPlace(j) {
			if l, kind := d.phraseAt(j); kind == 'p' {
				return j + l - 1, true
			}
			return j, true
		}
		return 0, false
	}
	if l, kind := d.phraseAt(j); kind == 'p' && l > 1 {
		return d.districtNumber(j + l - 1), true // "New York", "Den Haag"
	}
	lw := d.lw(j)
	if d.e.lex.stop[lw] && !d.e.lex.place1[lw] && !(cityArticles[lw] && d.capWord(j+1) && !d.toks[j+1].nl) {
		return 0, false
	}
	if !d.knownPlace(j) && d.notTownWord(j, false) {
		return 0, false
	}
	if l, kind := d.phraseAt(j); kind == 'p' && l > 1 {
		return d.districtNumber(j + l - 1), true
	}
	// After a known town only a district word continues it ("Amsterdam
	// Noord"); what else is capitalised is the sentence going on ("Madrid
	// Gracias", "Milano Ciao Marco").
	known := d.e.lex.place1[lw] || addressCountries[lw]
	saint := saintWords[lw]
	e := j
	words := 1
	for e+1 < len(d.toks) && words < 5 && !d.toks[e+1].nl {
		nx := e + 1
		if d.capWord(nx) {
			if known && !districtWords[d.lw(nx)] || !known && d.notTownWord(nx, !saint) {
				break
			}
			e = nx
			words++
			continue
		}
		if d.isWord(nx) && streetConnectors[d.lw(nx)] && d.capWord(nx+1) && !d.toks[nx+1].nl && !d.notTownWord(nx+1, false) {
			e = nx + 1
			words += 2
			continue
		}
		if d.isWord(nx) && (d.lw(nx) == "im" || d.lw(nx) == "am" || d.lw(nx) == "an" || d.lw(nx) == "upon" || d.lw(nx) == "on") && d.capWord(nx+1) && !d.notTownWord(nx+1, false) {
			e = nx + 1
			words += 2
			continue
		}
		break
	}
	return d.districtNumber(e), true
}

// districtWords continue a known town's name.
var districtWords = set(strings.Fields(`noord zuid oost west centrum centro nord süd sud ost est ovest mitte city centre center centraal centrale stad norte sur oeste`))

// notTownWord reports whether word j cannot be part of a town's name: a
// stop, cue, greeting or sign-off word, a month, or (when names is set) a
// given name, which after a town starts the next sentence or a signature.
func (d *doc) notTownWord(j int, names bool) bool {
	lw := d.lw(j)
	lex := d.e.lex
	if lex.stop[lw] && !cityArticles[lw] || cueWords[lw] != 0 || monthNames[lw] > 0 || titleWords[lw] {
		return true
	}
	if _, ok := nameCues[lw]; ok && !cityArticles[lw] && !streetConnectors[lw] {
		return true
	}
	return names && lex.given[lw] && !lex.surname[lw] && !lex.place1[lw]
}

// districtNumber extends a town ending at e over a district number ("Dublin 6").
func (d *doc) districtNumber(e int) int {
	if e+1 < len(d.toks) && d.toks[e+1].kind == tNum && d.toks[e+1].e-d.toks[e+1].s <= 2 && !d.toks[e+1].nl {
		e++
	}
	return e
}

// postcodeAhead matches a postcode (and the city after it, or before it
// for the UK, Canada and the US) starting at token j.
func (d *doc) postcodeAhead(j int) (int, bool) {
	n := len(d.toks)
	if j >= n {
		return 0, false
	}
	tk := &d.toks[j]
	cityAfter := func(e int) (int, bool) {
		if e+1 < n && !d.toks[e+1].nl {
			if ce, ok := d.cityAhead(e + 1); ok {
				// Province in brackets right after: "(MI)", "(Málaga)".
				if pe := d.provinceAt(ce + 1); pe > 0 {
					ce = pe
				}
				return ce, true
			}
		}
		return e, false
	}
	// Country prefix: "D-10115", "CH-8001", "F-75011", "B-1000", "I-20129".
	// One letter is upper case but not allUp (which wants two): "D-", "A-".
	if tk.kind == tWord && !tk.digit && (tk.allUp && tk.letters <= 2 || tk.letters == 1 && tk.upper) && j+2 < n && d.isPunct(j+1, '-') && d.toks[j+2].kind == tNum && !d.toks[j+1].sp && !d.toks[j+2].sp {
		if l := d.toks[j+2].e - d.toks[j+2].s; l == 4 || l == 5 {
			if ce, ok := cityAfter(j + 2); ok {
				return ce, true
			}
		}
	}
	if pe := d.nlPostcode(j); pe > 0 {
		if ce, ok := cityAfter(pe); ok {
			return ce, true
		}
		return pe, true
	}
	if tk.kind == tNum {
		l := tk.e - tk.s
		if l == 5 || l == 4 {
			if ce, ok := cityAfter(j); ok {
				return ce, true
			}
			// "28013, Madrid": a known town after a comma.
			if j+2 < n && d.isPunct(j+1, ',') && !d.toks[j+2].nl && d.knownPlace(j+2) {
				if ce, ok := d.cityAhead(j + 2); ok {
					return ce, true
				}
			}
			// A five-digit postcode that closes the address ("Madrid 28013").
			if l == 5 && (j+1 >= n || d.toks[j+1].nl || d.isPunct(j+1, ',') || d.isPunct(j+1, '.') || d.isPunct(j+1, ')')) {
				return j, true
			}
		}
		return 0, false
	}
	// UK/IE/CA postcodes: outward code then inward code.
	if tk.kind == tWord && tk.digit && tk.allUp || tk.kind == tWord && tk.digit && ukOutward(d.tokText(j)) {
		if ukOutward(d.tokText(j)) && j+1 < n && !d.toks[j+1].nl && d.isWord(j+1) && ukInward(d.tokText(j+1)) {
			return j + 1, true
		}
	}
	// City then UK/CA postcode or US state + ZIP: "Leicester LE2 7QP",
	// "Toronto, ON M6R 1A1", "Vancouver, BC V6E 4P9", "Austin, TX 78701".
	if ce, ok := d.cityAhead(j); ok {
		m := ce + 1
		if m < n && d.isPunct(m, ',') {
			m++
		}
		if m < n && d.isWord(m) && d.toks[m].allUp && d.toks[m].letters == 2 && !d.toks[m].digit && !d.toks[m].nl {
			// state/province
			if m+1 < n && d.toks[m+1].kind == tNum && d.toks[m+1].e-d.toks[m+1].s == 5 {
				e := m + 1
				if e+2 < n && d.isPunct(e+1, '-') && d.toks[e+2].kind == tNum {
					e += 2
				}
				return e, true
			}
			if m+2 < n && ukOutward(d.tokText(m+1)) && ukInward(d.tokText(m+2)) {
				return m + 2, true
			}
		}
		if m < n && ukOutward(d.tokText(m)) && m+1 < n && ukInward(d.tokText(m+1)) && !d.toks[m].nl {
			return m + 1, true
		}
	}
	return 0, false
}

// postcodeLabel returns the token after a postcode label at j ("CP",
// "C.P.", "CAP", "PLZ", "postcode", "código postal", "code postal"), or j.
func (d *doc) postcodeLabel(j int) int {
	n := len(d.toks)
	if j >= n || !d.isWord(j) {
		return j
	}
	switch lw := d.lw(j); {
	case lw == "cp" || lw == "cap" || lw == "plz" || lw == "postcode" || lw == "zip":
		j++
	case lw == "c" && j+3 < n && d.isPunct(j+1, '.') && d.lw(j+2) == "p" && d.isPunct(j+3, '.'):
		j += 4
	case (lw == "código" || lw == "codigo" || lw == "code" || lw == "codice") && j+1 < n && d.lw(j+1) == "postal" || lw == "codice" && d.lw(j+1) == "postale":
		j += 2
	default:
		return j
	}
	if j < n && (d.isPunct(j, ':') || d.isPunct(j, '.')) {
		j++
	}
	return j
}

// twoLetterWords are words that a lower-case "1234 ab" must not be.
var twoLetterWords = set(strings.Fields(`en of op te in is at to on de la le el il et am im zu da do du je ik we me my an as or so om al er ze na nu bij`))

// nlPostcode returns the last token of a Dutch postcode at j ("1234 AB",
// "1234AB", lower case "1234 ab" where a town, punctuation or the line's end
// follows), or 0.
func (d *doc) nlPostcode(j int) int {
	n := len(d.toks)
	if j >= n {
		return 0
	}
	tk := &d.toks[j]
	if tk.kind == tNum && tk.e-tk.s == 4 && j+1 < n && d.isWord(j+1) && !d.toks[j+1].nl {
		nx := &d.toks[j+1]
		if nx.letters != 2 || nx.digit || nx.e-nx.s != 2 {
			return 0
		}
		if nx.allUp {
			return j + 1
		}
		lw := d.lw(j + 1)
		if !nx.upper && !twoLetterWords[lw] && (j+2 >= n || d.toks[j+2].nl || d.toks[j+2].kind == tPunct || d.knownPlace(j+2)) {
			return j + 1
		}
		return 0
	}
	if tk.kind == tWord && tk.e-tk.s == 6 && tk.letters == 2 {
		w := d.tokText(j)
		if isDigit(w[0]) && isDigit(w[1]) && isDigit(w[2]) && isDigit(w[3]) && (isUpper(w[4]) && isUpper(w[5]) || isLower(w[4]) && isLower(w[5])) {
			return j
		}
	}
	return 0
}

// provinceAt matches a province or region in brackets at j: "(MI)",
// "(Málaga)", "(Madrid)"; it returns the closing bracket's token or 0.
func (d *doc) provinceAt(j int) int {
	n := len(d.toks)
	if j+2 >= n || !d.isPunct(j, '(') || d.toks[j].nl || !d.isWord(j+1) {
		return 0
	}
	if d.toks[j+1].allUp && d.toks[j+1].letters == 2 && d.isPunct(j+2, ')') {
		return j + 2
	}
	if d.capWord(j+1) && d.knownPlace(j+1) {
		e := j + 1
		if l, kind := d.phraseAt(j + 1); kind == 'p' {
			e = j + l
		}
		if e+1 < n && d.isPunct(e+1, ')') {
			return e + 1
		}
	}
	return 0
}

// ukOutward: A9, A9A, A99, AA9, AA9A, AA99 (UK); A9A (Canada FSA); A99 (Eircode routing key).
func ukOutward(w string) bool {
	if u := upperASCII(w); u != w {
		if !hasDigit(w) {
			return false
		}
		w = u
	}
	if len(w) < 2 || len(w) > 4 || !isUpper(w[0]) {
		return false
	}
	digits := 0
	for i := 0; i < len(w); i++ {
		if isDigit(w[i]) {
			digits++
		} else if !isUpper(w[i]) {
			return false
		}
	}
	return digits >= 1 && digits <= 2 && isDigit(w[1]) || len(w) >= 3 && isUpper(w[1]) && isDigit(w[2])
}

// upperASCII upper-cases a short ASCII word (a postcode typed in lower
// case, "nw1 6xe"); other words are returned as they are.
func upperASCII(w string) string {
	if len(w) > 8 {
		return w
	}
	var b [8]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		} else if c >= 0x80 {
			return w
		}
		b[i] = c
	}
	return string(b[:len(w)])
}

// ukInward: 9AA (UK), 9A9 (Canada LDU), four characters (Eircode).
func ukInward(w string) bool {
	if u := upperASCII(w); u != w {
		// Typed in lower case ("1ad", "k2x4"): a digit must show it is a
		// code, not a word ("road", "this").
		if !hasDigit(w) {
			return false
		}
		w = u
	}
	switch len(w) {
	case 3:
		return isDigit(w[0]) && isUpper(w[1]) && (isUpper(w[2]) || isDigit(w[2]))
	case 4:
		for i := 0; i < 4; i++ {
			if !isDigit(w[i]) && !isUpper(w[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// scanUnitAddresses finds addresses whose number is a unit's rather than a
// house's: "Unit 9, Meadow Lane Industrial Estate, Leicester LE2 7QP" — a
// unit note, then a named street or estate, then a postcode.
func (d *doc) scanUnitAddresses() {
	n := len(d.toks)
	for k := 0; k+3 < n; k++ {
		if !d.isWord(k) || !d.toks[k].upper || !unitWords[d.lw(k)] {
			continue
		}
		if d.toks[k+1].kind != tNum && !(d.isWord(k+1) && d.toks[k+1].digit) {
			continue
		}
		j := k + 2
		if !d.isPunct(j, ',') {
			continue
		}
		j++
		nameEnd, caps := d.streetName(j, 6)
		if caps < 2 {
			continue
		}
		hasType := false
		for m := j; m < nameEnd; m++ {
			lw := d.lw(m)
			if suffixTypes[lw] || unitWords[lw] || lw == "estate" || lw == "park" || prefixTypes[lw] {
				hasType = true
			}
		}
		if !hasType && !d.continuationHasPostcode(nameEnd-1) {
			// (A building named without a type word, "Apartment 6, The
			// Maltings, Bridge Street, ..., R95 X2Y3", when the address
			// goes on to its postcode.)
			continue
		}
		end := d.addressContinuation(nameEnd - 1)
		if end == nameEnd-1 {
			continue
		}
		d.work++
		d.add(d.toks[k].s, d.toks[end].e, Address, 0.75, "address-unit")
		k = end
	}
}

// recipientLine marks the line above an address block as a PERSON when it
// holds only a name: two to five capitalised words, no digits ("Siobhan
// O'Sullivan\nFlat 3B, ...").
func (d *doc) recipientLine(start int) {
	if start == 0 || !d.toks[start].nl {
		return
	}
	j := start - 1
	a := j
	for a > 0 && !d.toks[a].nl {
		a--
	}
	if j-a > 6 {
		return
	}
	caps := 0
	for m := a; m <= j; m++ {
		tk := &d.toks[m]
		if tk.kind == tPunct {
			if d.isPunct(m, '.') || d.isPunct(m, '-') || d.isPunct(m, '\'') {
				continue
			}
			return
		}
		lw := d.lw(m)
		if tk.digit || d.e.lex.stop[lw] && !streetConnectors[lw] {
			return
		}
		if tk.upper && businessWord(lw) {
			return // "Seniorenstift Lindenhof": a home or a business, no one's name
		}
		if tk.upper {
			caps++
		} else if !streetConnectors[lw] {
			return
		}
	}
	if caps >= 1 && caps <= 5 {
		d.add(d.toks[a].s, d.toks[j].e, Person, 0.8, "person-recipient-line")
	}
}

// germanPrepBefore extends the start s of a German compound street back
// over a capitalised preposition that is part of its name ("Am Lindenweg
// 3", "Zum Sportplatz 2", "An der Mühlenstraße 4"). A capital after
// sentence punctuation or at the message's start is only the sentence's
// first word ("Am Lindenweg 3 steht ...": at the Lindenweg), so it stays
// outside; at a line's start (an address block) it is the name's.
func (d *doc) germanPrepBefore(s int) int {
	p := s - 1
	if p >= 0 && d.isWord(p) && !d.toks[p].upper && (d.lw(p) == "der" || d.lw(p) == "dem" || d.lw(p) == "den") && !d.toks[s].nl {
		p--
	}
	if p < 0 || !d.isWord(p) || !d.toks[p].upper || !germanPrepStreets[d.lw(p)] || d.toks[p+1].nl {
		return s
	}
	if p == 0 || !d.toks[p].nl && (d.isPunct(p-1, '.') || d.isPunct(p-1, '!') || d.isPunct(p-1, '?')) {
		return s
	}
	return p
}

// townAfter reports a postcode and a known town right after token e,
// past a comma: ", 22765 Hamburg".
func (d *doc) townAfter(e int) bool {
	m := e + 1
	if m < len(d.toks) && d.isPunct(m, ',') {
		m++
	}
	if m >= len(d.toks) || d.toks[m].kind != tNum {
		return false
	}
	pe, ok := d.postcodeAhead(m)
	return ok && pe > m && d.knownPlace(m+1)
}

// irishCounties are the island's 32 counties, named after "Co." or
// "County" in an Irish address.
var irishCounties = set(strings.Fields(`carlow cavan clare cork donegal dublin galway kerry kildare kilkenny laois leitrim
	limerick longford louth mayo meath monaghan offaly roscommon sligo tipperary waterford westmeath wexford wicklow
	antrim armagh down fermanagh londonderry derry tyrone`))

// irishCounty returns the last token of "Co. <County>" or "County
// <County>" at j, or 0.
func (d *doc) irishCounty(j int) int {
	if !d.isWord(j) {
		return 0
	}
	m := j + 1
	switch d.lw(j) {
	case "co":
		if m < len(d.toks) && d.isPunct(m, '.') {
			m++
		}
	case "county":
	default:
		return 0
	}
	if m < len(d.toks) && d.isWord(m) && !d.toks[m].nl && d.toks[m].upper && irishCounties[d.lw(m)] {
		return m
	}
	return 0
}

// streetPiece returns the last token of one to three capitalised words at
// j ending in a street type ("Main Street", "Dublin Road"), followed by a
// comma.
func (d *doc) streetPiece(j int) (int, bool) {
	for e := j; e < len(d.toks) && e < j+3 && d.capWord(e) && !(e > j && d.toks[e].nl); e++ {
		if e > j && suffixTypes[d.lw(e)] {
			return e, e+1 < len(d.toks) && d.isPunct(e+1, ',')
		}
	}
	return 0, false
}

// townThenCounty reports ", <Town>, Co. <County>" after token e.
func (d *doc) townThenCounty(e int) bool {
	if e+2 >= len(d.toks) || !d.isPunct(e+1, ',') {
		return false
	}
	te, ok := d.cityAhead(e + 2)
	return ok && te+2 < len(d.toks) && d.isPunct(te+1, ',') && d.irishCounty(te+2) > 0
}
