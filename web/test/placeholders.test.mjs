// Unit tests of the widget's placeholder handling (node --test; run by
// test/browser's TestWebUnitTests). The DOM part (render) is covered in
// Chromium by test/browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { learn, split } from '../src/widget/placeholders.js';

test('split finds every pkg/pii type, numbers from 1', () => {
  assert.deepEqual(split('Hi [PERSON_1], [NATIONAL_ID_2] and [DATE_OF_BIRTH_3].').filter((p) => p.placeholder).map((p) => p.type),
    ['PERSON', 'NATIONAL_ID', 'DATE_OF_BIRTH']);
  assert.equal(split('[EMAIL_0] [email_1] [FOO_1]').filter((p) => p.placeholder).length, 0);
});

test('learn takes the values an unambiguous alignment gives', () => {
  const known = new Map();
  assert.equal(learn('Write to a@b.example, I paid with 4111 1111 1111 1111', 'Write to [EMAIL_1], I paid with [CARD_1]', known), true);
  assert.deepEqual([...known], [['[EMAIL_1]', 'a@b.example'], ['[CARD_1]', '4111 1111 1111 1111']]);
});

test('a typed placeholder is a literal, shown as typed', () => {
  const known = new Map();
  assert.equal(learn('x [EMAIL_1] y', 'x [LITERAL_1] y', known), true);
  assert.equal(known.get('[LITERAL_1]'), '[EMAIL_1]');
});

test('learn refuses what it would have to guess', () => {
  for (const [typed, stored] of [
    ['a, b, c', '[PERSON_1], [PERSON_2]'], // the separator occurs twice
    ['AnnBob', '[PERSON_1][PERSON_2]'], // adjacent placeholders
    ['totally different', 'Hi [PERSON_1]'], // the literal text differs
    ['Ann and Bob', '[PERSON_1] and [PERSON_1]'], // one placeholder, two values
    ['no placeholders', 'no placeholders'],
  ]) {
    const known = new Map();
    assert.equal(learn(typed, stored, known), false, `${typed} / ${stored}`);
    assert.equal(known.size, 0);
  }
});

test('a value learnt first stays', () => {
  const known = new Map([['[EMAIL_1]', 'first@example.com']]);
  learn('mail second@example.com', 'mail [EMAIL_1]', known);
  assert.equal(known.get('[EMAIL_1]'), 'first@example.com');
});

test('the widget speaks the six languages, every word of them', async () => {
  const { strings } = await import('../src/widget/strings.js');
  const [en] = strings('en');
  for (const l of ['de', 'fr', 'es', 'nl', 'it']) {
    const [t, used] = strings(`${l}-XX`);
    assert.equal(used, l);
    for (const k of Object.keys(en)) assert.ok(k in t, `${l} lacks ${k}`);
    for (const k of Object.keys(en.labels)) assert.ok(t.labels[k], `${l} lacks the label of ${k}`);
  }
  assert.equal(strings('pt')[1], 'en');
});
