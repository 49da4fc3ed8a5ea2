//! Time formatting from Unix milliseconds, without a date library.

/// Splits Unix milliseconds into (year, month, day, hour, minute, second, millis) in UTC.
fn civil(unix_ms: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = unix_ms.div_euclid(1000);
    let millis = unix_ms.rem_euclid(1000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        millis,
    )
}

/// `2025-08-18T06:28:58Z`
pub fn rfc3339(unix_ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = civil(unix_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2025-08-18T06:28:58.962Z`, as GetOTP's example response shows.
pub fn rfc3339_millis(unix_ms: i64) -> String {
    let (y, mo, d, h, mi, s, ms) = civil(unix_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// `2025-08-18 00:00:00`, GetOTP's error timestamp format.
pub fn sql_datetime(unix_ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = civil(unix_ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// The start (Unix ms) of the UTC day after the one of `unix_ms`.
pub fn next_utc_day(unix_ms: i64) -> i64 {
    (unix_ms.div_euclid(86_400_000) + 1) * 86_400_000
}

/// The start (Unix ms) of the UTC month after the one of `unix_ms`.
pub fn next_utc_month(unix_ms: i64) -> i64 {
    let (y, mo, ..) = civil(unix_ms);
    let (y, mo) = if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
    days_from_civil(y, mo, 1) * 86_400_000
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 date-time (`2026-11-30T12:00:00Z`, `…T12:00:00.123+05:30`; `t` and `z`
/// in any case) into Unix milliseconds; `None` for anything else or an impossible date.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i).is_some_and(|x| x.eq_ignore_ascii_case(&c));
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(month.checked_sub(1)? as usize)?;
    if day == 0 || day > max_day || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0u32;
    if at(i, b'.') {
        let start = i + 1;
        let n = b
            .iter()
            .skip(start)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 || n > 9 {
            return None;
        }
        let first3 = format!(
            "{:0<3}",
            std::str::from_utf8(b.get(start..start + n.min(3))?).ok()?
        );
        millis = first3.parse().ok()?;
        i = start + n;
    }
    let offset_mins: i64 = if at(i, b'Z') && b.len() == i + 1 {
        0
    } else if (at(i, b'+') || at(i, b'-')) && b.len() == i + 6 && at(i + 3, b':') {
        let (oh, om) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
        if oh > 23 || om > 59 {
            return None;
        }
        let sign = if at(i, b'-') { -1 } else { 1 };
        sign * i64::from(oh * 60 + om)
    } else {
        return None;
    };
    let days = days_from_civil(i64::from(year), month, day);
    let secs =
        days * 86_400 + i64::from(hour * 3600 + minute * 60 + second.min(59)) - offset_mins * 60;
    Some(secs * 1000 + i64::from(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2025-08-18T06:28:58.962Z"),
            Some(1_755_498_538_962)
        );
        assert_eq!(
            parse_rfc3339("2025-08-18t06:28:58.9621234z"),
            Some(1_755_498_538_962)
        );
        assert_eq!(
            parse_rfc3339("2025-08-18T11:58:58+05:30"),
            Some(1_755_498_538_000)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-30 12:00:00",
            "2026-11-30T12:00:00",
            "2026-11-30T24:00:00Z",
            "2026-11-30T12:00:00+5:30",
            "2026-11-30T12:00:00Zjunk",
            "2026-11-30T12:00:00.Z",
            "２０２６-11-30T12:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_millis(1_755_498_538_962),
            "2025-08-18T06:28:58.962Z"
        );
        assert_eq!(sql_datetime(1_709_164_800_000), "2024-02-29 00:00:00");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799_000), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn next_utc_day_and_month() {
        let t = parse_rfc3339("2026-12-31T23:59:59Z").unwrap();
        assert_eq!(rfc3339(next_utc_day(t)), "2027-01-01T00:00:00Z");
        assert_eq!(rfc3339(next_utc_month(t)), "2027-01-01T00:00:00Z");
        let t = parse_rfc3339("2028-02-29T00:00:00Z").unwrap();
        assert_eq!(rfc3339(next_utc_day(t)), "2028-03-01T00:00:00Z");
        assert_eq!(rfc3339(next_utc_month(t)), "2028-03-01T00:00:00Z");
        let t = parse_rfc3339("2026-06-15T08:00:00Z").unwrap();
        assert_eq!(rfc3339(next_utc_month(t)), "2026-07-01T00:00:00Z");
    }
}
