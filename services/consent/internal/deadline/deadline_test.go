package deadline_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/deadline"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// rule is the embedded file's rule for a jurisdiction.
func rule(t *testing.T, jurisdiction string) deadline.Rule {
	t.Helper()
	rules, err := deadline.Load()
	if err != nil {
		t.Fatal(err)
	}
	r, err := rules.For(jurisdiction)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// at is a time of day, UTC.
func at(date string, clock string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", date+" "+clock)
	if err != nil {
		panic(err)
	}
	return t
}

// eod is the end of a date: the last microsecond, UTC.
func eod(date string) time.Time {
	return at(date, "23:59").Add(time.Minute - time.Microsecond)
}

// The rules' zones, loaded here independently of the package so a rule that
// lost its zone cannot pass by agreeing with itself.
var (
	losAngeles = mustZone("America/Los_Angeles")
	london     = mustZone("Europe/London")
	azores     = mustZone("Atlantic/Azores")
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// localAt is a time of day on a zone's clock.
func localAt(loc *time.Location, date, clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, loc)
	if err != nil {
		panic(err)
	}
	return t
}

// eodIn is the end of a date in a zone (the microsecond before the next
// day starts there), in UTC as the package returns it.
func eodIn(loc *time.Location, date string) time.Time {
	d, err := time.ParseInLocation("2006-01-02", date, loc)
	if err != nil {
		panic(err)
	}
	return d.AddDate(0, 0, 1).Add(-time.Microsecond).UTC()
}

// ca, gb and eu end a date in the ccpa, uk_gdpr and gdpr rules' zones.
func ca(date string) time.Time { return eodIn(losAngeles, date) }
func gb(date string) time.Time { return eodIn(london, date) }
func eu(date string) time.Time { return eodIn(azores, date) }

// TestDates: known answers of the date arithmetic. The weekday of every
// date that matters is in its comment; the law's reasoning in the package
// documentation. Since the rules count in their own zones, every due time
// here is the end of its date in the rule's zone (ca, gb, eu) rather than
// in UTC: the same dates, but later instants for the CCPA (08:00 UTC the
// next day, 07:00 in summer) and for the GDPR in winter (the Azores end
// their day at 01:00 UTC), earlier for the UK in summer (23:00 UTC). The
// receipts at times of day where the zone changes the date itself are
// the cases of TestDatesInZone.
func TestDates(t *testing.T) {
	t.Parallel()
	const pause = 3*24*time.Hour + 4*time.Hour
	tests := []struct {
		name         string
		jurisdiction string
		state        deadline.State
		now          time.Time // zero: the time of receipt
		want         deadline.Dates
	}{
		{
			name: "received Jan 31 of a common year: Feb 28", jurisdiction: "DE",
			state: deadline.State{Received: at("2025-01-31", "10:00")},
			// Fri 28 Feb 2025; three months: Wed 30 Apr 2025.
			want: deadline.Dates{OriginalDue: eu("2025-02-28"), Due: eu("2025-02-28"), MaxExtendedDue: eu("2025-04-30")},
		},
		{
			name: "received Jan 31 of a leap year: Feb 29", jurisdiction: "FR",
			state: deadline.State{Received: at("2028-01-31", "10:00")},
			// Tue 29 Feb 2028; three months: Mon 1 May 2028 (30 Apr is a Sunday).
			want: deadline.Dates{OriginalDue: eu("2028-02-29"), Due: eu("2028-02-29"), MaxExtendedDue: eu("2028-05-01")},
		},
		{
			name: "received Jan 30 2026: no Feb 30, Feb 28 is a Saturday", jurisdiction: "IE",
			state: deadline.State{Received: at("2026-01-30", "09:00")},
			// Sat 28 Feb 2026 → Mon 2 Mar; three months: Thu 30 Apr 2026.
			want: deadline.Dates{OriginalDue: eu("2026-03-02"), Due: eu("2026-03-02"), MaxExtendedDue: eu("2026-04-30")},
		},
		{
			name: "received Feb 29 2028, extended", jurisdiction: "NL",
			state: deadline.State{Received: at("2028-02-29", "23:30"), Extended: true},
			// Wed 29 Mar 2028; three months: Mon 29 May 2028.
			want: deadline.Dates{OriginalDue: eu("2028-03-29"), Due: eu("2028-05-29")},
		},
		{
			name: "due on a Saturday rolls to Monday", jurisdiction: "AT",
			state: deadline.State{Received: at("2026-02-07", "12:00")},
			// Sat 7 Mar 2026 → Mon 9 Mar; three months: Thu 7 May 2026.
			want: deadline.Dates{OriginalDue: eu("2026-03-09"), Due: eu("2026-03-09"), MaxExtendedDue: eu("2026-05-07")},
		},
		{
			name: "due on a Sunday rolls to Monday", jurisdiction: "AT",
			state: deadline.State{Received: at("2026-02-08", "12:00")},
			// Sun 8 Mar 2026 → Mon 9 Mar; three months: Fri 8 May 2026.
			want: deadline.Dates{OriginalDue: eu("2026-03-09"), Due: eu("2026-03-09"), MaxExtendedDue: eu("2026-05-08")},
		},
		{
			name: "month end: Mar 31 → Apr 30, extension from the 31st to Jun 30", jurisdiction: "ES",
			state: deadline.State{Received: at("2026-03-31", "08:00")},
			// Thu 30 Apr 2026; three months: Tue 30 Jun 2026.
			want: deadline.Dates{OriginalDue: eu("2026-04-30"), Due: eu("2026-04-30"), MaxExtendedDue: eu("2026-06-30")},
		},
		{
			name: "extension from Jan 31 counts three months from receipt, not two from Feb 28", jurisdiction: "GB",
			state: deadline.State{Received: at("2025-01-31", "08:00"), Extended: true},
			// Fri 28 Feb 2025; 30 Apr 2025 (Wed), not 28 Apr.
			want: deadline.Dates{OriginalDue: gb("2025-02-28"), Due: gb("2025-04-30")},
		},
		{
			name: "year end: Dec 15 → Jan 15", jurisdiction: "GB",
			state: deadline.State{Received: at("2026-12-15", "16:00")},
			// Fri 15 Jan 2027; three months: Mon 15 Mar 2027.
			want: deadline.Dates{OriginalDue: gb("2027-01-15"), Due: gb("2027-01-15"), MaxExtendedDue: gb("2027-03-15")},
		},
		{
			// Was "the UTC date counts": the answer is unchanged, since the
			// Azores are west of UTC too (22:30 there on 28 Feb).
			name: "the rule's zone counts, not the sender's", jurisdiction: "DE",
			// 00:30 in Berlin on 1 Mar is 23:30 UTC and 22:30 in the Azores on 28 Feb.
			state: deadline.State{Received: time.Date(2025, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600))},
			// Fri 28 Mar 2025; three months: Wed 28 May 2025.
			want: deadline.Dates{OriginalDue: eu("2025-03-28"), Due: eu("2025-03-28"), MaxExtendedDue: eu("2025-05-28")},
		},
		{
			name: "CCPA: 45 days, no weekend roll, 10 business days to acknowledge", jurisdiction: "US-CA",
			state: deadline.State{Received: at("2026-01-01", "18:00")},
			// Thu 1 Jan 2026: acknowledge by Thu 15 Jan (2 Jan, 5-9, 12-15);
			// 45 days: Sun 15 Feb (calendar days: not rolled); 90: Wed 1 Apr.
			want: deadline.Dates{AcknowledgeDue: ca("2026-01-15"), OriginalDue: ca("2026-02-15"), Due: ca("2026-02-15"),
				MaxExtendedDue: ca("2026-04-01")},
		},
		{
			name: "CCPA extended: 90 days", jurisdiction: "US-CA",
			state: deadline.State{Received: at("2026-01-01", "18:00"), Extended: true},
			want:  deadline.Dates{AcknowledgeDue: ca("2026-01-15"), OriginalDue: ca("2026-02-15"), Due: ca("2026-04-01")},
		},
		{
			name: "CCPA acknowledgement received on a Friday: two weekends later", jurisdiction: "US-CA",
			state: deadline.State{Received: at("2026-01-02", "17:00")},
			// Fri 2 Jan: 5-9 Jan (5), 12-16 Jan (10): Fri 16 Jan.
			want: deadline.Dates{AcknowledgeDue: ca("2026-01-16"), OriginalDue: ca("2026-02-16"), Due: ca("2026-02-16"),
				MaxExtendedDue: ca("2026-04-02")},
		},
		{
			name: "CCPA acknowledgement received on a Saturday: the weekend does not count", jurisdiction: "US-CA",
			state: deadline.State{Received: at("2026-01-03", "11:00")},
			want: deadline.Dates{AcknowledgeDue: ca("2026-01-16"), OriginalDue: ca("2026-02-17"), Due: ca("2026-02-17"),
				MaxExtendedDue: ca("2026-04-03")},
		},
		{
			name: "CCPA acknowledgement received midweek: across two weekends", jurisdiction: "US-CA",
			state: deadline.State{Received: at("2026-01-07", "11:00")},
			// Wed 7 Jan: 8-9 (2), 12-16 (7), 19-21 (10): Wed 21 Jan.
			want: deadline.Dates{AcknowledgeDue: ca("2026-01-21"), OriginalDue: ca("2026-02-21"), Due: ca("2026-02-21"),
				MaxExtendedDue: ca("2026-04-07")},
		},
		{
			name: "GDPR pause of 3 days 4 hours moves the dates 3 days, then the weekend roll", jurisdiction: "DE",
			state: deadline.State{Received: at("2026-03-02", "10:00"), Paused: pause},
			// Thu 2 Apr + 3 = Sun 5 Apr → Mon 6 Apr; Tue 2 Jun + 3 = Fri 5 Jun.
			want: deadline.Dates{OriginalDue: eu("2026-04-06"), Due: eu("2026-04-06"), MaxExtendedDue: eu("2026-06-05")},
		},
		{
			name: "GDPR pause of 3 days 4 hours, extended", jurisdiction: "DE",
			state: deadline.State{Received: at("2026-03-02", "10:00"), Paused: pause, Extended: true},
			want:  deadline.Dates{OriginalDue: eu("2026-04-06"), Due: eu("2026-06-05")},
		},
		{
			name: "GDPR pause of 23 hours moves nothing", jurisdiction: "DE",
			state: deadline.State{Received: at("2026-03-02", "10:00"), Paused: 23 * time.Hour},
			want:  deadline.Dates{OriginalDue: eu("2026-04-02"), Due: eu("2026-04-02"), MaxExtendedDue: eu("2026-06-02")},
		},
		{
			name: "GDPR running pause counts up to now, in whole days", jurisdiction: "DE",
			state: deadline.State{Received: at("2026-03-02", "10:00"), PausedSince: at("2026-03-10", "12:00")},
			now:   at("2026-03-13", "11:59"), // 2 days 23 hours 59 minutes
			want:  deadline.Dates{OriginalDue: eu("2026-04-06"), Due: eu("2026-04-06"), MaxExtendedDue: eu("2026-06-04")},
		},
		{
			name: "GDPR running pause after closed ones: the totals add before rounding", jurisdiction: "DE",
			state: deadline.State{Received: at("2026-03-02", "10:00"), Paused: 36 * time.Hour, PausedSince: at("2026-03-10", "12:00")},
			now:   at("2026-03-11", "00:00"), // 36 h + 12 h = 2 days
			want:  deadline.Dates{OriginalDue: eu("2026-04-06"), Due: eu("2026-04-06"), MaxExtendedDue: eu("2026-06-04")},
		},
		{
			name: "CCPA pauses move nothing (§7021(b))", jurisdiction: "US-CA",
			state: deadline.State{Received: at("2026-01-01", "18:00"), Paused: pause, PausedSince: at("2026-01-20", "00:00")},
			now:   at("2026-01-30", "00:00"),
			want: deadline.Dates{AcknowledgeDue: ca("2026-01-15"), OriginalDue: ca("2026-02-15"), Due: ca("2026-02-15"),
				MaxExtendedDue: ca("2026-04-01")},
		},
		{
			name: "a negative pause counts as none", jurisdiction: "DE",
			state: deadline.State{Received: at("2026-03-02", "10:00"), Paused: -5 * 24 * time.Hour},
			want:  deadline.Dates{OriginalDue: eu("2026-04-02"), Due: eu("2026-04-02"), MaxExtendedDue: eu("2026-06-02")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := tc.now
			if now.IsZero() {
				now = tc.state.Received
			}
			got := rule(t, tc.jurisdiction).Dates(tc.state, now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Dates (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPauseAcknowledgement: a pause never moves the acknowledgement, which
// needs nothing from the subject.
func TestPauseAcknowledgement(t *testing.T) {
	t.Parallel()
	r := rule(t, "US-CA")
	r.PausesStopClock = true // even under a law that would stop the clock
	got := r.Dates(deadline.State{Received: at("2026-01-01", "18:00"), Paused: 10 * 24 * time.Hour}, at("2026-01-20", "00:00"))
	if want := ca("2026-01-15"); !got.AcknowledgeDue.Equal(want) {
		t.Errorf("AcknowledgeDue = %v, want %v", got.AcknowledgeDue, want)
	}
	if want := ca("2026-02-25"); !got.Due.Equal(want) {
		t.Errorf("Due = %v, want %v (moved by the pause)", got.Due, want)
	}
}

// TestCanExtend: one extension, told within the first period (shifted by
// pauses, and including the day the weekend roll adds).
func TestCanExtend(t *testing.T) {
	t.Parallel()
	gdprReceived := at("2026-01-05", "10:00") // first month ends Thu 5 Feb 2026
	ccpaReceived := at("2026-01-01", "18:00") // 45 days end Sun 15 Feb 2026
	tests := []struct {
		name         string
		jurisdiction string
		state        deadline.State
		now          time.Time
		allowed      bool
	}{
		{"GDPR within the first month", "DE", deadline.State{Received: gdprReceived}, at("2026-01-20", "00:00"), true},
		{"GDPR on the last microsecond of the first month", "DE", deadline.State{Received: gdprReceived}, eu("2026-02-05"), true},
		{"GDPR past the first month", "DE", deadline.State{Received: gdprReceived}, eu("2026-02-05").Add(time.Microsecond), false},
		{"GDPR already extended", "DE", deadline.State{Received: gdprReceived, Extended: true}, at("2026-01-06", "00:00"), false},
		{"GDPR past the first month, but a 2-day pause moved it", "DE",
			deadline.State{Received: gdprReceived, Paused: 2 * 24 * time.Hour}, at("2026-02-07", "12:00"), true},
		{"GDPR first month ending on a Saturday runs to Monday", "AT",
			deadline.State{Received: at("2026-02-07", "12:00")}, at("2026-03-09", "20:00"), true},
		{"UK GDPR past the first month", "GB", deadline.State{Received: gdprReceived}, at("2026-02-06", "00:00"), false},
		{"CCPA within 45 days", "US-CA", deadline.State{Received: ccpaReceived}, ca("2026-02-15"), true},
		// Was 00:00 UTC on 16 Feb, which is still 15 Feb in Los Angeles
		// (16:00 PST): within the 45 days now.
		{"CCPA past 45 days", "US-CA", deadline.State{Received: ccpaReceived}, ca("2026-02-15").Add(time.Microsecond), false},
		{"CCPA already extended", "US-CA", deadline.State{Received: ccpaReceived, Extended: true}, at("2026-01-02", "00:00"), false},
		{"CCPA past 45 days, a pause changes nothing", "US-CA",
			deadline.State{Received: ccpaReceived, Paused: 5 * 24 * time.Hour}, ca("2026-02-15").Add(time.Microsecond), false}, // as above
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := rule(t, tc.jurisdiction).CanExtend(tc.state, tc.now)
			if tc.allowed {
				if err != nil {
					t.Fatalf("CanExtend: %v, want nil", err)
				}
				return
			}
			if errs.KindOf(err) != errs.FailedPrecondition || errs.ReasonOf(err) != reasons.ExtensionNotAllowed {
				t.Fatalf("CanExtend: %v, want FailedPrecondition %s", err, reasons.ExtensionNotAllowed)
			}
		})
	}
}

// TestCanExtendNoExtension: a rule without extensions refuses one.
func TestCanExtendNoExtension(t *testing.T) {
	t.Parallel()
	r := rule(t, "DE")
	r.MaxExtensions = 0
	received := at("2026-01-05", "10:00")
	if err := r.CanExtend(deadline.State{Received: received}, received); errs.ReasonOf(err) != reasons.ExtensionNotAllowed {
		t.Fatalf("CanExtend: %v, want %s", err, reasons.ExtensionNotAllowed)
	}
	if d := r.Dates(deadline.State{Received: received}, received); !d.MaxExtendedDue.IsZero() {
		t.Fatalf("MaxExtendedDue = %v, want zero", d.MaxExtendedDue)
	}
}

// TestDueSoonOverdue: the edges. The due time itself is in time; due soon
// is the 7 days up to it, both ends included.
func TestDueSoonOverdue(t *testing.T) {
	t.Parallel()
	d := deadline.Dates{Due: eod("2026-04-30"), OriginalDue: eod("2026-04-30")}
	week := 7 * 24 * time.Hour
	tests := []struct {
		name             string
		dates            deadline.Dates
		now              time.Time
		dueSoon, overdue bool
	}{
		{"more than 7 days before", d, d.Due.Add(-week - time.Microsecond), false, false},
		{"exactly 7 days before", d, d.Due.Add(-week), true, false},
		{"an hour before", d, d.Due.Add(-time.Hour), true, false},
		{"at the due time", d, d.Due, true, false},
		{"a microsecond after", d, d.Due.Add(time.Microsecond), false, true},
		{"a month after", d, d.Due.AddDate(0, 1, 0), false, true},
		{"no dates", deadline.Dates{}, eod("2026-04-30"), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := deadline.DueSoon(tc.dates, tc.now); got != tc.dueSoon {
				t.Errorf("DueSoon = %v, want %v", got, tc.dueSoon)
			}
			if got := deadline.Overdue(tc.dates, tc.now); got != tc.overdue {
				t.Errorf("Overdue = %v, want %v", got, tc.overdue)
			}
		})
	}
}

// FuzzDates: whatever the state, no panic, and the dates keep their shape:
// ends of days in the rule's zone, in order, never before receipt, never on
// a weekend (the zone's) where the rule rolls, moved by pauses only forward.
func FuzzDates(f *testing.F) {
	f.Add(uint8(0), int64(1769904000), int64(0), int64(0), int64(0), false)
	f.Add(uint8(31), int64(1767290400), int64(3*86400+4*3600), int64(86400), int64(86400*2), true)
	f.Add(uint8(12), int64(1832630400), int64(-1), int64(5), int64(1<<62), false)
	rules, err := deadline.Load()
	if err != nil {
		f.Fatal(err)
	}
	jurisdictions := rules.Jurisdictions()
	f.Fuzz(func(t *testing.T, which uint8, received, pausedSeconds, sinceOffset, nowOffset int64, extended bool) {
		r, err := rules.For(jurisdictions[int(which)%len(jurisdictions)])
		if err != nil {
			t.Fatal(err)
		}
		// Keep to years a request can have: 1970 to about 2100.
		recv := time.Unix(received%(130*365*86400), 0).UTC()
		if recv.Before(time.Unix(0, 0)) {
			recv = time.Unix(0, 0).UTC()
		}
		s := deadline.State{Received: recv, Paused: time.Duration(pausedSeconds%(400*86400)) * time.Second, Extended: extended}
		if sinceOffset > 0 {
			s.PausedSince = recv.Add(time.Duration(sinceOffset%(400*86400)) * time.Second)
		}
		now := recv.Add(time.Duration(nowOffset%(800*86400)) * time.Second)
		d := r.Dates(s, now)
		base := r.Dates(deadline.State{Received: recv, Extended: extended}, now)
		for name, v := range map[string]time.Time{"AcknowledgeDue": d.AcknowledgeDue, "OriginalDue": d.OriginalDue, "Due": d.Due, "MaxExtendedDue": d.MaxExtendedDue} {
			if v.IsZero() {
				continue
			}
			if next := v.Add(time.Microsecond).In(r.Location); next.Hour() != 0 || next.Minute() != 0 || next.Second() != 0 || next.Nanosecond() != 0 || v.Location() != time.UTC {
				t.Errorf("%s = %v is not the end of a day in %v, in UTC", name, v, r.Location)
			}
			if !v.After(recv) {
				t.Errorf("%s = %v is not after receipt %v", name, v, recv)
			}
			if wd := v.In(r.Location).Weekday(); r.WeekendRoll && name != "AcknowledgeDue" && (wd == time.Saturday || wd == time.Sunday) {
				t.Errorf("%s = %v falls on a %v", name, v, wd)
			}
		}
		if d.Due.Before(d.OriginalDue) || d.Due.Before(base.Due) {
			t.Errorf("Due %v before OriginalDue %v or the unpaused due %v", d.Due, d.OriginalDue, base.Due)
		}
		if extended != d.MaxExtendedDue.IsZero() {
			t.Errorf("extended %v but MaxExtendedDue %v", extended, d.MaxExtendedDue)
		}
		if !d.MaxExtendedDue.IsZero() && !d.MaxExtendedDue.After(d.Due) {
			t.Errorf("MaxExtendedDue %v not after Due %v", d.MaxExtendedDue, d.Due)
		}
	})
}

// TestCanPause: a request past its deadline cannot be paused (the pause
// would move the missed deadline and clear it from the overdue list); up to
// the last microsecond of the due date it can.
func TestCanPause(t *testing.T) {
	t.Parallel()
	r := rule(t, "DE")
	s := deadline.State{Received: at("2026-01-05", "10:00")} // due Thu 5 Feb 2026
	if err := r.CanPause(s, eu("2026-02-05")); err != nil {
		t.Fatalf("on the due date: %v", err)
	}
	if err := r.CanPause(s, eu("2026-02-05").Add(time.Microsecond)); errs.ReasonOf(err) != reasons.RequestOverdue || !errs.Is(err, errs.FailedPrecondition) {
		t.Fatalf("past the due date: %v, want %s", err, reasons.RequestOverdue)
	}
	// An extended request is overdue only past its extended date.
	s.Extended = true
	if err := r.CanPause(s, at("2026-03-01", "00:00")); err != nil {
		t.Fatalf("extended, before the extended date: %v", err)
	}
}

// TestDatesInZone: receipts at times of day where the rule's zone and UTC
// disagree on the date, and receipts across a daylight-saving switch. These
// fail when the rule's zone is ignored (counting in UTC again): the control
// against dating a Californian evening request a day late.
func TestDatesInZone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		jurisdiction string
		received     time.Time
		want         deadline.Dates
	}{
		{
			name: "CCPA received 17:30 in Los Angeles, already the next day in UTC", jurisdiction: "US-CA",
			// Mon 2 Mar 2026 17:30 PST = Tue 3 Mar 01:30 UTC. 45 days from
			// 2 Mar: Thu 16 Apr (UTC counting gave 17 Apr); 90: Sun 31 May.
			// Acknowledge: 3-6, 9-13, 16 Mar (UTC counting gave Tue 17).
			received: localAt(losAngeles, "2026-03-02", "17:30"),
			want: deadline.Dates{AcknowledgeDue: ca("2026-03-16"), OriginalDue: ca("2026-04-16"), Due: ca("2026-04-16"),
				MaxExtendedDue: ca("2026-05-31")},
		},
		{
			name: "CCPA acknowledgement in Los Angeles business days: a Sunday evening is not a Monday", jurisdiction: "US-CA",
			// Sun 1 Mar 2026 17:30 PST = Mon 2 Mar 01:30 UTC. Ten business
			// days from Sunday: 2-6, 9-13 Mar, Fri 13 Mar; counted from the
			// UTC Monday they ran to Mon 16 Mar. 45 days: Wed 15 Apr.
			received: localAt(losAngeles, "2026-03-01", "17:30"),
			want: deadline.Dates{AcknowledgeDue: ca("2026-03-13"), OriginalDue: ca("2026-04-15"), Due: ca("2026-04-15"),
				MaxExtendedDue: ca("2026-05-30")},
		},
		{
			name: "CCPA received the night before the spring switch", jurisdiction: "US-CA",
			// Sat 7 Mar 2026 23:30 PST = Sun 8 Mar 07:30 UTC; clocks go
			// forward at 02:00 on 8 Mar. 45 days: Tue 21 Apr, ending at
			// 23:59:59.999999 PDT (UTC-7); 90: Fri 5 Jun. Acknowledge: 9-13,
			// 16-20 Mar.
			received: localAt(losAngeles, "2026-03-07", "23:30"),
			want: deadline.Dates{AcknowledgeDue: ca("2026-03-20"), OriginalDue: ca("2026-04-21"), Due: ca("2026-04-21"),
				MaxExtendedDue: ca("2026-06-05")},
		},
		{
			name: "CCPA received in daylight time, due in standard time", jurisdiction: "US-CA",
			// Sat 31 Oct 2026 23:30 PDT = Sun 1 Nov 06:30 UTC; clocks go back
			// on 1 Nov. 45 days: Tue 15 Dec, ending in PST (UTC-8), not at the
			// receipt's offset; 90: Fri 29 Jan 2027. Acknowledge: 2-6, 9-13
			// Nov (Veterans Day not modelled: earlier, never later).
			received: localAt(losAngeles, "2026-10-31", "23:30"),
			want: deadline.Dates{AcknowledgeDue: ca("2026-11-13"), OriginalDue: ca("2026-12-15"), Due: ca("2026-12-15"),
				MaxExtendedDue: ca("2027-01-29")},
		},
		{
			name: "UK GDPR received 23:30 BST: the same day, ending at midnight BST", jurisdiction: "GB",
			// Tue 14 Jul 2026 23:30 BST = 22:30 UTC. Fri 14 Aug, ending at
			// 23:00 UTC (UTC counting ended it an hour late); 3 months: Wed 14 Oct.
			received: localAt(london, "2026-07-14", "23:30"),
			want:     deadline.Dates{OriginalDue: gb("2026-08-14"), Due: gb("2026-08-14"), MaxExtendedDue: gb("2026-10-14")},
		},
		{
			name: "GDPR received 23:30 in the Azores in winter, already the next day in UTC", jurisdiction: "PT",
			// Tue 20 Jan 2026 23:30 UTC-1 = Wed 21 Jan 00:30 UTC. Fri 20 Feb
			// (UTC counting gave Sat 21 → Mon 23 Feb); 3 months: Mon 20 Apr.
			received: localAt(azores, "2026-01-20", "23:30"),
			want:     deadline.Dates{OriginalDue: eu("2026-02-20"), Due: eu("2026-02-20"), MaxExtendedDue: eu("2026-04-20")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := rule(t, tc.jurisdiction).Dates(deadline.State{Received: tc.received}, tc.received)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Dates (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDueInstants: the due times as UTC instants written out, so the
// helpers that build the expected values cannot agree with a wrong zone.
func TestDueInstants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		jurisdiction string
		received     time.Time
		want         time.Time
	}{
		// The brief's case: 16 Apr 2026 ends at 07:00 UTC on 17 Apr (PDT), not 17 Apr's end.
		{"US-CA", localAt(losAngeles, "2026-03-02", "17:30"), time.Date(2026, 4, 17, 6, 59, 59, 999999000, time.UTC)},
		{"US-CA", localAt(losAngeles, "2026-03-07", "23:30"), time.Date(2026, 4, 22, 6, 59, 59, 999999000, time.UTC)},
		{"US-CA", localAt(losAngeles, "2026-10-31", "23:30"), time.Date(2026, 12, 16, 7, 59, 59, 999999000, time.UTC)},
		{"GB", localAt(london, "2026-07-14", "23:30"), time.Date(2026, 8, 14, 22, 59, 59, 999999000, time.UTC)},
		{"PT", localAt(azores, "2026-01-20", "23:30"), time.Date(2026, 2, 21, 0, 59, 59, 999999000, time.UTC)},
	} {
		got := rule(t, tc.jurisdiction).Dates(deadline.State{Received: tc.received}, tc.received).Due
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%s received %v: Due = %v, want %v", tc.jurisdiction, tc.received, got, tc.want)
		}
	}
}
