//! Kubernetes resource quantities (`500m`, `0.5`, `1Gi`, `1024Mi`, `1e3`), parsed
//! only far enough to tell whether two spellings are the same amount.
//!
//! The API server canonicalises quantities it stores (`0.5` comes back as `500m`),
//! so a manifest that says `cpu: 0.5` must not show as drift against a live
//! `cpu: 500m`. We write this small exact parser instead of pulling in
//! `kube-quantity` (and with it `rust_decimal` and a second `k8s-openapi`): all we
//! need is equality, and an exact integer form gives that without rounding.

use serde_json::Value;

/// A quantity as `mantissa × 10^exp10`, with trailing zeros moved into the
/// exponent so that equal amounts have equal representations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity {
    mantissa: i128,
    exp10: i32,
}

impl Quantity {
    /// Parses the Kubernetes quantity grammar: sign, decimal number, then one
    /// binary suffix (Ki..Ei), decimal suffix (n u m k M G T P E) or exponent.
    /// Returns `None` for anything else, or for values too large to hold exactly;
    /// callers then fall back to comparing the text as written.
    pub(crate) fn parse(text: &str) -> Option<Quantity> {
        let text = text.trim();
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_len);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
            return None;
        }
        let mut mantissa: i128 = 0;
        for digit in int_part.bytes().chain(frac_part.bytes()) {
            mantissa = mantissa
                .checked_mul(10)?
                .checked_add(i128::from(digit - b'0'))?;
        }
        let mut exp10 = -i32::try_from(frac_part.len()).ok()?;
        let (binary_shift, decimal_exp) = suffix_scale(suffix)?;
        if binary_shift > 0 {
            mantissa = mantissa.checked_mul(1i128.checked_shl(binary_shift)?)?;
        }
        exp10 = exp10.checked_add(decimal_exp)?;
        if negative {
            mantissa = -mantissa;
        }
        Some(Quantity { mantissa, exp10 }.canonical())
    }

    /// Reads a JSON value as a quantity: manifests may write `cpu: 1` or
    /// `cpu: 0.5` as YAML numbers, which the server stores as strings.
    pub(crate) fn from_value(value: &Value) -> Option<Quantity> {
        match value {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }

    fn canonical(mut self) -> Quantity {
        if self.mantissa == 0 {
            return Quantity {
                mantissa: 0,
                exp10: 0,
            };
        }
        while self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.exp10 += 1;
        }
        self
    }
}

/// The scale a suffix stands for: a power of two (binary SI) and a power of ten.
fn suffix_scale(suffix: &str) -> Option<(u32, i32)> {
    let scale = match suffix {
        "" => (0, 0),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        _ => {
            let exponent = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            (0, exponent.parse::<i32>().ok()?)
        }
    };
    Some(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).expect(s)
    }

    #[test]
    fn equal_amounts_written_differently() {
        assert_eq!(q("500m"), q("0.5"));
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1k"), q("1000"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("100M"), q("100000k"));
        assert_eq!(q("0"), q("0m"));
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert_eq!(q("2"), q("2000m"));
    }

    #[test]
    fn different_amounts_differ() {
        assert_ne!(q("1G"), q("1Gi"));
        assert_ne!(q("500m"), q("5"));
        assert_ne!(q("-1"), q("1"));
    }

    #[test]
    fn numbers_are_quantities() {
        assert_eq!(
            Quantity::from_value(&serde_json::json!(0.5)),
            Some(q("500m"))
        );
        assert_eq!(Quantity::from_value(&serde_json::json!(2)), Some(q("2")));
    }

    #[test]
    fn not_quantities() {
        for s in ["", "abc", "1Xi", "1.2.3", "m", "12 Gi", "1e"] {
            assert_eq!(Quantity::parse(s), None, "{s}");
        }
    }
}
