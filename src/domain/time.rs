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

#[cfg(test)]
mod tests {
    use super::*;

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
}
