package pii

import "strconv"

// spokenNumbers maps the number words 0–99 of the six languages (units,
// teens, tens and their compounds: "twenty-two", "zweiundzwanzig",
// "vierendertig", "veintidós", "trentatré", "quatre-vingt-dix") to their
// digits, built once from the parts so no compound is missing.
var spokenNumbers = buildSpokenNumbers()

func buildSpokenNumbers() map[string]string {
	m := map[string]string{}
	put := func(v int, words ...string) {
		for _, w := range words {
			m[w] = strconv.Itoa(v)
		}
	}
	type lang struct {
		units [10][]string
		teens [10][]string // 10–19
		tens  [10][]string // 20, 30, ... at index 2..9
	}
	en := lang{
		units: [10][]string{{"zero", "oh"}, {"one"}, {"two"}, {"three"}, {"four"}, {"five"}, {"six"}, {"seven"}, {"eight"}, {"nine"}},
		teens: [10][]string{{"ten"}, {"eleven"}, {"twelve"}, {"thirteen"}, {"fourteen"}, {"fifteen"}, {"sixteen"}, {"seventeen"}, {"eighteen"}, {"nineteen"}},
		tens:  [10][]string{nil, nil, {"twenty"}, {"thirty"}, {"forty"}, {"fifty"}, {"sixty"}, {"seventy"}, {"eighty"}, {"ninety"}},
	}
	de := lang{
		units: [10][]string{{"null"}, {"eins", "ein"}, {"zwei", "zwo"}, {"drei"}, {"vier"}, {"fünf", "fuenf"}, {"sechs"}, {"sieben"}, {"acht"}, {"neun"}},
		teens: [10][]string{{"zehn"}, {"elf"}, {"zwölf", "zwoelf"}, {"dreizehn"}, {"vierzehn"}, {"fünfzehn"}, {"sechzehn"}, {"siebzehn"}, {"achtzehn"}, {"neunzehn"}},
		tens:  [10][]string{nil, nil, {"zwanzig"}, {"dreißig", "dreissig"}, {"vierzig"}, {"fünfzig", "fuenfzig"}, {"sechzig"}, {"siebzig"}, {"achtzig"}, {"neunzig"}},
	}
	nl := lang{
		units: [10][]string{{"nul"}, {"een", "één"}, {"twee"}, {"drie"}, {"vier"}, {"vijf"}, {"zes"}, {"zeven"}, {"acht"}, {"negen"}},
		teens: [10][]string{{"tien"}, {"elf"}, {"twaalf"}, {"dertien"}, {"veertien"}, {"vijftien"}, {"zestien"}, {"zeventien"}, {"achttien"}, {"negentien"}},
		tens:  [10][]string{nil, nil, {"twintig"}, {"dertig"}, {"veertig"}, {"vijftig"}, {"zestig"}, {"zeventig"}, {"tachtig"}, {"negentig"}},
	}
	es := lang{
		units: [10][]string{{"cero"}, {"uno", "un"}, {"dos"}, {"tres"}, {"cuatro"}, {"cinco"}, {"seis"}, {"siete"}, {"ocho"}, {"nueve"}},
		teens: [10][]string{{"diez"}, {"once"}, {"doce"}, {"trece"}, {"catorce"}, {"quince"}, {"dieciséis", "dieciseis"}, {"diecisiete"}, {"dieciocho"}, {"diecinueve"}},
		tens:  [10][]string{nil, nil, {"veinte"}, {"treinta"}, {"cuarenta"}, {"cincuenta"}, {"sesenta"}, {"setenta"}, {"ochenta"}, {"noventa"}},
	}
	it := lang{
		units: [10][]string{{"zero"}, {"uno"}, {"due"}, {"tre"}, {"quattro"}, {"cinque"}, {"sei"}, {"sette"}, {"otto"}, {"nove"}},
		teens: [10][]string{{"dieci"}, {"undici"}, {"dodici"}, {"tredici"}, {"quattordici"}, {"quindici"}, {"sedici"}, {"diciassette"}, {"diciotto"}, {"diciannove"}},
		tens:  [10][]string{nil, nil, {"venti"}, {"trenta"}, {"quaranta"}, {"cinquanta"}, {"sessanta"}, {"settanta"}, {"ottanta"}, {"novanta"}},
	}
	fr := lang{
		units: [10][]string{{"zéro", "zero"}, {"un", "une"}, {"deux"}, {"trois"}, {"quatre"}, {"cinq"}, {"six"}, {"sept"}, {"huit"}, {"neuf"}},
		teens: [10][]string{{"dix"}, {"onze"}, {"douze"}, {"treize"}, {"quatorze"}, {"quinze"}, {"seize"}, {"dix-sept"}, {"dix-huit"}, {"dix-neuf"}},
		tens:  [10][]string{nil, nil, {"vingt"}, {"trente"}, {"quarante"}, {"cinquante"}, {"soixante"}, nil, {"quatre-vingt", "quatre-vingts"}, nil},
	}
	for _, l := range []lang{en, de, nl, es, it, fr} {
		for v, ws := range l.units {
			put(v, ws...)
		}
		for v, ws := range l.teens {
			put(10+v, ws...)
		}
		for v, ws := range l.tens {
			put(10*v, ws...)
		}
	}
	for t := 2; t <= 9; t++ {
		for u := 1; u <= 9; u++ {
			v := 10*t + u
			for _, tw := range en.tens[t] {
				for _, uw := range en.units[u] {
					put(v, tw+"-"+uw, tw+uw)
				}
			}
			for _, tw := range de.tens[t] {
				uw := de.units[u][0]
				if u == 1 {
					uw = "ein"
				}
				put(v, uw+"und"+tw)
			}
			for _, tw := range nl.tens[t] {
				uw := nl.units[u][0]
				sep := "en"
				if uw[len(uw)-1] == 'e' {
					sep = "ën"
					put(v, uw+"en"+tw)
				}
				put(v, uw+sep+tw)
			}
			for _, tw := range it.tens[t] {
				uw := it.units[u][0]
				base := tw
				if u == 1 || u == 8 {
					base = tw[:len(tw)-1]
				}
				put(v, base+uw)
				if u == 3 {
					put(v, base+"tré")
				}
			}
			for _, tw := range fr.tens[t] {
				uw := fr.units[u][0]
				if u == 1 && t != 8 {
					put(v, tw+"-et-un", tw+"-et-une")
				} else {
					put(v, tw+"-"+uw)
				}
			}
		}
	}
	es2 := []string{"", "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve"}
	for u := 1; u <= 9; u++ {
		put(20+u, es2[u])
	}
	put(22, "veintidos")
	put(23, "veintitres")
	put(26, "veintiseis")
	// French 70–79 and 90–99.
	frTeens := []string{"dix", "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"}
	for i, w := range frTeens {
		put(70+i, "soixante-"+w)
		put(90+i, "quatre-vingt-"+w)
	}
	put(71, "soixante-et-onze")
	return m
}
