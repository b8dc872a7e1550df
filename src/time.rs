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

/// Year, month, day → days since 1970-01-01, Howard Hinnant's `days_from_civil`.
fn days(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The time a [`stamp`] names (a `-2`-style suffix after it is ignored); `None` when the
/// text does not start with one.
pub fn from_stamp(text: &str) -> Option<i64> {
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if text.get(8..9)? != "-" || text.len() > 15 && !text[15..].starts_with('-') {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (h, min, s) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    Some(days(y, m as u32, d as u32) * 86_400 + h * 3600 + min * 60 + s)
}

/// A span such as `30d`, `2w`, `12h`, `2.weeks.ago` or `90 minutes`, in seconds.
pub fn parse_span(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_suffix(".ago").unwrap_or(text);
    let text = text.strip_suffix(" ago").unwrap_or(text);
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = text[..split].parse().ok()?;
    let unit = text[split..].trim_start_matches(['.', ' ']);
    let secs = match unit.trim_end_matches('s') {
        "" | "sec" | "second" => return None,
        "m" | "min" | "minute" => 60,
        "h" | "hour" => 3600,
        "d" | "day" => 86_400,
        "w" | "week" => 7 * 86_400,
        "mo" | "month" => 30 * 86_400,
        "y" | "year" => 365 * 86_400,
        _ => return None,
    };
    n.checked_mul(secs)
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

    #[test]
    fn reads_back_its_stamps() {
        for secs in [0, 951_782_400, 1_795_297_323, 4_102_444_799] {
            assert_eq!(from_stamp(&stamp(secs)), Some(secs), "{}", stamp(secs));
        }
        assert_eq!(from_stamp("20261121-214203-2"), Some(1_795_297_323));
        for bad in [
            "",
            "2026112-214203",
            "20261321-214203",
            "20261121x214203",
            "20261121-2142031",
        ] {
            assert_eq!(from_stamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_spans_as_git_users_write_them() {
        assert_eq!(parse_span("30d"), Some(30 * 86_400));
        assert_eq!(parse_span("2.weeks.ago"), Some(14 * 86_400));
        assert_eq!(parse_span("12 hours"), Some(12 * 3600));
        assert_eq!(parse_span("90min"), Some(5400));
        assert_eq!(parse_span("1y"), Some(365 * 86_400));
        for bad in ["", "d", "5", "5 fortnights", "-3d", "5s"] {
            assert_eq!(parse_span(bad), None, "{bad}");
        }
    }
}
