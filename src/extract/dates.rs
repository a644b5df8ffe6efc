//! Dates as pages write them, normalised to RFC 3339.
//!
//! Handles ISO 8601 and its many loose variants (`2023-10-06 12:00`, `2023/10/6`),
//! Chinese (`2023年10月06日 12时00分`), RFC 2822 and English (`Oct. 6, 2023 3:05 PM EDT`).
//! A zone the page states is kept; without one the result is the RFC 3339 `full-date`,
//! because RFC 3339 has no zone-less date-time and guessing the zone would be a lie.

use std::sync::LazyLock;

use regex::Regex;

static NUMERIC: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<y>\d{4}) \s* [-/.年] \s* (?P<m>\d{1,2}) \s* [-/.月] \s* (?P<d>\d{1,2}) \s* 日?
        (?: (?:T|\s*[,，]?\s*) (?P<h>\d{1,2}) \s* [:：时] \s* (?P<mi>\d{2})
            (?: \s* [:：分] \s* (?P<s>\d{2}) (?:\.\d+)? \s* 秒? )? )?
        \s* (?P<ampm>[AaPp]\.?[Mm]\.?)?
        \s* (?P<z>Z(?-u:\b)|UTC|GMT|[+-]\d{2}:?\d{2}(?-u:\b)|[+-]\d{2}(?-u:\b))?",
    )
    .ok()
});

static ENGLISH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)
        (?: (?P<d1>\d{1,2}) (?:st|nd|rd|th)? \s+ (?P<mon1>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,? \s+ (?P<y1>\d{4})
          | (?P<mon2>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \s+ (?P<d2>\d{1,2}) (?:st|nd|rd|th)? ,? \s+ (?P<y2>\d{4}) )
        (?: \s* [,\-–|]? \s* (?:at\s+)? (?P<h>\d{1,2}) [:.] (?P<mi>\d{2}) (?: : (?P<s>\d{2}) )?
            \s* (?P<ampm>[ap]\.?m\.?)? )?
        \s* (?P<z>Z(?-u:\b)|UTC|GMT|[+-]\d{2}:?\d{2}(?-u:\b)|E[SD]T|C[SD]T|M[SD]T|P[SD]T|CET|CEST|BST|JST|KST|HKT)?",
    )
    .ok()
});

/// Normalises `raw` to an RFC 3339 date-time (or full-date when no zone is given).
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 200 {
        return None;
    }
    let parts = numeric(raw).or_else(|| english(raw))?;
    let zone = parts
        .zone
        .or_else(|| raw.contains("北京时间").then_some(8 * 60));
    parts.format(zone)
}

/// Finds the first date in running text (e.g. a byline line) and normalises it.
pub(crate) fn find_in_text(text: &str) -> Option<String> {
    let head: String = text.chars().take(300).collect();
    normalize(&head)
}

struct Parts {
    year: u32,
    month: u32,
    day: u32,
    time: Option<(u32, u32, u32)>,
    /// Offset from UTC in minutes.
    zone: Option<i32>,
}

impl Parts {
    fn format(&self, zone: Option<i32>) -> Option<String> {
        let days = days_in_month(self.year, self.month)?;
        if !(1900..=2200).contains(&self.year) || self.day == 0 || self.day > days {
            return None;
        }
        let date = format!("{:04}-{:02}-{:02}", self.year, self.month, self.day);
        let (Some((h, mi, s)), Some(zone)) = (self.time, zone) else {
            return Some(date);
        };
        if h > 23 || mi > 59 || s > 60 || zone.abs() > 14 * 60 {
            return Some(date);
        }
        let offset = if zone == 0 {
            "Z".to_string()
        } else {
            let sign = if zone < 0 { '-' } else { '+' };
            format!("{sign}{:02}:{:02}", zone.abs() / 60, zone.abs() % 60)
        };
        Some(format!("{date}T{h:02}:{mi:02}:{s:02}{offset}"))
    }
}

fn days_in_month(year: u32, month: u32) -> Option<u32> {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    })
}

fn num(caps: &regex::Captures<'_>, name: &str) -> Option<u32> {
    caps.name(name).and_then(|m| m.as_str().parse().ok())
}

