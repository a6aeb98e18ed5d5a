//! A size in bytes as a person writes it in the config (`"10MiB"`,
//! `"512 KiB"`, `"2MB"`, or a plain number of bytes), for the largest
//! manifest file gitops-tui reads: a file over it makes the app invalid
//! rather than being dropped.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// The default `max_manifest_size`: 10 MiB, the Git reader's own default.
pub const DEFAULT_MAX_MANIFEST_SIZE: ByteSize = ByteSize(crate::git::DEFAULT_MAX_FILE_BYTES);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl Default for ByteSize {
    fn default() -> Self {
        DEFAULT_MAX_MANIFEST_SIZE
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {text:?}: {reason} (write e.g. \"10MiB\", \"512KiB\" or a number of bytes)")]
pub struct ByteSizeError {
    text: String,
    reason: &'static str,
}

const UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("k", 1 << 10),
    ("ki", 1 << 10),
    ("kib", 1 << 10),
    ("m", 1 << 20),
    ("mi", 1 << 20),
    ("mib", 1 << 20),
    ("g", 1 << 30),
    ("gi", 1 << 30),
    ("gib", 1 << 30),
];

impl FromStr for ByteSize {
    type Err = ByteSizeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason| ByteSizeError {
            text: text.to_string(),
            reason,
        };
        let trimmed = text.trim();
        let digits = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len());
        if digits == 0 {
            return Err(err("it does not start with a number"));
        }
        let number: u64 = trimmed[..digits]
            .parse()
            .map_err(|_| err("the number is too large"))?;
        let unit = trimmed[digits..].trim().to_ascii_lowercase();
        let Some((_, factor)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(err("unknown unit"));
        };
        let bytes = number
            .checked_mul(*factor)
            .ok_or_else(|| err("the size is too large"))?;
        if bytes == 0 {
            return Err(err("it must be more than 0"));
        }
        Ok(ByteSize(bytes))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(0) => Err(serde::de::Error::custom("a size must be more than 0")),
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl fmt::Display for ByteSize {
    /// Whole binary units when exact, else one decimal (`10 MiB`, `50.0 MiB`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, factor) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if n >= factor {
                return if n.is_multiple_of(factor) {
                    write!(f, "{} {unit}", n / factor)
                } else {
                    write!(f, "{:.1} {unit}", n as f64 / factor as f64)
                };
            }
        }
        write!(f, "{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_write() {
        let parse = |t: &str| t.parse::<ByteSize>().map(|b| b.0);
        assert_eq!(parse("10MiB"), Ok(10 << 20));
        assert_eq!(parse("512 KiB"), Ok(512 << 10));
        assert_eq!(parse("2MB"), Ok(2_000_000));
        assert_eq!(parse("1g"), Ok(1 << 30));
        assert_eq!(parse("4096"), Ok(4096));
        assert!(parse("").is_err());
        assert!(parse("MiB").is_err());
        assert!(parse("10 parsecs").is_err());
        assert!(parse("0").is_err());
        assert!(parse("99999999999999999999GiB").is_err());
        assert!(parse("18446744073709551615GiB").is_err());
    }

    #[test]
    fn displays_in_binary_units() {
        assert_eq!(ByteSize(10 << 20).to_string(), "10 MiB");
        assert_eq!(ByteSize(52_428_801).to_string(), "50.0 MiB");
        assert_eq!(ByteSize(1536).to_string(), "1.5 KiB");
        assert_eq!(ByteSize(12).to_string(), "12 bytes");
    }
}
