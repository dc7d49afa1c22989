//! Dates and date-times on the wire (RFC 3501 §9 `date`, `date-time`):
//! SEARCH dates such as `1-Feb-1994` (bare or quoted) and the APPEND /
//! INTERNALDATE form `"17-Jul-1996 02:44:25 -0700"`.
//!
//! Owns: parsing into [`time::Date`] / [`time::OffsetDateTime`] and
//! printing back. Month names are case-insensitive; the day of a
//! date-time may be space-padded, zero-padded or a single digit; a leap
//! second (`:60`) is read as `:59`. Printing always uses the zero-padded
//! form, which every client reads.
//!
//! Must not: know about the clock or time zones beyond the offset sent.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::lexer::{Cursor, Fail, PResult};

const MONTHS: [(&str, Month); 12] = [
    ("Jan", Month::January),
    ("Feb", Month::February),
    ("Mar", Month::March),
    ("Apr", Month::April),
    ("May", Month::May),
    ("Jun", Month::June),
    ("Jul", Month::July),
    ("Aug", Month::August),
    ("Sep", Month::September),
    ("Oct", Month::October),
    ("Nov", Month::November),
    ("Dec", Month::December),
];

const BAD_DATE: Fail = Fail::Bad("invalid date");

/// Exactly `n` digits as a number.
fn digits(c: &mut Cursor<'_>, n: usize) -> PResult<u32> {
    let field = c.rest().get(..n).ok_or(BAD_DATE)?;
    if !field.iter().all(u8::is_ascii_digit) {
        return Err(BAD_DATE);
    }
    c.advance(n);
    Ok(field
        .iter()
        .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0')))
}

/// `date-text` after the day: `-Mon-yyyy`.
fn month_year(c: &mut Cursor<'_>, day: u32) -> PResult<Date> {
    c.expect(b'-', "invalid date")?;
    let name = c.rest().get(..3).ok_or(BAD_DATE)?;
    let month = MONTHS
        .iter()
        .find(|(m, _)| m.as_bytes().eq_ignore_ascii_case(name))
        .map(|(_, month)| *month)
        .ok_or(BAD_DATE)?;
    c.advance(3);
    c.expect(b'-', "invalid date")?;
    let year = i32::try_from(digits(c, 4)?).map_err(|_| BAD_DATE)?;
    let day = u8::try_from(day).map_err(|_| BAD_DATE)?;
    Date::from_calendar_date(year, month, day).map_err(|_| BAD_DATE)
}

/// A day of one or two digits (a leading space allowed when `padded`).
fn day(c: &mut Cursor<'_>, padded: bool) -> PResult<u32> {
    if padded {
        c.eat(b' ');
    }
    let first = digits(c, 1)?;
    match c.peek() {
        Some(b) if b.is_ascii_digit() => Ok(first * 10 + digits(c, 1)?),
        _ => Ok(first),
    }
}

/// `date`: `date-text` or `"date-text"` (SEARCH BEFORE/ON/SINCE …).
pub(super) fn parse_date(c: &mut Cursor<'_>) -> PResult<Date> {
    let quoted = c.eat(b'"');
    let day = day(c, false)?;
    let date = month_year(c, day)?;
    if quoted {
        c.expect(b'"', "invalid date")?;
    }
    Ok(date)
}

/// `date-time`: `"dd-Mon-yyyy hh:mm:ss +zzzz"` (APPEND).
pub(super) fn parse_date_time(c: &mut Cursor<'_>) -> PResult<OffsetDateTime> {
    date_time(c).map_err(|e| match e {
        Fail::Bad(_) => BAD,
        other => other,
    })
}

const BAD: Fail = Fail::Bad("invalid date-time");

fn date_time(c: &mut Cursor<'_>) -> PResult<OffsetDateTime> {
    c.expect(b'"', "invalid date-time")?;
    let day = day(c, true)?;
    let date = month_year(c, day)?;
    c.sp()?;
    let hour = digits(c, 2)?;
    c.expect(b':', "invalid date-time")?;
    let minute = digits(c, 2)?;
    c.expect(b':', "invalid date-time")?;
    let second = digits(c, 2)?.min(59);
    c.sp()?;
    let negative = match c.peek() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return Err(BAD),
    };
    c.eat(if negative { b'-' } else { b'+' });
    let zone_hours = i8::try_from(digits(c, 2)?).map_err(|_| BAD)?;
    let zone_minutes = i8::try_from(digits(c, 2)?).map_err(|_| BAD)?;
    c.expect(b'"', "invalid date-time")?;
    let sign = if negative { -1 } else { 1 };
    if zone_minutes > 59 {
        return Err(BAD);
    }
    let offset = UtcOffset::from_hms(sign * zone_hours, sign * zone_minutes, 0).map_err(|_| BAD)?;
    let to_u8 = |v: u32| u8::try_from(v).map_err(|_| BAD);
    let time = Time::from_hms(to_u8(hour)?, to_u8(minute)?, to_u8(second)?).map_err(|_| BAD)?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn month_name(month: Month) -> &'static str {
    MONTHS
        .iter()
        .find(|(_, m)| *m == month)
        .map_or("Jan", |(name, _)| name)
}

/// `1-Feb-1994`.
pub fn format_date(date: Date) -> String {
    format!(
        "{}-{}-{:04}",
        date.day(),
        month_name(date.month()),
        date.year()
    )
}

/// `17-Jul-1996 02:44:25 -0700` (without the quotes).
pub fn format_date_time(dt: OffsetDateTime) -> String {
    let offset = dt.offset();
    let sign = if offset.is_negative() { '-' } else { '+' };
    format!(
        "{:02}-{}-{:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        dt.day(),
        month_name(dt.month()),
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        offset.whole_hours().unsigned_abs(),
        offset.minutes_past_hour().unsigned_abs(),
    )
}
