// Package deadline is the date arithmetic of data-subject requests: when a
// request must be acknowledged and answered, how far it may be extended, and
// whether it is due soon or overdue. The law is data (deadlines.yaml, cited
// there); this package only counts. It is pure: every function takes the
// time it should treat as now, and nothing reads the clock.
//
// Dates are calendar dates in the rule's zone (time_zone in deadlines.yaml):
// the day of receipt is the date the request arrived on that zone's clock,
// periods, weekends and business days are counted on that zone's calendar,
// and a deadline is the end of its day there: the last microsecond (the
// stores' precision, so a stored due time reads back unchanged) of the due
// date in the zone, returned in UTC. A daylight-saving switch never moves a
// date; it only changes which UTC instant ends the due date.
//
// The zone is chosen so that the due date is never later than the law's
// reading in the places the rule covers; earlier costs the controller time,
// later would cost the subject their answer.
//
//   - ccpa: America/Los_Angeles, California's one zone. Counting in UTC put
//     a request received after 16:00 (17:00 in winter) on the next day, and
//     every date one day after §1798.130's.
//   - uk_gdpr: Europe/London, the UK's one zone: exact. UTC would keep the
//     date (or give an earlier one), but end it at 00:59 BST the next day in
//     summer, an hour after the law's deadline.
//   - gdpr: Atlantic/Azores (UTC-1, summer UTC+0), the westernmost clock in
//     European EU/EEA territory. A zone counts no later than a place only if
//     it is never east of it: a request received at 23:30 in the Azores in
//     winter is 00:30 UTC the next day, so UTC, east of the Azores then, gave
//     the Azores a date one day late ("UTC only errs early in Europe" is
//     false for them). Every other European place (Iceland, Ireland,
//     Portugal, the Canaries at UTC+0 in winter; CET and EET) is at or east
//     of the Azores all year, so its date is the same or a day earlier. One
//     zone cannot also end the day at every place's midnight: the end of the
//     due date in the Azores is up to 3 hours after the local midnight
//     elsewhere (2 in CET, 3 in EET; UTC's was 1 to 3), so an answer given
//     in those hours is shown in time though the law's day has ended. The outermost regions in the Americas
//     (Guadeloupe, Martinique, Saint-Martin at UTC-4, French Guiana at UTC-3)
//     are west of the Azores and can get a date one day late; their
//     jurisdiction is "FR", which cannot tell them apart. Fixing both needs
//     either rules per subdivision code or counting in the westernmost zone
//     and ending at the easternmost zone's midnight.
//
// Periods in months (GDPR, UK GDPR) follow Regulation (EEC, Euratom) No
// 1182/71 Art. 3 as the EDPB reads it (Guidelines 01/2022, section 6.3):
// from the day of receipt to the same date of the last month, or that
// month's last day when the date does not exist (31 January → 28 or 29
// February), moved to the next Monday when it falls on a Saturday or Sunday.
// Public holidays, which the same article also skips, are set by each member
// state and are not modelled: on a holiday the date shown is the holiday,
// a day earlier than the law, never later. The extension is counted from
// receipt as one longer period (three months from 31 January is 30 April,
// not two months from 28 February), so a month-end or weekend adjustment of
// the first period is never carried into the second.
//
// Periods in days (CCPA) end that many calendar days after the day of
// receipt, without weekend roll; the acknowledgement is due a number of
// business days (Monday to Friday; holidays not modelled) after it.
//
// # Pauses
//
// Where the law lets the clock stop (a GDPR request waiting for the
// subject's clarification or proof of identity), the time paused moves the
// completion dates (the first period, the extension, and with them the
// window in which an extension may be told) later. Only whole days count:
// the total paused time (closed pauses plus a running one up to now) is
// rounded DOWN to days. Rounding up would hand the controller up to a day it
// never waited for on every pause; rounding down costs the controller at
// most a day and never delays the subject's answer beyond what the law
// allows. Whole days also keep every deadline at the end of a day, so the
// weekend roll still means what the law says; the roll is applied after the
// shift, to the day the lengthened period really ends.
//
// The acknowledgement is never moved by a pause: confirming receipt needs
// nothing from the subject (CCPA Regulations §7021(a) ask for it whatever
// the verification still needs). A rule whose law does not stop the clock
// (the CCPA: the 45 days run "regardless of time required to verify the
// request", §7021(b)) ignores pauses altogether.
//
// A pause moves every date, including one that had already passed when it
// began: State holds only the total, not when each pause happened. So a
// request must not be paused once it is Overdue; the orchestrator refuses
// that pause (otherwise pausing would erase an overdue deadline).
package deadline

