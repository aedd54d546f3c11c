// Package eval scores PII detections against the labelled set in
// pkg/pii/testdata/labelled (built by eval/labelset from its source), per entity
// type under exact and overlap matching, plus false alarms on clean messages.
//
// Everything here is a pure function of gold and predicted spans; the engine is
// only run by the accuracy tests, so the scorer can be tested on hand-computed cases.
package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Types are the contract's entity types (../shared/PII-LABELS.md), in report order.
var Types = []string{
	"PERSON", "EMAIL", "PHONE", "CARD", "IBAN", "ADDRESS", "IP", "NATIONAL_ID", "DATE_OF_BIRTH", "SECRET",
}

// IsType reports whether t is one of Types.
func IsType(t string) bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// Span is a labelled or predicted entity: Unicode code-point offsets, End exclusive.
type Span struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Type  string `json:"type"`
}

// Message is one line of dev.jsonl / holdout.jsonl.
type Message struct {
	ID    string `json:"id"`
	Lang  string `json:"lang"`
	Text  string `json:"text"`
	Spans []Span `json:"spans"`
}

// LoadJSONL reads a labelled split and checks every span lies inside its text.
func LoadJSONL(path string) ([]Message, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Message
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<22)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		runes := len([]rune(m.Text))
		for _, s := range m.Spans {
			if s.Start < 0 || s.End > runes || s.Start >= s.End {
				return nil, fmt.Errorf("%s:%d (%s): span %+v outside its %d code points", path, n, m.ID, s, runes)
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// Case is one message to score: its gold spans and a detector's predictions.
type Case struct {
	ID   string
	Gold []Span
	Pred []Span
}

// Counts holds matching outcomes for one type.
type Counts struct {
	TP, FP, FN int
}

// ratio is a/b, with an empty denominator counting as 1 ("nothing to get wrong"):
// a type with no predictions has precision 1, one with no gold has recall 1.
func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Precision is TP/(TP+FP).
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN).
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall (0 when both are 0).
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func (c *Counts) add(o Counts) { c.TP += o.TP; c.FP += o.FP; c.FN += o.FN }

// Mistake is one unmatched span under overlap matching, for a human to read.
type Mistake struct {
	ID   string
	Kind string // "missed" (gold without a match) or "false" (prediction without one)
	Span Span
}

// Report is the outcome of scoring a set of cases.
type Report struct {
	Exact   map[string]Counts // per type, exact boundaries and type
	Overlap map[string]Counts // per type, same type and IoU ≥ 0.5, one-to-one
	Gold    map[string]int    // gold spans per type
	Pred    map[string]int    // predicted spans per type

	Messages         int // all messages scored
	Clean            int // messages without gold spans
	CleanAlarms      int // predicted spans inside clean messages
	CleanAlarmedMsgs int // clean messages with at least one predicted span

	Mistakes []Mistake // overlap mistakes, in case order
}

// MinIoU is the overlap threshold: a prediction matches a gold span of the same
// type when their intersection over union is at least this.
const MinIoU = 0.5

// IoU is the intersection over union of two half-open intervals.
func IoU(a, b Span) float64 {
	lo, hi := max(a.Start, b.Start), min(a.End, b.End)
	inter := hi - lo
	if inter <= 0 {
		return 0
	}
	union := (a.End - a.Start) + (b.End - b.Start) - inter
	return float64(inter) / float64(union)
}

// Score matches predictions to gold per case and accumulates the report.
func Score(cases []Case) Report {
	r := Report{
		Exact: map[string]Counts{}, Overlap: map[string]Counts{},
		Gold: map[string]int{}, Pred: map[string]int{},
	}
	for _, c := range cases {
		r.Messages++
		for _, g := range c.Gold {
			r.Gold[g.Type]++
		}
		for _, p := range c.Pred {
			r.Pred[p.Type]++
		}
		if len(c.Gold) == 0 {
			r.Clean++
			r.CleanAlarms += len(c.Pred)
			if len(c.Pred) > 0 {
				r.CleanAlarmedMsgs++
			}
		}
		for typ, cnt := range matchExact(c.Gold, c.Pred) {
			x := r.Exact[typ]
			x.add(cnt)
			r.Exact[typ] = x
		}
		cnts, missed, false_ := matchOverlap(c.Gold, c.Pred)
		for typ, cnt := range cnts {
			x := r.Overlap[typ]
			x.add(cnt)
			r.Overlap[typ] = x
		}
		for _, s := range missed {
			r.Mistakes = append(r.Mistakes, Mistake{ID: c.ID, Kind: "missed", Span: s})
		}
		for _, s := range false_ {
			r.Mistakes = append(r.Mistakes, Mistake{ID: c.ID, Kind: "false", Span: s})
		}
	}
	return r
}

// matchExact counts a prediction as correct when a not yet matched gold span has
// its type and boundaries; a duplicate prediction is a false positive.
func matchExact(gold, pred []Span) map[string]Counts {
	out := map[string]Counts{}
	used := make([]bool, len(gold))
	for _, p := range pred {
		c := out[p.Type]
		hit := false
		for i, g := range gold {
			if !used[i] && g == p {
				used[i], hit = true, true
				break
			}
		}
		if hit {
			c.TP++
		} else {
			c.FP++
		}
		out[p.Type] = c
	}
	for i, g := range gold {
		if !used[i] {
			c := out[g.Type]
			c.FN++
			out[g.Type] = c
		}
	}
	return out
}

// matchOverlap pairs gold and predicted spans one-to-one (same type, IoU ≥ MinIoU)
// with a maximum bipartite matching, so the count of matches does not depend on
// the order the detector listed its findings in.
func matchOverlap(gold, pred []Span) (counts map[string]Counts, missed, falseAlarms []Span) {
	adj := make([][]int, len(gold))
	for i, g := range gold {
		for j, p := range pred {
			if g.Type == p.Type && IoU(g, p) >= MinIoU {
				adj[i] = append(adj[i], j)
			}
		}
	}
	predOf := make([]int, len(pred)) // pred index → gold index, -1 if free
	for j := range predOf {
		predOf[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for _, j := range adj[i] {
			if seen[j] {
				continue
			}
			seen[j] = true
			if predOf[j] < 0 || try(predOf[j], seen) {
				predOf[j] = i
				return true
			}
		}
		return false
	}
	goldMatched := make([]bool, len(gold))
	for i := range gold {
		if try(i, make([]bool, len(pred))) {
			goldMatched[i] = true
		}
	}
	counts = map[string]Counts{}
	for j, p := range pred {
		c := counts[p.Type]
		if predOf[j] >= 0 {
			c.TP++
		} else {
			c.FP++
			falseAlarms = append(falseAlarms, p)
		}
		counts[p.Type] = c
	}
	for i, g := range gold {
		if !goldMatched[i] {
			c := counts[g.Type]
			c.FN++
			counts[g.Type] = c
			missed = append(missed, g)
		}
	}
	return counts, missed, falseAlarms
}

// Total sums counts over every type.
func Total(m map[string]Counts) Counts {
	var t Counts
	for _, c := range m {
		t.add(c)
	}
	return t
}

// FalseAlarmsPer100 is predicted spans in clean messages per 100 clean messages.
func (r Report) FalseAlarmsPer100() float64 {
	if r.Clean == 0 {
		return 0
	}
	return 100 * float64(r.CleanAlarms) / float64(r.Clean)
}

// rowTypes lists the contract types, then any other type a detector predicted.
func (r Report) rowTypes() []string {
	rows := append([]string(nil), Types...)
	var extra []string
	for t := range r.Pred {
		if !IsType(t) {
			extra = append(extra, t)
		}
	}
	sort.Strings(extra)
	return append(rows, extra...)
}

// String renders the report as a fixed-width table.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-13s %5s %5s | %-20s | %-20s\n", "", "", "", "exact", "overlap (IoU>=0.5)")
	fmt.Fprintf(&b, "%-13s %5s %5s | %6s %6s %6s | %6s %6s %6s\n", "type", "gold", "pred", "P", "R", "F1", "P", "R", "F1")
	line := func(name string, gold, pred int, e, o Counts) {
		fmt.Fprintf(&b, "%-13s %5d %5d | %6.3f %6.3f %6.3f | %6.3f %6.3f %6.3f\n",
			name, gold, pred, e.Precision(), e.Recall(), e.F1(), o.Precision(), o.Recall(), o.F1())
	}
	gold, pred := 0, 0
	for _, t := range r.rowTypes() {
		line(t, r.Gold[t], r.Pred[t], r.Exact[t], r.Overlap[t])
		gold += r.Gold[t]
		pred += r.Pred[t]
	}
	line("ALL (micro)", gold, pred, Total(r.Exact), Total(r.Overlap))
	fmt.Fprintf(&b, "messages %d, clean %d: %d false alarms in %d clean messages = %.1f per 100 clean messages\n",
		r.Messages, r.Clean, r.CleanAlarms, r.CleanAlarmedMsgs, r.FalseAlarmsPer100())
	return b.String()
}
