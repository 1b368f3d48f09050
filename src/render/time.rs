//! Event times as the messages show them: `2026-11-21 03:14:07 UTC`, or to the minute in the
//! SMS. Written digit by digit, as chrono's `%Y-%m-%d %H:%M:%S` would write them: chrono's
//! `format` parses its pattern on every call, which was 6% of the core's time.

use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// A time in UTC, to the second or to the minute, followed by ` UTC`.
#[derive(Debug, Clone, Copy)]
pub struct UtcTime {
    time: DateTime<Utc>,
    seconds: bool,
}

/// `2026-11-21 03:14:07 UTC`
pub(crate) fn to_the_second(time: DateTime<Utc>) -> UtcTime {
    UtcTime {
        time,
        seconds: true,
    }
}

/// `2026-11-21 03:14 UTC`
pub(crate) fn to_the_minute(time: DateTime<Utc>) -> UtcTime {
    UtcTime {
        time,
        seconds: false,
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.time;
        let Ok(year) = u32::try_from(t.year()) else {
            return self.fmt_with_chrono(f);
        };
        if year > 9999 {
            // chrono writes a sign and more digits outside 0000-9999.
            return self.fmt_with_chrono(f);
        }
        // A leap second reads 60, as chrono writes it.
        let second = t.second() + t.nanosecond() / 1_000_000_000;
        let mut text = *b"0000-00-00 00:00:00 UTC";
        let mut put = |at: usize, value: u32, width: usize| {
            let mut value = value;
            for i in (at..at + width).rev() {
                text[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, year, 4);
        put(5, t.month(), 2);
        put(8, t.day(), 2);
        put(11, t.hour(), 2);
        put(14, t.minute(), 2);
        put(17, second, 2);
        let text = std::str::from_utf8(&text).map_err(|_| fmt::Error)?;
        if self.seconds {
            f.write_str(text)
        } else {
            f.write_str(&text[..16])?;
            f.write_str(" UTC")
        }
    }
}

impl UtcTime {
    fn fmt_with_chrono(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pattern = if self.seconds {
            "%Y-%m-%d %H:%M:%S UTC"
        } else {
            "%Y-%m-%d %H:%M UTC"
        };
        write!(f, "{}", self.time.format(pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Agrees with chrono's strftime for every year, leap seconds and far-off times included.
    #[test]
    fn written_as_chrono_writes_it() {
        let times = [
            "2026-11-21T03:14:07Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "2016-12-31T23:59:60Z",
            "+12026-11-21T03:14:07Z",
            "-0044-03-15T12:00:00Z",
        ];
        for text in times {
            let t: DateTime<Utc> = text.parse().unwrap();
            assert_eq!(
                to_the_second(t).to_string(),
                t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                "{text}"
            );
            assert_eq!(
                to_the_minute(t).to_string(),
                t.format("%Y-%m-%d %H:%M UTC").to_string(),
                "{text}"
            );
        }
    }
}
