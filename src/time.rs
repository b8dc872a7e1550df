//! Dates as git prints them, without a date library: UTC only.

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's `civil_from_days`.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn parts(secs: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `2026-11-21T21:42:03Z`
pub fn iso8601(secs: i64) -> String {
    let (y, m, d, h, min, s) = parts(secs);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z")
}

/// `20261121-214203`, for names that sort by time.
pub fn stamp(secs: i64) -> String {
    let (y, m, d, h, min, s) = parts(secs);
    format!("{y:04}{m:02}{d:02}-{h:02}{min:02}{s:02}")
}

/// `3 days`, `5 hours`, as git's relative dates round them.
pub fn age(secs: i64, now: i64) -> String {
    let diff = (now - secs).max(0);
    let (n, unit) = match diff {
        0..=89 => (diff, "second"),
        90..=5_399 => ((diff + 30) / 60, "minute"),
        5_400..=129_599 => ((diff + 1800) / 3600, "hour"),
        129_600..=3_023_999 => ((diff + 43_200) / 86_400, "day"),
        3_024_000..=31_535_999 => ((diff + 1_296_000) / 2_592_000, "month"),
        _ => ((diff + 15_768_000) / 31_536_000, "year"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_297_323), "2026-11-21T21:42:03Z");
        assert_eq!(stamp(1_795_297_323), "20261121-214203");
        assert_eq!(age(0, 7200), "2 hours");
    }
}
