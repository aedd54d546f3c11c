// align pairs each placeholder of a message as stored ("My card is
// [CARD_1]") with what the re-identified text shows in its place ("My
// card is •••• 4242"): the literal text between placeholders is the same
// in both, so a regular expression built from the stored text, with a
// group per placeholder (a back-reference when one repeats), splits the
// shown text. Returns Map placeholder → shown value; empty when the texts
// do not fit together (then nothing is shown rather than a wrong value).
const placeholderRE = /\[([A-Z][A-Z_]*?)_(\d+)\]/g;

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function placeholdersOf(text) {
  return [...String(text).matchAll(placeholderRE)].map((m) => m[0]);
}

export function align(stored, shown) {
  const out = new Map();
  const order = [];
  let re = '^';
  let last = 0;
  for (const m of String(stored).matchAll(placeholderRE)) {
    re += escape(stored.slice(last, m.index));
    const seen = order.indexOf(m[0]);
    if (seen >= 0) re += `\\${seen + 1}`;
    else {
      order.push(m[0]);
      re += '([\\s\\S]+?)';
    }
    last = m.index + m[0].length;
  }
  if (order.length === 0) return out;
  re += `${escape(stored.slice(last))}$`;
  const m = new RegExp(re).exec(String(shown));
  if (!m) return out;
  order.forEach((p, i) => {
    // A placeholder the vault showed nothing for stays a placeholder.
    if (m[i + 1] !== p) out.set(p, m[i + 1]);
  });
  return out;
}

// kindOf is the data type a placeholder names ("[CARD_1]" → "CARD").
export const kindOf = (p) => p.replace(/^\[/, '').replace(/_\d+\]$/, '');
