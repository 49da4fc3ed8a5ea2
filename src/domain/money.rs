//! Money in integer minor units of 1/10000 of the currency unit, so 0.0075 is exact.
//! No float is ever used in arithmetic; `as_f64` exists only to render JSON numbers.
use std::fmt;

/// Minor units per currency unit.
pub const SCALE: i64 = 10_000;
const DECIMALS: usize = 4;
/// The largest amount one operation may move: 1,000,000.0000 units.
pub const MAX_OPERATION: Money = Money(1_000_000 * SCALE);
/// The most a wallet may hold: 100,000,000,000.0000 units (the wallets table's CHECK).
pub const MAX_BALANCE: Money = Money(100_000_000_000 * SCALE);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    Empty,
    NotADecimal,
    TooManyDecimals,
    TooLarge,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyError::Empty => "amount is empty",
            MoneyError::NotADecimal => "amount must be a non-negative decimal such as \"25.00\"",
            MoneyError::TooManyDecimals => "amount has more than 4 decimal places",
            MoneyError::TooLarge => "amount is larger than 1000000",
        })
    }
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_minor(minor: i64) -> Money {
        Money(minor)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    /// Parses a non-negative decimal string ("25", "25.00", "0.0075") of at most
    /// 4 decimals and at most `MAX_OPERATION`.
    pub fn parse_decimal(input: &str) -> Result<Money, MoneyError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(MoneyError::NotADecimal);
        }
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || !all_digits(frac) || (s.contains('.') && frac.is_empty()) {
            return Err(MoneyError::NotADecimal);
        }
        if frac.len() > DECIMALS {
            // Trailing zeros beyond the precision are harmless ("1.50000").
            if frac[DECIMALS..].bytes().any(|b| b != b'0') {
                return Err(MoneyError::TooManyDecimals);
            }
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 7 {
            return Err(MoneyError::TooLarge);
        }
        let whole_units: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| MoneyError::NotADecimal)?
        };
        let mut frac_units: i64 = 0;
        for i in 0..DECIMALS {
            let digit = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
            frac_units = frac_units * 10 + digit;
        }
        let minor = whole_units * SCALE + frac_units;
        if minor > MAX_OPERATION.0 {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(minor))
    }

    /// Accepts a JSON string ("25.00") or a JSON number (25.5) by its decimal text,
    /// never through a float.
    pub fn parse_json(value: &serde_json::Value) -> Result<Money, MoneyError> {
        match value {
            serde_json::Value::String(s) => Money::parse_decimal(s),
            serde_json::Value::Number(n) => Money::parse_decimal(&n.to_string()),
            _ => Err(MoneyError::NotADecimal),
        }
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// For JSON numbers only (`{"balance":12.5}`): the quotient of two exact integers is
    /// correctly rounded, and its shortest representation is the 4-decimal value.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// Decimal text with at least 2 and at most 4 decimals: "0.05", "0.0075", "25.00".
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = SCALE as u64;
        let mut frac = format!("{:04}", abs % scale);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        format!("{sign}{}.{frac}", abs / scale)
    }

    /// NumberOTP's `credits`: whole cents (1 credit = 0.01 of the currency), rounded down.
    pub fn credits(self) -> i64 {
        self.0.div_euclid(SCALE / 100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

/// How a value the batch itself computes is written into a stored answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceAs {
    /// Whole cents, rounded down (`Money::credits`), as a JSON number.
    Credits,
    /// Decimal text with 2 to 4 decimals (`Money::to_decimal_string`), as a JSON string.
    Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(Money::parse_decimal("25.00"), Ok(Money(250_000)));
        assert_eq!(Money::parse_decimal("25"), Ok(Money(250_000)));
        assert_eq!(Money::parse_decimal("0.0075"), Ok(Money(75)));
        assert_eq!(Money::parse_decimal(".5"), Ok(Money(5_000)));
        assert_eq!(Money::parse_decimal("1.50000"), Ok(Money(15_000)));
        assert_eq!(Money::parse_decimal("1000000"), Ok(MAX_OPERATION));
    }

    #[test]
    fn rejects_bad_amounts() {
        for bad in [
            "", " ", "-1", "+1", "1e3", "abc", "1.", ".", "1.2.3", "0x10", "１",
        ] {
            assert!(
                Money::parse_decimal(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert_eq!(
            Money::parse_decimal("0.00001"),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(
            Money::parse_decimal("1000000.0001"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Money::parse_decimal("99999999999999999999"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn json_numbers_go_through_their_text() {
        assert_eq!(
            Money::parse_json(&serde_json::json!(12.5)),
            Ok(Money(125_000))
        );
        assert_eq!(
            Money::parse_json(&serde_json::json!("0.05")),
            Ok(Money(500))
        );
        assert!(Money::parse_json(&serde_json::json!(true)).is_err());
        assert!(Money::parse_json(&serde_json::json!(-3)).is_err());
    }

    #[test]
    fn renders_for_each_dialect() {
        assert_eq!(Money(500).to_decimal_string(), "0.05");
        assert_eq!(Money(75).to_decimal_string(), "0.0075");
        assert_eq!(Money(250_000).to_decimal_string(), "25.00");
        assert_eq!(Money(-500).to_decimal_string(), "-0.05");
        assert_eq!(
            serde_json::json!(Money(250_000).as_f64()).to_string(),
            "25.0"
        );
        assert_eq!(
            serde_json::json!(Money(125_000).as_f64()).to_string(),
            "12.5"
        );
        assert_eq!(serde_json::json!(Money(3_000).as_f64()).to_string(), "0.3");
        assert_eq!(Money(1_005_000).credits(), 10_050);
        assert_eq!(Money(99).credits(), 0);
    }

    #[test]
    fn every_four_decimal_value_round_trips_through_f64_text() {
        for minor in (0..2_000_000i64).step_by(7) {
            let text = serde_json::json!(Money(minor).as_f64()).to_string();
            assert_eq!(
                Money::parse_decimal(&text),
                Ok(Money(minor)),
                "{minor} rendered as {text}"
            );
        }
    }
}
