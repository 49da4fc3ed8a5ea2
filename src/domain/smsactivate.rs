//! The sms-activate model the operations speak: the protocol's selections (a numeric
//! country, a short service code), the status changes it asks for, an activation's phase as
//! the protocol sees it, and what the operations hand back to be rendered; and the rule that
//! folds per-operator prices into one offer per (country, service). Parsing and rendering the
//! wire protocol is the dialect's (`http::dialects::smsactivate`).
use super::money::Money;

/// `setStatus`'s `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetStatus {
    /// 1: "the SMS was sent to the number" — acknowledged, changes nothing.
    Ready,
    /// 3: ask for another SMS (our `retry`).
    Retry,
    /// 6: complete.
    Complete,
    /// 8: cancel (refund).
    Cancel,
}

/// `setRentStatus`'s `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RentStatus {
    /// 1: finish.
    Finish,
    /// 2: cancel.
    Cancel,
}

/// `getNumber` / `getNumberV2` / `getRentNumber` selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// sms-activate service code (`tg`), lower-cased.
    pub service: String,
    /// sms-activate country number; the protocol's default is 0.
    pub country: Country,
    /// Operator id or name; `None` for any (`any` is the protocol's "any").
    pub operator: Option<String>,
}

/// A `country` parameter: a number, or something that is not one (answers as unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    Id(i64),
    Invalid,
}

/// One price row (per operator) with its sms-activate country number and service code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceLine {
    pub country_id: i64,
    pub service_code: String,
    pub cost: Money,
    /// Free numbers of this operator.
    pub count: i64,
}

/// Per (country, service): the cheapest operator that has a free number (else the cheapest
/// of all), and the free numbers of all operators. Sorted by country number, then code.
pub fn aggregate(lines: &[PriceLine]) -> Vec<Offer> {
    let mut offers: Vec<(Offer, bool)> = Vec::new();
    for l in lines {
        let in_stock = l.count > 0;
        let found = offers
            .iter_mut()
            .find(|(o, _)| o.country_id == l.country_id && o.service_code == l.service_code);
        match found {
            None => offers.push((
                Offer {
                    country_id: l.country_id,
                    service_code: l.service_code.clone(),
                    cost: l.cost,
                    count: l.count.max(0),
                },
                in_stock,
            )),
            Some((o, stocked)) => {
                o.count += l.count.max(0);
                // In stock beats out of stock; then the cheaper wins.
                if (!in_stock, l.cost) < (!*stocked, o.cost) {
                    o.cost = l.cost;
                    *stocked = in_stock;
                }
            }
        }
    }
    let mut out: Vec<Offer> = offers.into_iter().map(|(o, _)| o).collect();
    // One offer per (country, service): no ties, so the unstable sort's order is the same.
    out.sort_unstable_by(|a, b| {
        (a.country_id, &a.service_code).cmp(&(b.country_id, &b.service_code))
    });
    out
}

/// A newly bought activation, for `getNumber` and `getNumberV2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bought {
    pub num: i64,
    /// E.164.
    pub number: String,
    pub cost: Money,
    pub currency: String,
    pub country_id: i64,
    pub operator: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// An activation's state as the protocol sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting, no SMS yet.
    Waiting,
    /// Waiting for another SMS after a retry (status 3).
    WaitingRetry,
    /// An SMS is there (received, or completed with it).
    Received,
    Complete,
    /// Cancelled or expired: the charge was refunded.
    Refunded,
}

/// One received SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub text: String,
    pub code: Option<String>,
    /// As the supplier reported it (RFC 3339, normally).
    pub received_at: String,
}

impl Sms {
    /// The code, or the whole text when no code could be extracted.
    pub fn code_or_text(&self) -> &str {
        self.code.as_deref().unwrap_or(&self.text)
    }
}

/// One live activation for `getActiveActivations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    pub num: i64,
    pub service_code: String,
    pub number: String,
    pub cost: Money,
    pub currency: String,
    pub phase: Phase,
    pub latest: Option<Sms>,
    /// `None` for a country without an sms-activate number (bought on another dialect).
    pub country_id: Option<i64>,
    pub country_name: String,
    pub created_at_ms: i64,
}

/// One (country, service) offer with its cheapest price and its free stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub country_id: i64,
    pub service_code: String,
    pub cost: Money,
    pub count: i64,
}

/// A catalog country with its sms-activate number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryInfo {
    pub id: i64,
    pub iso: String,
    pub name: String,
}

/// One SMS a rented number received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentSms {
    pub from: String,
    pub text: String,
    pub service_code: String,
    pub received_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_operators_into_one_offer() {
        let m = |s: &str| Money::parse_decimal(s).unwrap();
        let line = |c: i64, s: &str, cost: &str, count: i64| PriceLine {
            country_id: c,
            service_code: s.into(),
            cost: m(cost),
            count,
        };
        let offers = aggregate(&[
            line(187, "tg", "0.05", 0),
            line(187, "tg", "0.07", 2),
            line(187, "tg", "0.06", 3),
            line(66, "tg", "0.05", 0),
            line(66, "tg", "0.04", 0),
            line(22, "wa", "0.10", 1),
        ]);
        assert_eq!(
            offers,
            vec![
                Offer {
                    country_id: 22,
                    service_code: "wa".into(),
                    cost: m("0.10"),
                    count: 1
                },
                // Nothing in stock: the cheapest price is shown.
                Offer {
                    country_id: 66,
                    service_code: "tg".into(),
                    cost: m("0.04"),
                    count: 0
                },
                // The cheapest operator that has a number (0.05 has none).
                Offer {
                    country_id: 187,
                    service_code: "tg".into(),
                    cost: m("0.06"),
                    count: 5
                },
            ]
        );
    }
}
