//! The 5sim dialect: `https://5sim.net/v1` as its clients call it, under our `/v1/user/*`
//! and `/v1/guest/*` (no path of ours lives there). `errors` holds its words, `shapes` its
//! JSON; `user`, `orders` and `guest` parse a request and call one operation of
//! `app::fivesim`, which maps 5sim's names and order ids onto the catalog and activations.
//!
//! # The wire protocol, as its clients send and parse it
//!
//! Client: `pyfivesim` 1.0.4 (PyPI; `httpx` sync and `aiohttp` async clients, pydantic v2
//! models). Every call is a `GET` but the price ceilings' `POST`/`DELETE` (a JSON body
//! `{product_name, price}`), with `Authorization: Bearer <key>` (our API key) and
//! `Accept: application/json`; the guest lists need no key.
//!
//! - An answer counts as a success only with HTTP 200 and `Content-Type` exactly
//!   `application/json` (the sync client compares the whole header): our JSON answers carry
//!   no `charset`. Anything else is an error, classified by the lower-cased body: `order not
//!   found`, `no free phones`, `not enough user balance`, `bad country`, `bad operator`, `no
//!   product`, … (401/403: a bad key whatever the body). 5sim answers `no free phones` with
//!   HTTP 200 and a plain-text body; the other words with 400 (404 for `order not found`).
//! - An order: `id` int, `phone`, `operator`, `product`, `price` number, `status`
//!   (PENDING, RECEIVED, CANCELED, TIMEOUT, FINISHED, BANNED), `expires` and `created_at`
//!   (ISO 8601), `sms` null or `[{created_at, date, sender, text, code}]` (every field
//!   required, `code` a string), `country`.
//! - The profile also needs `did_order`, `last_order` (`country:product:operator:id:price`),
//!   `last_top_orders` (`{…,…}`, the same lines), `last_top_idx`, `total_active_orders`,
//!   an email address that validates, `rating` ≤ 96.
//! - `guest/countries` is read by key position (`iso`, `prefix`, `text_en`, `text_ru`, then
//!   the operators).
//!
//! The key is never logged.
pub mod errors;
pub mod shapes;

#[cfg(target_arch = "wasm32")]
mod guest;
#[cfg(target_arch = "wasm32")]
mod orders;
#[cfg(target_arch = "wasm32")]
mod user;

#[cfg(target_arch = "wasm32")]
pub use serve::serve;

#[cfg(target_arch = "wasm32")]
mod serve {
    use super::{guest, orders, user};
    use crate::app::fivesim::Action;
    use crate::domain::error::AppError;
    use crate::http::routes::FiveSimResource;
    use crate::http::server::Ctx;
    use crate::http::Reply;

    /// The resource's handler.
    pub async fn serve(ctx: &Ctx, resource: FiveSimResource) -> Result<Reply, AppError> {
        use FiveSimResource::*;
        match resource {
            Profile => user::profile(ctx).await,
            Payments => user::payments(ctx).await,
            MaxPrices => user::max_prices(ctx).await,
            Buy {
                country,
                operator,
                product,
            } => orders::buy(ctx, &country, &operator, &product).await,
            Check { id } => orders::check(ctx, &id).await,
            Finish { id } => orders::act(ctx, &id, Action::Finish).await,
            Cancel { id } => orders::act(ctx, &id, Action::Cancel).await,
            Ban { id } => orders::act(ctx, &id, Action::Ban).await,
            Inbox { id } => orders::inbox(ctx, &id).await,
            Orders => orders::list(ctx).await,
            Products { country, operator } => guest::products(ctx, &country, &operator).await,
            Prices => guest::prices(ctx).await,
            Countries => guest::countries(ctx).await,
        }
    }
}
