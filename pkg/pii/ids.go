package pii

// scanAlnumIDs finds the national IDs that mix letters and digits: UK NINO,
// Italian codice fiscale, Spanish DNI/NIE and French NIR (whose Corsican
// departments are 2A/2B). Each starts at a token and reads a bounded
// number of characters, so the scan is linear.
func (d *doc) scanAlnumIDs() {
	t := d.text
	var buf [16]byte
	for k := range d.toks {
		tk := &d.toks[k]
		if tk.kind == tPunct || d.taken(tk.s, tk.e) {
			continue
		}
		c0 := t[tk.s]
		// Codice fiscale: one 16-character token.
		if tk.kind == tWord && tk.e-tk.s == 16 && tk.digit {
			for i := 0; i < 16; i++ {
				buf[i] = upper(t[tk.s+i])
			}
			if codiceFiscaleValid(buf[:16]) {
				d.work++
				d.add(tk.s, tk.e, NationalID, 0.95, "it-codice-fiscale")
				continue
			}
		}
		// NINO: two letters, six digits (optionally paired), a letter A–D.
		if isAlpha(c0) && tk.e-tk.s >= 2 && isAlpha(t[tk.s+1]) && (tk.e-tk.s == 2 || tk.e-tk.s == 8 || tk.e-tk.s == 9) {
			if n, e := d.collect(tk.s, 9, buf[:]); n == 9 && ninoValid(buf[:9]) && !gluedAfter(t, e) && !(e < len(t) && isDigit(t[e])) {
				d.work++
				if cue, _ := d.cueBefore(k, 5, cueRef|cueCompany|cueDevice|cueTaxID|cueSSN); cue&(cueRef|cueCompany|cueDevice) == 0 || cue&(cueTaxID|cueSSN) != 0 || d.idCueFurther(k) != 0 {
					d.add(tk.s, e, NationalID, 0.9, "uk-nino")
					continue
				}
			}
		}
		// NIE: X/Y/Z, seven digits, letter; dashes or spaces allowed.
		if (c0 == 'X' || c0 == 'Y' || c0 == 'Z' || c0 == 'x' || c0 == 'y' || c0 == 'z') && (tk.e-tk.s == 1 || tk.e-tk.s == 8 || tk.e-tk.s == 9) {
			if n, e := d.collectDash(tk.s, 9, buf[:]); n == 9 && dniValid(buf[:9]) && !gluedAfter(t, e) && !(e < len(t) && isDigit(t[e])) {
				d.work++
				d.add(tk.s, e, NationalID, 0.95, "es-nie")
				continue
			}
		}
		if !isDigit(c0) || gluedBefore(t, tk.s) {
			continue
		}
		if tk.s > 0 && (isDigit(t[tk.s-1]) || t[tk.s-1] == '.' && tk.s > 1 && isDigit(t[tk.s-2])) {
			continue
		}
		// DNI: eight digits (12345678 or 12.345.678), then -, space or
		// nothing, then the letter.
		if e, ok := d.dni(tk.s); ok {
			d.work++
			d.add(tk.s, e, NationalID, 0.95, "es-dni")
			continue
		}
		// NIR: 15 characters, spaced or compact.
		if c0 == '1' || c0 == '2' || c0 == '3' || c0 == '4' || c0 == '7' || c0 == '8' {
			if n, e := d.collect(tk.s, 15, buf[:]); n == 15 && nirValid(buf[:15]) && !gluedAfter(t, e) && !(e < len(t) && isDigit(t[e])) {
				d.work++
				if cue, _ := d.cueBefore(k, 5, cueRef|cueCompany|cueDevice|cueTaxID); cue&(cueRef|cueCompany|cueDevice) == 0 || cue&cueTaxID != 0 || d.idCueFurther(k) != 0 {
					d.add(tk.s, e, NationalID, 0.9, "fr-nir")
				}
			}
		}
	}
}

// collect reads up to want letters/digits (upper-cased into buf) from s,
// skipping single spaces between groups; it returns how many it read and
// the end offset of the last one.
func (d *doc) collect(s, want int, buf []byte) (int, int) {
	t := d.text
	n, i, end := 0, s, s
	for i < len(t) && n < want {
		c := t[i]
		if isAlnum(c) {
			buf[n] = upper(c)
			n++
			i++
			end = i
			continue
		}
		if c == ' ' && i+1 < len(t) && isAlnum(t[i+1]) && n > 0 {
			i++
			continue
		}
		break
	}
	return n, end
}

// collectDash is collect that also skips single dashes.
func (d *doc) collectDash(s, want int, buf []byte) (int, int) {
	t := d.text
	n, i, end := 0, s, s
	for i < len(t) && n < want {
		c := t[i]
		if isAlnum(c) {
			buf[n] = upper(c)
			n++
			i++
			end = i
			continue
		}
		if (c == ' ' || c == '-') && i+1 < len(t) && isAlnum(t[i+1]) && n > 0 {
			i++
			continue
		}
		break
	}
	return n, end
}

// dni reads a DNI at s: 8 digits, compact or dotted 2.3.3, an optional '-'
// or space, and a letter that is not followed by more letters.
func (d *doc) dni(s int) (int, bool) {
	t := d.text
	var buf [9]byte
	n, i := 0, s
	dotted := s+10 <= len(t) && t[s+2] == '.' && t[s+6] == '.'
	for i < len(t) && n < 8 {
		c := t[i]
		if isDigit(c) {
			buf[n] = c
			n++
			i++
			continue
		}
		if dotted && c == '.' && (n == 2 || n == 5) {
			i++
			continue
		}
		break
	}
	if n != 8 || i >= len(t) {
		return 0, false
	}
	spaced := t[i] == ' '
	if t[i] == '-' || spaced {
		i++
	}
	if i >= len(t) || !isAlpha(t[i]) || spaced && isLower(t[i]) || gluedAfter(t, i+1) || i+1 < len(t) && isDigit(t[i+1]) {
		return 0, false
	}
	buf[8] = upper(t[i])
	if !dniValid(buf[:]) {
		return 0, false
	}
	return i + 1, true
}

// idCueFurther returns the national-ID cue that opens the clause of the
// number at token k, further back than a nearer reference or card word:
// "my NI number for the trade account form: ZK …", "my social for the
// store card application is …", "mon numéro de sécu dans le dossier : …".
// The number's own checksum has already passed. A lower-case "ni" is
// Spanish and French "nor", not National Insurance.
func (d *doc) idCueFurther(k int) cueClass {
	c, at := d.cueBeforeAt(k, 10, cueSSN|cueBSN|cueTaxID)
	if c == 0 || at < 0 || d.lw(at) == "ni" && !d.toks[at].allUp {
		return 0
	}
	return c
}
