//! Humane durations for the config file: `"90s"`, `"5m"`, `"4h"`, `"35d"`,
//! and combinations such as `"1h30m"`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration written the way people write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        HumanDuration(Duration::from_secs(secs))
    }

    /// The value as a `std::time::Duration`.
    pub const fn get(self) -> Duration {
        self.0
    }
}

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason} (write e.g. \"30s\", \"5m\", \"4h\", \"35d\", \"1h30m\")"
)]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

/// Parses `"<n><unit>"…` with units `ms`, `s`, `m`, `h`, `d`, `w`.
///
/// # Errors
/// Empty input, a missing number or unit, an unknown unit, or overflow.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err("expected a number"));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| err("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let part = match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" => Some(Duration::from_secs(n)),
            "m" => n.checked_mul(60).map(Duration::from_secs),
            "h" => n.checked_mul(3_600).map(Duration::from_secs),
            "d" => n.checked_mul(86_400).map(Duration::from_secs),
            "w" => n.checked_mul(604_800).map(Duration::from_secs),
            "" => return Err(err("missing unit")),
            _ => return Err(err("unknown unit (use ms, s, m, h, d or w)")),
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| err("too large"))?;
    }
    Ok(total)
}

impl std::str::FromStr for HumanDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s).map(HumanDuration)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let ms = self.0.subsec_millis();
        if ms != 0 {
            return write!(f, "{}ms", self.0.as_millis());
        }
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
            if secs != 0 && secs.is_multiple_of(size) {
                return write!(f, "{}{unit}", secs / size);
            }
        }
        write!(f, "{secs}s")
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("35d"), Ok(Duration::from_secs(35 * 86_400)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_nonsense() {
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "-5s",
            "5 minutes",
            "99999999999999999999s",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn displays_round_trip() {
        for s in ["2s", "5m", "4h", "35d", "250ms", "90s"] {
            let d: HumanDuration = s.parse().expect("valid");
            assert_eq!(d.to_string().parse::<HumanDuration>(), Ok(d));
        }
    }
}