fn time_of(caps: &regex::Captures<'_>) -> Option<(u32, u32, u32)> {
    let mut h = num(caps, "h")?;
    let mi = num(caps, "mi")?;
    let s = num(caps, "s").unwrap_or(0);
    if let Some(ampm) = caps.name("ampm") {
        let pm = ampm.as_str().to_ascii_lowercase().starts_with('p');
        h = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    Some((h, mi, s))
}

fn zone_of(caps: &regex::Captures<'_>) -> Option<i32> {
    let z = caps.name("z")?.as_str();
    match z.to_ascii_uppercase().as_str() {
        "Z" | "UTC" | "GMT" => Some(0),
        "EST" | "CDT" => Some(-5 * 60),
        "EDT" => Some(-4 * 60),
        "CST" => None, // China or US Central: too ambiguous to state
        "MST" => Some(-7 * 60),
        "MDT" => Some(-6 * 60),
        "PST" => Some(-8 * 60),
        "PDT" => Some(-7 * 60),
        "CET" | "BST" => Some(60),
        "CEST" => Some(120),
        "JST" | "KST" => Some(9 * 60),
        "HKT" => Some(8 * 60),
        _ => numeric_offset(z),
    }
}

fn numeric_offset(z: &str) -> Option<i32> {
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let digits: String = z.chars().filter(char::is_ascii_digit).collect();
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
    Some(sign * (hours * 60 + minutes))
}

fn numeric(raw: &str) -> Option<Parts> {
    let caps = NUMERIC.as_ref()?.captures(raw)?;
    let time = time_of(&caps);
    Some(Parts {
        year: num(&caps, "y")?,
        month: num(&caps, "m")?,
        day: num(&caps, "d")?,
        zone: time.and(zone_of(&caps)),
        time,
    })
}

fn english(raw: &str) -> Option<Parts> {
    let caps = ENGLISH.as_ref()?.captures(raw)?;
    let mon = caps.name("mon1").or_else(|| caps.name("mon2"))?.as_str();
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| mon.eq_ignore_ascii_case(m))? as u32
        + 1;
    let time = time_of(&caps);
    Some(Parts {
        year: num(&caps, "y1").or_else(|| num(&caps, "y2"))?,
        month,
        day: num(&caps, "d1").or_else(|| num(&caps, "d2"))?,
        zone: time.and(zone_of(&caps)),
        time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        normalize(s)
    }

    #[test]
    fn iso_with_zone_is_kept() {
        assert_eq!(
            n("2023-10-06T12:00:00Z").as_deref(),
            Some("2023-10-06T12:00:00Z")
        );
        assert_eq!(
            n("2023-10-06T12:00:00.123+08:00").as_deref(),
            Some("2023-10-06T12:00:00+08:00")
        );
        assert_eq!(
            n("2019-11-19T08:03:00-0500").as_deref(),
            Some("2019-11-19T08:03:00-05:00")
        );
    }

    #[test]
    fn dates_without_zone_become_full_dates() {
        assert_eq!(n("2023-10-06 12:00").as_deref(), Some("2023-10-06"));
        assert_eq!(n("2023/10/6").as_deref(), Some("2023-10-06"));
    }

    #[test]
    fn chinese_dates_are_understood() {
        assert_eq!(n("2023年10月06日").as_deref(), Some("2023-10-06"));
        assert_eq!(
            n("北京时间2023年10月6日 12:30").as_deref(),
            Some("2023-10-06T12:30:00+08:00")
        );
        assert_eq!(
            n("发布时间：2005-5-7 21:23:57").as_deref(),
            Some("2005-05-07")
        );
    }

    #[test]
    fn english_and_rfc2822_dates_are_understood() {
        assert_eq!(
            n("Fri, 06 Oct 2023 12:00:00 GMT").as_deref(),
            Some("2023-10-06T12:00:00Z")
        );
        assert_eq!(
            n("Oct. 6, 2023 3:05 p.m. EDT").as_deref(),
            Some("2023-10-06T15:05:00-04:00")
        );
        assert_eq!(n("November 19, 2019").as_deref(), Some("2019-11-19"));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        assert_eq!(n("2023-02-30"), None);
        assert_eq!(n("2023-13-01"), None);
        assert_eq!(n("no date here"), None);
    }
}
