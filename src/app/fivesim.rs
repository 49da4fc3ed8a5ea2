//! The 5sim protocol's operations (`http::dialects::fivesim`): its country and product names
//! and integer order ids mapped onto the catalog and the activations, then the existing
//! operations do the work — `activations` buys, reads and changes an order, `catalog` prices
//! it. What is 5sim's own: a price ceiling (the request's `maxPrice`, else the account's
//! ceiling for the product) holds for purchases on any operator only, and a ban is a cancel
//! recorded as banned.
use super::activations::{self, BuyOrder, View};
use super::catalog::Offer;
use super::{accounts, catalog, App, Listed};
use crate::domain::activation::{Command, Status};
use crate::domain::error::{AppError, Code};
use crate::domain::fivesim::{
    status_named, CountryEntry, MaxPrice, Order, OrderSms, OrderStatus, Payment, Pick, PriceEntry,
    Profile,
};
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::money::Money;
use crate::domain::pagination::Page;
use crate::domain::phone::calling_code;
use crate::store::catalog as catalog_store;
use crate::store::fivesim::{self as store, FsNamed, OrderRow};
use serde::Deserialize;

/// The catalog country behind a 5sim country name.
async fn country(app: &App, name: &str) -> Result<FsNamed, AppError> {
    let found = store::country(&app.db()?, &name.trim().to_ascii_lowercase()).await?;
    found.ok_or_else(|| AppError::new(Code::UnknownCountry, format!("unknown country '{name}'")))
}

/// The catalog service behind a 5sim product name.
async fn product(app: &App, name: &str) -> Result<FsNamed, AppError> {
    let found = store::product(&app.db()?, &name.trim().to_ascii_lowercase()).await?;
    found.ok_or_else(|| AppError::new(Code::UnknownService, format!("unknown product '{name}'")))
}

/// A purchase as the protocol asks for it.
pub struct Purchase {
    pub country: Pick,
    pub operator: Pick,
    pub product: String,
    pub max_price: Option<Money>,
}

/// `buy/activation/{country}/{operator}/{product}`: `activations::buy` on the mapped
/// country, service and operator (`any`: the cheapest in stock; country `any`: the country
/// with the cheapest number in stock). A ceiling above every free number is "no numbers".
pub async fn buy(app: &App, account: &AccountId, p: Purchase) -> Result<Order, AppError> {
    let product = product(app, &p.product).await?;
    let country = match &p.country {
        Pick::Named(name) => country(app, name).await?,
        Pick::Any => cheapest_country(app, &product).await?,
    };
    let (operator, max_price) = match p.operator {
        Pick::Named(op) => (Some(op), None),
        Pick::Any => match p.max_price {
            Some(max) => (None, Some(max)),
            None => {
                let db = app.db()?;
                let saved = store::max_price(&db, account.as_str(), &product.code).await?;
                (None, saved.map(Money::from_minor))
            }
        },
    };
    let order = BuyOrder {
        offer: Offer {
            country: country.code.clone(),
            service: product.code.clone(),
            operator,
        },
        max_price,
    };
    let bought = match activations::buy_keyless(app, account, order).await {
        Ok(bought) => bought,
        Err(e) if e.code == Code::PriceAboveMax => {
            return Err(AppError::new(Code::NoNumbers, e.message))
        }
        Err(e) => return Err(e),
    };
    Ok(Order {
        id: bought.num,
        phone: bought.number,
        operator: bought.operator,
        product: product.fs_name,
        price: bought.cost,
        status: OrderStatus::Pending,
        created_at_ms: app.now_ms,
        expires_at_ms: bought.expires_at_ms,
        sms: Vec::new(),
        country: country.fs_name,
    })
}

/// The country (with a 5sim name) whose cheapest free number for the product costs least.
async fn cheapest_country(app: &App, product: &FsNamed) -> Result<FsNamed, AppError> {
    let named = store::countries(&app.db()?).await?;
    let list = catalog::prices(app, Some(&product.code), None).await?;
    list.rows
        .iter()
        .filter(|r| r.count > 0)
        .filter_map(|r| Some((r.cost, named.iter().find(|c| c.code == r.country)?)))
        .min_by_key(|(cost, _)| *cost)
        .map(|(_, c)| c.clone())
        .ok_or_else(|| AppError::new(Code::NoNumbers, "no free numbers for this product"))
}

/// The activation behind an order id (404 when there is none).
async fn row(app: &App, id: i64) -> Result<OrderRow, AppError> {
    let found = store::order(&app.db()?, id).await?;
    found.ok_or_else(|| AppError::not_found("order"))
}

/// An SMS as stored (`inbound_sms`), as the order lists it.
#[derive(Deserialize)]
struct StoredSms {
    sender: String,
    text: String,
    code: Option<String>,
    received_at: String,
}

