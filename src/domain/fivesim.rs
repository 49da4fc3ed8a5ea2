//! The 5sim model the operations speak: an order as the protocol shows it (its status words,
//! its SMS), the profile, payments, price ceilings and the guest price lists, and the rules
//! that map our activation states onto 5sim's. Parsing and rendering the wire protocol is the
//! dialect's (`http::dialects::fivesim`).
use super::activation::Status;
use super::crypto::sha256;
use super::money::Money;

/// The operator segment of a purchase, and the country segment: a name, or `any`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Any,
    Named(String),
}

impl Pick {
    /// `any` (any case) or a name as given.
    pub fn parse(segment: &str) -> Pick {
        let s = segment.trim();
        if s.eq_ignore_ascii_case("any") {
            Pick::Any
        } else {
            Pick::Named(s.to_owned())
        }
    }
}

/// An order's status as 5sim names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Received,
    Canceled,
    Timeout,
    Finished,
    Banned,
}

impl OrderStatus {
    /// Waiting without an SMS is PENDING; an SMS received (also after a retry) RECEIVED;
    /// complete FINISHED; cancelled CANCELED, or BANNED when it was cancelled as banned;
    /// expired (refunded) TIMEOUT.
    pub fn of(status: Status, sms_count: usize, banned: bool) -> OrderStatus {
        match status {
            Status::Waiting if sms_count == 0 => OrderStatus::Pending,
            Status::Waiting | Status::Received => OrderStatus::Received,
            Status::Complete => OrderStatus::Finished,
            Status::Cancelled if banned => OrderStatus::Banned,
            Status::Cancelled => OrderStatus::Canceled,
            Status::Expired => OrderStatus::Timeout,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Received => "RECEIVED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Timeout => "TIMEOUT",
            OrderStatus::Finished => "FINISHED",
            OrderStatus::Banned => "BANNED",
        }
    }
}

/// A stored activation status (`waiting`, …), as D1 mirrors it.
pub fn status_named(name: &str) -> Option<Status> {
    [
        Status::Waiting,
        Status::Received,
        Status::Complete,
        Status::Cancelled,
        Status::Expired,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
}

/// One SMS of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSms {
    /// RFC 3339, as the supplier reported it.
    pub received_at: String,
    pub sender: String,
    pub text: String,
    /// The code found in the text ("" when none was).
    pub code: String,
}

/// An activation as a 5sim order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The activation's integer id (the same as sms-activate's).
    pub id: i64,
    pub phone: String,
    /// Our operator id.
    pub operator: String,
    /// 5sim's product name (our service code when the service has none).
    pub product: String,
    pub price: Money,
    pub status: OrderStatus,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub sms: Vec<OrderSms>,
    /// 5sim's country name (our ISO code when the country has none).
    pub country: String,
}

/// The account as `/v1/user/profile` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub balance: Money,
    /// The refundable charges of live orders without an SMS.
    pub frozen: Money,
    pub active_orders: usize,
    /// 5sim's (name, ISO code lower-cased, calling code "+1") of the default country.
    pub country: (String, String, String),
    /// The newest orders, newest first.
    pub recent: Vec<Order>,
}

/// 5sim's user id is a number: ours is derived from the account id (48 bits of its hash),
/// so it is stable without being stored.
pub fn profile_id(account_id: &str) -> i64 {
    let h = sha256(account_id.as_bytes());
    h.iter().take(6).fold(0i64, |n, b| (n << 8) | i64::from(*b))
}

/// One row of the wallet's ledger as a 5sim payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: i64,
    /// `charge` for money in, `buy` for a purchase, `refund`, …: our ledger kind.
    pub kind: String,
    pub amount: Money,
    pub balance: Money,
    pub created_at_ms: i64,
}

/// An account's price ceiling for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxPrice {
    pub id: i64,
    pub product: String,
    pub price: Money,
    pub created_at_ms: i64,
}

/// One operator's offer of one product in one country (5sim names), with its free numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    pub country: String,
    pub product: String,
    pub operator: String,
    pub cost: Money,
    pub count: i64,
}

/// A product of a country and operator (`/v1/guest/products`): the cheapest offer with a
/// free number (else the cheapest) and the free numbers of all offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub price: Money,
    pub qty: i64,
}

/// Folds per-operator offers into one line per product, in product order.
pub fn products(entries: &[PriceEntry]) -> Vec<Product> {
    let mut out: Vec<Product> = Vec::new();
    let mut sorted: Vec<&PriceEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.product, a.count == 0, a.cost).cmp(&(&b.product, b.count == 0, b.cost))
    });
    for e in sorted {
        match out.last_mut() {
            Some(p) if p.name == e.product => p.qty += e.count,
            _ => out.push(Product {
                name: e.product.clone(),
                price: e.cost,
                qty: e.count,
            }),
        }
    }
    out
}

/// A country of `/v1/guest/countries`: its 5sim name, ISO code, calling code, English name
/// and the operators that sell in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryEntry {
    pub name: String,
    pub iso: String,
    pub prefix: String,
    pub text: String,
    pub operators: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for (status, sms_count, banned, order) in [
            (Status::Waiting, 0, false, OrderStatus::Pending),
            (Status::Waiting, 1, false, OrderStatus::Received),
            (Status::Received, 1, false, OrderStatus::Received),
            (Status::Complete, 1, false, OrderStatus::Finished),
            (Status::Cancelled, 0, true, OrderStatus::Banned),
            (Status::Cancelled, 0, false, OrderStatus::Canceled),
        ] {
            let why = format!("{status:?} with {sms_count} SMS, banned {banned}");
            assert_eq!(OrderStatus::of(status, sms_count, banned), order, "{why}");
        }
        assert_eq!(
            OrderStatus::of(Status::Expired, 0, false).as_str(),
            "TIMEOUT"
        );
        assert_eq!(status_named("cancelled"), Some(Status::Cancelled));
        assert_eq!(status_named("gone"), None);
    }

    #[test]
    fn picks_and_ids() {
        assert_eq!(Pick::parse("ANY"), Pick::Any);
        assert_eq!(Pick::parse("1"), Pick::Named("1".into()));
        let id = profile_id("acc_1");
        assert_eq!(id, profile_id("acc_1"));
        assert!(id > 0 && id < 1 << 48);
        assert_ne!(id, profile_id("acc_2"));
    }

    #[test]
    fn products_fold_offers() {
        let e = |product: &str, op: &str, cost: i64, count| PriceEntry {
            country: "usa".into(),
            product: product.into(),
            operator: op.into(),
            cost: Money::from_minor(cost),
            count,
        };
        let list = products(&[
            e("telegram", "2", 700, 3),
            e("telegram", "1", 500, 0),
            e("a", "1", 9, 1),
        ]);
        assert_eq!(list.len(), 2);
        assert_eq!((list[0].name.as_str(), list[0].qty), ("a", 1));
        // The cheapest offer with a free number sets the price.
        assert_eq!((list[1].price.minor(), list[1].qty), (700, 3));
    }
}
