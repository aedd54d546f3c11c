package eval

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sp(s, e int, typ string) Span { return Span{Start: s, End: e, Type: typ} }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestIoU(t *testing.T) {
	for _, c := range []struct {
		a, b Span
		want float64
	}{
		{sp(0, 10, "X"), sp(0, 10, "X"), 1},
		{sp(0, 10, "X"), sp(0, 5, "X"), 0.5},       // 5 / 10
		{sp(0, 10, "X"), sp(6, 14, "X"), 4.0 / 14}, // partial, below 0.5
		{sp(0, 10, "X"), sp(10, 20, "X"), 0},       // touching is not overlapping
		{sp(5, 6, "X"), sp(0, 100, "X"), 0.01},
	} {
		if got := IoU(c.a, c.b); !near(got, c.want) {
			t.Errorf("IoU(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// Each case's expectations are worked out by hand in its comment.
func TestScoreEdgeCases(t *testing.T) {
	for _, c := range []struct {
		name           string
		gold, pred     []Span
		exact, overlap map[string]Counts
	}{{
		name:    "perfect",
		gold:    []Span{sp(0, 5, "EMAIL")},
		pred:    []Span{sp(0, 5, "EMAIL")},
		exact:   map[string]Counts{"EMAIL": {TP: 1}},
		overlap: map[string]Counts{"EMAIL": {TP: 1}},
	}, {
		// IoU 4/14 ≈ 0.29 < 0.5: neither scheme matches.
		name:    "partial overlap below 0.5",
		gold:    []Span{sp(0, 10, "PERSON")},
		pred:    []Span{sp(6, 14, "PERSON")},
		exact:   map[string]Counts{"PERSON": {FP: 1, FN: 1}},
		overlap: map[string]Counts{"PERSON": {FP: 1, FN: 1}},
	}, {
		// IoU 5/10 = 0.5 exactly: overlap matches (≥), exact does not.
		name:    "overlap at exactly 0.5",
		gold:    []Span{sp(0, 10, "ADDRESS")},
		pred:    []Span{sp(0, 5, "ADDRESS")},
		exact:   map[string]Counts{"ADDRESS": {FP: 1, FN: 1}},
		overlap: map[string]Counts{"ADDRESS": {TP: 1}},
	}, {
		// Both predictions have IoU 0.8 with the one gold span; only one may
		// take it, the other is a false positive.
		name:    "two predictions on one gold",
		gold:    []Span{sp(0, 10, "ADDRESS")},
		pred:    []Span{sp(0, 8, "ADDRESS"), sp(2, 10, "ADDRESS")},
		exact:   map[string]Counts{"ADDRESS": {FP: 2, FN: 1}},
		overlap: map[string]Counts{"ADDRESS": {TP: 1, FP: 1}},
	}, {
		name:    "duplicate exact prediction",
		gold:    []Span{sp(3, 9, "IP")},
		pred:    []Span{sp(3, 9, "IP"), sp(3, 9, "IP")},
		exact:   map[string]Counts{"IP": {TP: 1, FP: 1}},
		overlap: map[string]Counts{"IP": {TP: 1, FP: 1}},
	}, {
		// Right boundaries, wrong type: a miss for PHONE and a false CARD.
		name:    "wrong type",
		gold:    []Span{sp(0, 16, "PHONE")},
		pred:    []Span{sp(0, 16, "CARD")},
		exact:   map[string]Counts{"PHONE": {FN: 1}, "CARD": {FP: 1}},
		overlap: map[string]Counts{"PHONE": {FN: 1}, "CARD": {FP: 1}},
	}, {
		// A=[0,10) B=[5,15); X=[3,13) has IoU 7/13 with A and 8/12 with B;
		// Y=[0,9) has 9/10 with A and 4/15 with B. Giving X to A (first come)
		// would leave B unmatched; the maximum matching is A–Y, B–X.
		name:    "one-to-one needs reassignment",
		gold:    []Span{sp(0, 10, "SECRET"), sp(5, 15, "SECRET")},
		pred:    []Span{sp(3, 13, "SECRET"), sp(0, 9, "SECRET")},
		exact:   map[string]Counts{"SECRET": {FP: 2, FN: 2}},
		overlap: map[string]Counts{"SECRET": {TP: 2}},
	}, {
		name:    "nothing predicted",
		gold:    []Span{sp(0, 4, "PERSON"), sp(10, 20, "EMAIL")},
		exact:   map[string]Counts{"PERSON": {FN: 1}, "EMAIL": {FN: 1}},
		overlap: map[string]Counts{"PERSON": {FN: 1}, "EMAIL": {FN: 1}},
	}} {
		t.Run(c.name, func(t *testing.T) {
			r := Score([]Case{{ID: "m", Gold: c.gold, Pred: c.pred}})
			if diff := cmp.Diff(c.exact, r.Exact); diff != "" {
				t.Errorf("exact (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.overlap, r.Overlap); diff != "" {
				t.Errorf("overlap (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScoreAccumulatesAndCountsFalseAlarms(t *testing.T) {
	cases := []Case{
		{ID: "a", Gold: []Span{sp(0, 4, "PERSON"), sp(10, 26, "CARD")}, Pred: []Span{sp(0, 4, "PERSON"), sp(10, 25, "CARD")}},
		{ID: "b", Gold: []Span{sp(0, 4, "PERSON")}, Pred: []Span{sp(0, 6, "PERSON")}},
		{ID: "clean1"},
		{ID: "clean2", Pred: []Span{sp(0, 9, "PHONE"), sp(20, 30, "CARD")}},
		{ID: "clean3"},
	}
	r := Score(cases)
	// PERSON: a exact; b IoU 4/6 → overlap only. CARD: a IoU 15/16 → overlap only,
	// plus the false CARD in clean2. PHONE: one false alarm.
	wantExact := map[string]Counts{"PERSON": {TP: 1, FP: 1, FN: 1}, "CARD": {FP: 2, FN: 1}, "PHONE": {FP: 1}}
	wantOverlap := map[string]Counts{"PERSON": {TP: 2}, "CARD": {TP: 1, FP: 1}, "PHONE": {FP: 1}}
	if diff := cmp.Diff(wantExact, r.Exact); diff != "" {
		t.Errorf("exact (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOverlap, r.Overlap); diff != "" {
		t.Errorf("overlap (-want +got):\n%s", diff)
	}
	if r.Messages != 5 || r.Clean != 3 || r.CleanAlarms != 2 || r.CleanAlarmedMsgs != 1 {
		t.Errorf("messages %d clean %d alarms %d alarmed %d, want 5 3 2 1", r.Messages, r.Clean, r.CleanAlarms, r.CleanAlarmedMsgs)
	}
	if got := r.FalseAlarmsPer100(); !near(got, 200.0/3) {
		t.Errorf("false alarms per 100 = %v, want 66.67", got)
	}
	// Overall overlap: TP 3, FP 2, FN 0 → P 0.6, R 1, F1 0.75.
	tot := Total(r.Overlap)
	if tot != (Counts{TP: 3, FP: 2}) || !near(tot.Precision(), 0.6) || !near(tot.Recall(), 1) || !near(tot.F1(), 0.75) {
		t.Errorf("overall overlap %+v P %v R %v F1 %v", tot, tot.Precision(), tot.Recall(), tot.F1())
	}
	wantMistakes := []Mistake{{ID: "clean2", Kind: "false", Span: sp(0, 9, "PHONE")}, {ID: "clean2", Kind: "false", Span: sp(20, 30, "CARD")}}
	if diff := cmp.Diff(wantMistakes, r.Mistakes); diff != "" {
		t.Errorf("mistakes (-want +got):\n%s", diff)
	}
}

func TestCountsRatios(t *testing.T) {
	for _, c := range []struct {
		c       Counts
		p, r, f float64
	}{
		{Counts{TP: 3, FP: 1, FN: 2}, 0.75, 0.6, 2 * 0.75 * 0.6 / 1.35},
		{Counts{FN: 4}, 1, 0, 0}, // nothing predicted: no false positive, nothing found
		{Counts{FP: 2}, 0, 1, 0}, // nothing to find, false alarms only
		{Counts{}, 1, 1, 1},      // nothing to find and nothing found
		{Counts{TP: 5}, 1, 1, 1},
	} {
		if !near(c.c.Precision(), c.p) || !near(c.c.Recall(), c.r) || !near(c.c.F1(), c.f) {
			t.Errorf("%+v: P %v R %v F1 %v, want %v %v %v", c.c, c.c.Precision(), c.c.Recall(), c.c.F1(), c.p, c.r, c.f)
		}
	}
}

func TestReportString(t *testing.T) {
	r := Score([]Case{
		{ID: "a", Gold: []Span{sp(0, 4, "PERSON")}, Pred: []Span{sp(0, 4, "PERSON"), sp(5, 9, "CUSTOM_ID")}},
		{ID: "b", Pred: []Span{sp(0, 3, "IP")}},
	})
	s := r.String()
	for _, want := range []string{
		"PERSON            1     1 |  1.000  1.000  1.000 |  1.000  1.000  1.000",
		"CUSTOM_ID         0     1 |  0.000  1.000  0.000",
		"ALL (micro)       1     3 |  0.333  1.000  0.500",
		"clean 1: 1 false alarms in 1 clean messages = 100.0 per 100 clean messages",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	// Every contract type has a row even when absent from the data.
	for _, typ := range Types {
		if !strings.Contains(s, "\n"+typ+" ") {
			t.Errorf("no row for %s", typ)
		}
	}
}