/// An order from its D1 row, with the state its object holds (`view`) when there is one.
fn order_of(row: &OrderRow, view: Option<&View>) -> Result<Order, AppError> {
    let (status, sms): (Status, Vec<OrderSms>) = match view {
        Some(v) => {
            let sms = (v.sms.iter())
                .map(|s| OrderSms {
                    received_at: s.received_at.clone(),
                    sender: s.from.clone(),
                    text: s.text.clone(),
                    code: s.code.clone().unwrap_or_default(),
                })
                .collect();
            (v.status, sms)
        }
        None => {
            let status = status_named(&row.status)
                .ok_or_else(|| AppError::internal(format!("activation status {}", row.status)))?;
            let stored: Vec<StoredSms> = serde_json::from_str(&row.sms)
                .map_err(|e| AppError::internal(format!("order SMS: {e}")))?;
            let sms = (stored.into_iter())
                .map(|s| OrderSms {
                    received_at: s.received_at,
                    sender: s.sender,
                    text: s.text,
                    code: s.code.unwrap_or_default(),
                })
                .collect();
            (status, sms)
        }
    };
    Ok(Order {
        id: row.num,
        phone: row.number.clone(),
        operator: row.operator.clone(),
        product: row.service.clone(),
        price: Money::from_minor(row.cost),
        status: OrderStatus::of(status, sms.len(), row.banned != 0),
        created_at_ms: row.created_at,
        expires_at_ms: row.expires_at,
        sms,
        country: row.country.clone(),
    })
}

/// `check/{id}`: the caller's order as its object holds it (another account's id is 404).
pub async fn order(app: &App, key: &KeyHash, id: i64) -> Result<Order, AppError> {
    let row = row(app, id).await?;
    let view = activations::status(app, key, &row.id).await?;
    order_of(&row, Some(&view))
}

/// What a client asks of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Complete (an SMS arrived).
    Finish,
    /// Cancel, refunded (no SMS, after the early-cancel lock).
    Cancel,
    /// Cancel as `Cancel`, recorded as banned: the number had been used for the service.
    Ban,
}

/// `finish/{id}`, `cancel/{id}`, `ban/{id}` through `activations::set_status`. Asking again
/// for what the order already came to answers the order as it is.
pub async fn act(app: &App, key: &KeyHash, id: i64, action: Action) -> Result<Order, AppError> {
    let mut row = row(app, id).await?;
    let (command, done) = match action {
        Action::Finish => (Command::Complete, Status::Complete),
        Action::Cancel | Action::Ban => (Command::Cancel, Status::Cancelled),
    };
    let view = match activations::set_status(app, key, &row.id, command).await {
        Ok(view) => view,
        Err(e) if e.code == Code::ActivationEnded => {
            let view = activations::status(app, key, &row.id).await?;
            if view.status != done {
                return Err(e);
            }
            view
        }
        Err(e) => return Err(e),
    };
    if action == Action::Ban {
        store::ban(&app.db()?, &row.id, app.now_ms).await?;
        row.banned = 1;
    }
    order_of(&row, Some(&view))
}

/// A page as 5sim asks for it (`limit`, `offset`): the offset is taken to the page it
/// falls in.
fn page(limit: u32, offset: u64) -> Page {
    let limit = limit.clamp(1, 100);
    let page = offset / u64::from(limit) + 1;
    Page {
        page: u32::try_from(page).unwrap_or(u32::MAX),
        limit,
    }
}

