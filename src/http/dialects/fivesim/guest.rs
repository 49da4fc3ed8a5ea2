//! The guest lists (no key): countries, products of a country and operator, prices.
use super::shapes::{self, reply};
use crate::app::fivesim as ops;
use crate::domain::error::{AppError, Code};
use crate::domain::fivesim::{products as fold, Pick};
use crate::http::reply::JSON_BARE;
use crate::http::server::Ctx;
use crate::http::Reply;

/// `GET /v1/guest/countries`.
pub async fn countries(ctx: &Ctx) -> Result<Reply, AppError> {
    let list = ops::countries(&ctx.app).await?;
    Ok(Reply::raw(200, JSON_BARE, shapes::countries(&list)))
}

/// `GET /v1/guest/products/{country}/{operator}` (either may be `any`).
pub async fn products(ctx: &Ctx, country: &str, operator: &str) -> Result<Reply, AppError> {
    let (country, operator) = (Pick::parse(country), Pick::parse(operator));
    let entries = ops::products(&ctx.app, &country, &operator).await?;
    Ok(reply(&shapes::products(&fold(&entries))))
}

/// `GET /v1/guest/prices?country&product`; a name we do not know is refused in 5sim's
/// words for this list.
pub async fn prices(ctx: &Ctx) -> Result<Reply, AppError> {
    let country = ctx.query("country").filter(|v| !v.is_empty());
    let product = ctx.query("product").filter(|v| !v.is_empty());
    match ops::prices(&ctx.app, country.as_deref(), product.as_deref()).await {
        Ok(entries) => {
            let product_first = country.is_none() && product.is_some();
            Ok(reply(&shapes::prices(&entries, product_first)))
        }
        Err(e) if e.code == Code::UnknownCountry => Ok(Reply::text(400, "country is incorrect")),
        Err(e) if e.code == Code::UnknownService => Ok(Reply::text(400, "product is incorrect")),
        Err(e) => Err(e),
    }
}