import (
	"math"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// Regime is the law whose deadlines apply. The values are consentv1.Regime's
// numbers.
type Regime int

// Regimes.
const (
	GDPR Regime = 1
	CCPA Regime = 2
)

func (r Regime) String() string {
	switch r {
	case GDPR:
		return "GDPR"
	case CCPA:
		return "CCPA"
	}
	return "Regime(?)"
}

// Period is a length of time the law counts in months or in calendar days
// (one of the two, never both).
type Period struct {
	Months int
	Days   int
}

// Rule is one law's deadlines, as deadlines.yaml states them.
type Rule struct {
	Regime Regime
	// Name is the rule's name in the file ("gdpr", "uk_gdpr", "ccpa").
	Name string
	// Law cites the provisions the rule follows.
	Law string
	// Base is the period to answer in.
	Base Period
	// Extension is how much later an extended deadline is (counted with
	// Base from receipt).
	Extension Period
	// MaxExtensions is 0 (no extension) or 1.
	MaxExtensions int
	// ExtensionNoticeWithinBase: the extension must be decided and told to
	// the subject before the base period ends.
	ExtensionNoticeWithinBase bool
	// AcknowledgeBusinessDays is the number of business days after receipt
	// within which receipt must be confirmed; 0 when none is asked.
	AcknowledgeBusinessDays int
	// WeekendRoll moves a deadline on a Saturday or Sunday to the Monday.
	WeekendRoll bool
	// PausesStopClock: a pause moves the completion dates. False where the
	// law lets nothing stop the clock.
	PausesStopClock bool
	// Location is the zone whose calendar the rule counts in (the file's
	// time_zone): the day of receipt, the days and months after it, the
	// weekend and the end of the due date are that zone's. Parse always sets
	// it; a hand-built Rule without one counts in UTC.
	Location *time.Location
}

// State is what the dates depend on.
type State struct {
	Received time.Time
	// Paused is the total time of the closed pauses.
	Paused time.Duration
	// PausedSince is the start of the running pause; zero when not paused.
	PausedSince time.Time
	Extended    bool
}

// Dates are a request's deadlines, each the end of its day in the rule's
// zone, expressed in UTC.
type Dates struct {
	// AcknowledgeDue is zero when the regime asks no acknowledgement.
	AcknowledgeDue time.Time
	// OriginalDue is the deadline before extension, shifted by pauses; the
	// extension must be told by then where the law says so.
	OriginalDue time.Time
	// Due is the deadline, with the extension if any.
	Due time.Time
	// MaxExtendedDue is where an extension would put the deadline; zero once
	// extended or when the rule allows no extension.
	MaxExtendedDue time.Time
}

// day is 24 hours: a pause counts in these, whatever the calendar.
const day = 24 * time.Hour

// dueSoonWindow is how close a deadline is "due soon".
const dueSoonWindow = 7 * day

// Dates computes the deadlines of a request in state s; a running pause
// counts up to now.
func (rule Rule) Dates(s State, now time.Time) Dates {
	received := civilDate(s.Received, rule.zone())
	shift := 0
	if rule.PausesStopClock {
		shift = pausedDays(s, now)
	}
	var d Dates
	if rule.AcknowledgeBusinessDays > 0 {
		d.AcknowledgeDue = endOfDay(addBusinessDays(received, rule.AcknowledgeBusinessDays), rule.zone())
	}
	d.OriginalDue = rule.end(received, rule.Base, shift)
	d.Due = d.OriginalDue
	if rule.MaxExtensions > 0 {
		extended := rule.end(received, Period{
			Months: rule.Base.Months + rule.Extension.Months,
			Days:   rule.Base.Days + rule.Extension.Days,
		}, shift)
		if s.Extended {
			d.Due = extended
		} else {
			d.MaxExtendedDue = extended
		}
	}
	return d
}

// CanExtend returns FailedPrecondition EXTENSION_NOT_ALLOWED when the
// request cannot be extended now: the rule allows no extension, it was
// extended already, or the base period (shifted by pauses) in which the
// subject must be told has ended.
func (rule Rule) CanExtend(s State, now time.Time) error {
	if rule.MaxExtensions < 1 {
		return errs.E(errs.FailedPrecondition, reasons.ExtensionNotAllowed, "the law allows no extension of this request's deadline")
	}
	if s.Extended {
		return errs.E(errs.FailedPrecondition, reasons.ExtensionNotAllowed, "the deadline was extended already; the law allows one extension")
	}
	if rule.ExtensionNoticeWithinBase && now.After(rule.Dates(s, now).OriginalDue) {
		return errs.E(errs.FailedPrecondition, reasons.ExtensionNotAllowed, "an extension must be told to the subject before the first deadline, which has passed")
	}
	return nil
}

// DueSoon reports whether the deadline is at most 7 days away and not yet
// passed. Whether the request is still open is the caller's to check.
func DueSoon(d Dates, now time.Time) bool {
	if d.Due.IsZero() || Overdue(d, now) {
		return false
	}
	return !now.Before(d.Due.Add(-dueSoonWindow))
}

// CanPause refuses to stop the clock of a request already past its
// deadline: a pause shifts the dates by the time paused, so pausing an
// overdue request would move a deadline the controller has already missed
// and hide it from the overdue list.
func (rule Rule) CanPause(s State, now time.Time) error {
	if Overdue(rule.Dates(s, now), now) {
		return errs.E(errs.FailedPrecondition, reasons.RequestOverdue, "the request is past its deadline; its clock cannot be stopped")
	}
	return nil
}

// Overdue reports whether the deadline has passed (the due time itself is
// still in time). Whether the request is still open is the caller's to check.
func Overdue(d Dates, now time.Time) bool {
	return !d.Due.IsZero() && now.After(d.Due)
}

// end is the deadline of period p from the day of receipt (a civil date),
// shifted by the paused days, rolled past a weekend when the rule says so.
func (rule Rule) end(received time.Time, p Period, shift int) time.Time {
	due := addMonths(received, p.Months).AddDate(0, 0, p.Days+shift)
	if rule.WeekendRoll {
		switch due.Weekday() {
		case time.Saturday:
			due = due.AddDate(0, 0, 2)
		case time.Sunday:
			due = due.AddDate(0, 0, 1)
		}
	}
	return endOfDay(due, rule.zone())
}

func (rule Rule) zone() *time.Location {
	if rule.Location == nil {
		return time.UTC
	}
	return rule.Location
}

// addMonths is the same date n months later, or the last day of that month
// when it has no such date (Regulation 1182/71 Art. 3(2)(c)). t is a civil
// date.
func addMonths(t time.Time, n int) time.Time {
	if n == 0 {
		return t
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// addBusinessDays is the n-th Monday-to-Friday day after t (t itself not
// counted).
func addBusinessDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// pausedDays is the total paused time, a running pause counted up to now,
// in whole days rounded down (see the package comment for why down).
func pausedDays(s State, now time.Time) int {
	total := max(s.Paused, 0)
	if !s.PausedSince.IsZero() && now.After(s.PausedSince) {
		running := now.Sub(s.PausedSince)
		if total > math.MaxInt64-running {
			return int(time.Duration(math.MaxInt64) / day)
		}
		total += running
	}
	return int(total / day)
}

// civilDate is the date of t in loc, as a midnight UTC. The arithmetic runs
// on these civil dates, where every day has 24 hours, so a daylight-saving
// switch between receipt and deadline cannot move a date; only endOfDay goes
// back to the zone's clock.
func civilDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// endOfDay is the last microsecond of civil date t in loc, in UTC: the
// microsecond before the next day begins there, whatever that day's offset.
func endOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc).Add(-time.Microsecond).UTC()
}