/// `orders`: the account's activations as orders (as D1 mirrors them), with the total.
pub async fn orders(
    app: &App,
    account: &AccountId,
    limit: u32,
    offset: u64,
    newest_first: bool,
) -> Listed<Order> {
    let db = app.db()?;
    let (rows, total) =
        store::orders(&db, account.as_str(), page(limit, offset), newest_first).await?;
    let orders = rows
        .iter()
        .map(|r| order_of(r, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((orders, total))
}

/// `payments`: the account's ledger, newest first, with the total.
pub async fn payments(app: &App, account: &AccountId, limit: u32, offset: u64) -> Listed<Payment> {
    let (rows, total) = store::payments(&app.db()?, account.as_str(), page(limit, offset)).await?;
    let list = rows
        .into_iter()
        .map(|r| Payment {
            id: r.seq,
            kind: r.kind,
            amount: Money::from_minor(r.amount),
            balance: Money::from_minor(r.balance_after),
            created_at_ms: r.created_at,
        })
        .collect();
    Ok((list, total))
}

/// `max-prices`: the account's price ceilings.
pub async fn max_prices(app: &App, account: &AccountId) -> Result<Vec<MaxPrice>, AppError> {
    let rows = store::max_prices(&app.db()?, account.as_str()).await?;
    Ok(rows
        .into_iter()
        .map(|r| MaxPrice {
            id: r.id,
            product: r.product,
            price: Money::from_minor(r.price),
            created_at_ms: r.created_at,
        })
        .collect())
}

/// Sets the account's ceiling for a product (above zero).
pub async fn set_max_price(
    app: &App,
    account: &AccountId,
    name: &str,
    price: Money,
) -> Result<(), AppError> {
    if !price.is_positive() {
        return Err(AppError::new(
            Code::InvalidAmount,
            "the price must be above 0",
        ));
    }
    let product = product(app, name).await?;
    let db = app.db()?;
    store::set_max_price(
        &db,
        account.as_str(),
        &product.code,
        price.minor(),
        app.now_ms,
    )
    .await?;
    Ok(())
}

/// Removes the account's ceiling for a product, if it had one.
pub async fn delete_max_price(app: &App, account: &AccountId, name: &str) -> Result<(), AppError> {
    let product = product(app, name).await?;
    store::delete_max_price(&app.db()?, account.as_str(), &product.code).await?;
    Ok(())
}

/// `profile`: the account, its wallet, the charges of live orders still refundable
/// (frozen), and its newest orders.
pub async fn profile(app: &App, account: &AccountId) -> Result<Profile, AppError> {
    let me = accounts::profile(app, account).await?;
    let db = app.db()?;
    let live = crate::store::smsactivate::active_activations(
        &db,
        account.as_str(),
        app.now_ms,
        &app.config.currency,
    )
    .await?;
    let frozen = (live.iter())
        .filter(|a| a.latest.is_none())
        .map(|a| a.cost.minor())
        .sum::<i64>();
    let (recent, _) = orders(app, account, 5, 0, true).await?;
    let named = store::countries(&db).await?;
    let home = (recent.first())
        .and_then(|o| named.iter().find(|c| c.fs_name == o.country))
        .or(named.first());
    let country = home.map_or_else(Default::default, |c| {
        let prefix = calling_code(&c.code).map_or_else(String::new, |p| format!("+{p}"));
        (c.fs_name.clone(), c.code.to_ascii_lowercase(), prefix)
    });
    Ok(Profile {
        id: crate::domain::fivesim::profile_id(account.as_str()),
        email: me.email.unwrap_or_default(),
        name: me.name,
        balance: Money::from_minor(me.balance),
        frozen: Money::from_minor(frozen),
        active_orders: live.len(),
        country,
        recent,
    })
}

/// `guest/countries`: the countries with a 5sim name and the operators that sell in each.
pub async fn countries(app: &App) -> Result<Vec<CountryEntry>, AppError> {
    let db = app.db()?;
    let operators = catalog_store::operators(&db, None).await?;
    let list = store::countries(&db).await?;
    Ok(list
        .into_iter()
        .map(|c| CountryEntry {
            iso: c.code.to_ascii_lowercase(),
            prefix: calling_code(&c.code).map_or_else(String::new, |p| format!("+{p}")),
            operators: {
                let mut ids: Vec<String> = (operators.iter())
                    .filter(|o| o.country == c.code)
                    .map(|o| o.id.clone())
                    .collect();
                ids.sort_unstable();
                ids
            },
            name: c.fs_name,
            text: c.name,
        })
        .collect())
}

/// The offers with stock (`catalog::prices`) of a country and a product (each optional,
/// 5sim names), for the countries and services that have 5sim names.
pub async fn prices(
    app: &App,
    country_name: Option<&str>,
    product_name: Option<&str>,
) -> Result<Vec<PriceEntry>, AppError> {
    let db = app.db()?;
    let country = match country_name {
        Some(name) => Some(country(app, name).await?),
        None => None,
    };
    let product = match product_name {
        Some(name) => Some(product(app, name).await?),
        None => None,
    };
    let (countries, products) = (store::countries(&db).await?, store::products(&db).await?);
    let list = catalog::prices(
        app,
        product.as_ref().map(|p| p.code.as_str()),
        country.as_ref().map(|c| c.code.as_str()),
    )
    .await?;
    Ok(list
        .rows
        .iter()
        .filter_map(|r| {
            Some(PriceEntry {
                country: countries
                    .iter()
                    .find(|c| c.code == r.country)?
                    .fs_name
                    .clone(),
                product: products
                    .iter()
                    .find(|p| p.code == r.service)?
                    .fs_name
                    .clone(),
                operator: r.operator.clone(),
                cost: Money::from_minor(r.cost),
                count: r.count,
            })
        })
        .collect())
}

/// `guest/products/{country}/{operator}`: the offers of a country (or every country) and
/// an operator (or any).
pub async fn products(
    app: &App,
    country: &Pick,
    operator: &Pick,
) -> Result<Vec<PriceEntry>, AppError> {
    let name = match country {
        Pick::Named(name) => Some(name.as_str()),
        Pick::Any => None,
    };
    let entries = prices(app, name, None).await?;
    let Pick::Named(op) = operator else {
        return Ok(entries);
    };
    let code = match name {
        Some(n) => Some(self::country(app, n).await?.code),
        None => None,
    };
    let known = catalog_store::operators(&app.db()?, code.as_deref()).await?;
    if !known.iter().any(|o| &o.id == op) {
        return Err(AppError::new(
            Code::UnknownOperator,
            format!("unknown operator '{op}'"),
        ));
    }
    Ok(entries.into_iter().filter(|e| &e.operator == op).collect())
}
