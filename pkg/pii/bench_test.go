package pii

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/pii/eval"
)

// benchSentences are shop-chat sentences written for the benchmarks, about
// half with PII, in the six languages; messages are built by joining them.
var benchSentences = []string{
	"hi, my parcel still hasn't arrived, order #40031872, can you check?",
	"My card is 4111 1111 1111 1111, exp 12/26, please charge it again.",
	"Please ship to: Siobhan Kelly, Flat 3B, 14 Glenview Terrace, Dublin 6.",
	"call me back on +44 20 7946 0958 after 5pm please",
	"Thanks for waiting! Your refund of £49.99 was issued today.",
	"Hallo, hier ist Birgit Lehmann. Meine IBAN ist DE89 3704 0044 0532 0130 00.",
	"Die Sendung mit der Nummer 00340434161234567890 ist noch nicht da.",
	"Bitte an Goethestraße 8, 04109 Leipzig liefern, danke!",
	"Bonjour, c'est Camille, mon numéro: 06 12 34 56 78, merci.",
	"Le code reçu par SMS est 482 913 mais la page a expiré.",
	"Hola, soy Lucía Fernández, mi DNI es 12345678Z.",
	"¿El pedido 612345678 sale hoy? Gracias.",
	"Hoi, ik ben Fleur, mijn e-mail is fleur.devries@example.nl.",
	"Mijn BSN is 111222333, nodig voor de factuur?",
	"Ciao, sono Matteo, codice fiscale RSSMRA85T10A562S.",
	"Spedire a Via dei Mille 24, 20129 Milano (MI).",
	"firmware 2.4.0.17 installed, router still at 192.168.1.20",
	"my password is Sommer2024! and the app says it's wrong",
	"promo code SAVE20 didn't work on the Ted Baker bag",
	"DOB: 02/11/1979, SSN 123-45-6789, for the store card application",
	"Do you have Tom Ford sunglasses in brown? Size M, quantity 2.",
	"The EAN on the box is 4006381333931 and the IMEI is 490154203237518.",
	"Kind regards,\nOwen Pritchard\nCustomer Care",
	"Can I return it within 30 days if it doesn't fit?",
}

// message builds a message of about size bytes starting at sentence i.
func message(i, size int) string {
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(benchSentences[i%len(benchSentences)])
		b.WriteByte(' ')
		i++
	}
	return b.String()[:cutAt(b.String(), size)]
}

// cutAt returns a cut point at or after size on a space, so words stay whole.
func cutAt(s string, size int) int {
	if len(s) <= size {
		return len(s)
	}
	if i := strings.IndexByte(s[size:], ' '); i >= 0 {
		return size + i
	}
	return len(s)
}

// BenchmarkDetect1KB is one 1 KB message per operation (24 different
// ones in turn); it reports MB/s and the p50/p99 latency per message.
func BenchmarkDetect1KB(b *testing.B) {
	msgs := make([]string, len(benchSentences))
	total := 0
	for i := range msgs {
		msgs[i] = message(i, 1024)
		total += len(msgs[i])
	}
	b.SetBytes(int64(total / len(msgs)))
	b.ReportAllocs()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		testEngine.Detect(msgs[i%len(msgs)], "")
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkDetectPerKB measures messages of growing size: time per KB
// should stay flat.
func BenchmarkDetectPerKB(b *testing.B) {
	for _, kb := range []int{1, 4, 16, 64} {
		msg := message(3, kb*1024)
		b.Run(fmt.Sprintf("%dKB", kb), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				testEngine.Detect(msg, "")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(msg))*1024/1e3, "µs/KB")
		})
	}
}

// BenchmarkDetect1MB is one message of a megabyte.
func BenchmarkDetect1MB(b *testing.B) {
	msg := message(0, 1<<20)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		testEngine.Detect(msg, "")
	}
}

// BenchmarkPathological runs each adversarial input at 100 KB (and the
// issue's 100,000 digits and 50,000 '@').
func BenchmarkPathological(b *testing.B) {
	names := make([]string, 0, len(pathological))
	for name := range pathological {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		msg := pathological[name](100_000)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for i := 0; i < b.N; i++ {
				testEngine.Detect(msg, "")
			}
		})
	}
	at := strings.Repeat("@", 50_000)
	b.Run("50000-at", func(b *testing.B) {
		b.SetBytes(int64(len(at)))
		for i := 0; i < b.N; i++ {
			testEngine.Detect(at, "")
		}
	})
}

// BenchmarkPseudonymize1KB: detection plus placeholder assignment.
func BenchmarkPseudonymize1KB(b *testing.B) {
	msg := message(0, 1024)
	p := NewPseudonymizer(testEngine)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Pseudonymize(b.Context(), NewMemoryScope(), msg, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLabelledDev runs the labelled set's dev split (the shop-chat
// messages of testdata/labelled), one message per operation, for the
// per-message figures comparable with the Presidio reference.
func BenchmarkLabelledDev(b *testing.B) {
	msgs, err := eval.LoadJSONL("testdata/labelled/dev.jsonl")
	if err != nil || len(msgs) == 0 {
		b.Skipf("no dev split: %v", err)
	}
	total := 0
	for _, m := range msgs {
		total += len(m.Text)
	}
	b.SetBytes(int64(total / len(msgs)))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := msgs[i%len(msgs)]
		t0 := time.Now()
		testEngine.Detect(m.Text, m.Lang)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs/msg")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs/msg")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(total/len(msgs))*1024/1e3, "µs/KB")
}
