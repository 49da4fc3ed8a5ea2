//! How the store's failures become application errors: a refused overdraft is the client's
//! 2007; every other store failure is ours (logged, answered as 2000).
use crate::domain::error::{AppError, Code};
use crate::store::StoreError;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        if e.is_overdraft() {
            AppError::of(Code::InsufficientFunds)
        } else {
            AppError::internal(e.to_string())
        }
    }
}
