//! Wallet rules.
use super::error::{AppError, Code};
use super::money::Money;

/// One change of a wallet's balance, as its ledger records it (amounts in minor units).
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub id: String,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub reference: Option<String>,
    pub object_id: Option<String>,
    pub description: String,
    /// ms.
    pub created_at: i64,
}

/// A top-up credits a positive amount: 0 or less is 400 (`InvalidAmount`).
pub fn check_topup(amount: Money) -> Result<(), AppError> {
    if amount.is_positive() {
        Ok(())
    } else {
        Err(AppError::new(
            Code::InvalidAmount,
            "amount must be greater than 0",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topup_is_positive() {
        assert!(check_topup(Money::from_minor(1)).is_ok());
        for refused in [0, -1, -10_000] {
            let e = check_topup(Money::from_minor(refused)).unwrap_err();
            assert_eq!(e.code, Code::InvalidAmount, "{refused}");
        }
    }
}
