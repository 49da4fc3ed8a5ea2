//! The sms-activate protocol's operations (`http::dialects::smsactivate`): its integer ids
//! and numeric country / short service codes mapped onto the catalog, then the existing
//! operations — buy, status, set status, rent, rent status, price lists — do the work. No
//! rule lives here: what a status change may do, what a number costs, when a rent ends is
//! decided by `activations`, `rents`, `catalog` and the activation's Durable Object.
use super::activations::{self, BuyOrder, View};
use super::idempotency::{fresh, keyless, unsaved, Idem};
use super::rents::{self, RentOrder};
use super::{catalog, App};
use crate::domain::activation::{Command, Status};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::money::Money;
use crate::domain::smsactivate::{
    aggregate, Active, Bought, Country, CountryInfo, Offer, Phase, PriceLine, RentSms, RentStatus,
    Selection, SetStatus, Sms,
};
use crate::store::catalog as catalog_store;
use crate::store::smsactivate::{self as store, SaCountry, SaService};

const ACTIVATION: &str = "activation";
const RENT: &str = "rent";

/// The catalog country behind an sms-activate number.
async fn country(app: &App, c: Country) -> Result<SaCountry, AppError> {
    let found = match c {
        Country::Id(id) => store::country(&app.db()?, id).await?,
        Country::Invalid => None,
    };
    found.ok_or_else(|| AppError::new(Code::UnknownCountry, "no country with this number"))
}

/// The catalog service behind an sms-activate code.
async fn service(app: &App, code: &str) -> Result<SaService, AppError> {
    let found = store::service(&app.db()?, code).await?;
    found.ok_or_else(|| AppError::new(Code::UnknownService, format!("unknown service '{code}'")))
}

/// Why `get_number` bought nothing.
pub enum NotBought {
    /// The cheapest free number costs this much, above `maxPrice`.
    AboveMax(Money),
    Refused(AppError),
}

impl From<AppError> for NotBought {
    fn from(e: AppError) -> NotBought {
        NotBought::Refused(e)
    }
}

impl From<crate::store::StoreError> for NotBought {
    fn from(e: crate::store::StoreError) -> NotBought {
        NotBought::Refused(e.into())
    }
}

/// `getNumber` / `getNumberV2`: `activations::buy` on the mapped country and service.
pub async fn get_number(
    app: &App,
    account: &AccountId,
    selection: &Selection,
    max_price: Option<Money>,
) -> Result<Bought, NotBought> {
    let service = service(app, &selection.service).await?;
    let country = country(app, selection.country).await?;
    let order = BuyOrder {
        offer: catalog::Offer {
            country: country.code.clone(),
            service: service.code.clone(),
            operator: selection.operator.clone(),
        },
        max_price,
    };
    // Read before the purchase: nothing may fail once the money committed (the protocol has
    // no idempotency key, and its clients retry a 5xx with a new purchase).
    let operators = catalog_store::operators(&app.db()?, Some(&country.code)).await?;
    let bought = match activations::buy_keyless(app, account, order).await {
        Ok(bought) => bought,
        Err(e) if e.code == Code::PriceAboveMax => {
            let min = cheapest(
                app,
                &country.code,
                &service.code,
                selection.operator.as_deref(),
            )
            .await?;
            return Err(min.map_or(NotBought::Refused(e), NotBought::AboveMax));
        }
        Err(e) => return Err(e.into()),
    };
    let operator = operators.iter().find(|o| o.id == bought.operator);
    Ok(Bought {
        num: bought.num,
        number: bought.number,
        cost: bought.cost,
        currency: app.config.currency.clone(),
        country_id: country.sa_id,
        operator: operator.map_or(bought.operator.clone(), |o| o.name.clone()),
        created_at_ms: app.now_ms,
        expires_at_ms: bought.expires_at_ms,
    })
}

/// The cheapest free number's price for an offer (the `WRONG_MAX_PRICE:<min>` answer), from
/// the catalog's price list.
async fn cheapest(
    app: &App,
    country: &str,
    service: &str,
    operator: Option<&str>,
) -> Result<Option<Money>, AppError> {
    let list = catalog::prices(app, Some(service), Some(country)).await?;
    let min = list
        .rows
        .iter()
        .filter(|r| r.count > 0)
        .filter(|r| {
            operator.is_none_or(|o| r.operator == o || r.operator_name.eq_ignore_ascii_case(o))
        })
        .map(|r| r.cost)
        .min();
    Ok(min.map(Money::from_minor))
}

/// The `act_…` id behind an integer id (404 when there is none).
async fn activation_id(app: &App, id: i64) -> Result<String, AppError> {
    let found = store::object_id(&app.db()?, id, ACTIVATION).await?;
    found.ok_or_else(|| AppError::not_found("activation"))
}

/// How the protocol sees an activation's state, and its latest SMS.
fn phase(view: &View) -> (Phase, Option<Sms>) {
    let phase = match view.status {
        Status::Waiting if view.sms.is_empty() => Phase::Waiting,
        Status::Waiting => Phase::WaitingRetry,
        Status::Received => Phase::Received,
        Status::Complete => Phase::Complete,
        Status::Cancelled | Status::Expired => Phase::Refunded,
    };
    let latest = view.sms.last().map(|s| Sms {
        text: s.text.clone(),
        code: s.code.clone(),
        received_at: s.received_at.clone(),
    });
    (phase, latest)
}

/// `getStatus` / `getStatusV2`: `activations::status` (the caller's only).
pub async fn status(app: &App, key: &KeyHash, id: i64) -> Result<(Phase, Option<Sms>), AppError> {
    let act = activation_id(app, id).await?;
    Ok(phase(&activations::status(app, key, &act).await?))
}

/// What `setStatus` came to.
pub enum SetOutcome {
    Done,
    /// The activation had already ended in this phase.
    Ended(Phase),
}

/// `setStatus`: 3 → retry, 6 → complete, 8 → cancel through `activations::set_status`; 1
/// only reads the state (a live activation acknowledges it).
pub async fn set_status(
    app: &App,
    key: &KeyHash,
    id: i64,
    status: SetStatus,
) -> Result<SetOutcome, AppError> {
    let act = activation_id(app, id).await?;
    let command = match status {
        SetStatus::Ready => {
            let view = activations::status(app, key, &act).await?;
            return Ok(if view.status.is_terminal() {
                SetOutcome::Ended(phase(&view).0)
            } else {
                SetOutcome::Done
            });
        }
        SetStatus::Retry => Command::Retry,
        SetStatus::Complete => Command::Complete,
        SetStatus::Cancel => Command::Cancel,
    };
    match activations::set_status(app, key, &act, command).await {
        Ok(_) => Ok(SetOutcome::Done),
        Err(e) if e.code == Code::ActivationEnded => {
            let view = activations::status(app, key, &act).await?;
            Ok(SetOutcome::Ended(phase(&view).0))
        }
        Err(e) => Err(e),
    }
}

/// `getActiveActivations`: the account's live activations (as D1 mirrors them).
pub async fn active(app: &App, account: &AccountId) -> Result<Vec<Active>, AppError> {
    let db = app.db()?;
    let currency = &app.config.currency;
    Ok(store::active_activations(&db, account.as_str(), app.now_ms, currency).await?)
}

/// The catalog's countries and services that have sms-activate numbers and codes.
struct Codes {
    countries: Vec<SaCountry>,
    services: Vec<SaService>,
}

impl Codes {
    async fn load(app: &App) -> Result<Codes, AppError> {
        let db = app.db()?;
        Ok(Codes {
            countries: store::countries(&db).await?,
            services: store::services(&db).await?,
        })
    }

    fn country_id(&self, iso: &str) -> Option<i64> {
        self.countries
            .iter()
            .find(|c| c.code == iso)
            .map(|c| c.sa_id)
    }

    fn service_code(&self, code: &str) -> Option<&str> {
        self.services
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.sa_code.as_str())
    }

    /// The catalog country of a `country` parameter, if it names one.
    fn country(&self, c: Country) -> Option<&SaCountry> {
        match c {
            Country::Id(id) => self.countries.iter().find(|x| x.sa_id == id),
            Country::Invalid => None,
        }
    }
}

/// `getPrices` / `getNumbersStatus`: the catalog's price list with stock (`catalog::prices`)
/// per sms-activate (country, service), for a country and an operator (id or name).
async fn offers(
    app: &App,
    codes: &Codes,
    service: Option<&str>,
    country: Option<&str>,
    operator: Option<&str>,
) -> Result<Vec<Offer>, AppError> {
    let list = catalog::prices(app, service, country).await?;
    let lines: Vec<PriceLine> = list
        .rows
        .iter()
        .filter(|r| {
            operator.is_none_or(|o| r.operator == o || r.operator_name.eq_ignore_ascii_case(o))
        })
        .filter_map(|r| {
            Some(PriceLine {
                country_id: codes.country_id(&r.country)?,
                service_code: codes.service_code(&r.service)?.to_owned(),
                cost: Money::from_minor(r.cost),
                count: r.count,
            })
        })
        .collect();
    Ok(aggregate(&lines))
}

/// `getPrices`: unknown service code → `UnknownService`; a country we do not serve → empty.
pub async fn prices(
    app: &App,
    service: Option<&str>,
    country: Option<Country>,
) -> Result<Vec<Offer>, AppError> {
    let codes = Codes::load(app).await?;
    let service = match service {
        None => None,
        Some(code) => Some(
            codes
                .services
                .iter()
                .find(|s| s.sa_code == code)
                .map(|s| s.code.clone())
                .ok_or_else(|| {
                    AppError::new(Code::UnknownService, format!("unknown service '{code}'"))
                })?,
        ),
    };
    let iso = match country {
        None => None,
        Some(c) => match codes.country(c) {
            Some(found) => Some(found.code.clone()),
            None => return Ok(Vec::new()),
        },
    };
    offers(app, &codes, service.as_deref(), iso.as_deref(), None).await
}

/// `getNumbersStatus`: free numbers per service code in one country (and operator).
pub async fn numbers_status(
    app: &App,
    country: Country,
    operator: Option<&str>,
) -> Result<Vec<(String, i64)>, AppError> {
    let codes = Codes::load(app).await?;
    let Some(found) = codes.country(country) else {
        return Ok(Vec::new());
    };
    let iso = found.code.clone();
    let list = offers(app, &codes, None, Some(&iso), operator).await?;
    Ok(list
        .into_iter()
        .map(|o| (o.service_code, o.count))
        .collect())
}

/// `getCountries`.
pub async fn countries(app: &App) -> Result<Vec<CountryInfo>, AppError> {
    let list = store::countries(&app.db()?).await?;
    Ok(list
        .into_iter()
        .map(|c| CountryInfo {
            id: c.sa_id,
            iso: c.code,
            name: c.name,
        })
        .collect())
}

/// `getServicesList`: (code, name).
pub async fn services(app: &App) -> Result<Vec<(String, String)>, AppError> {
    let list = store::services(&app.db()?).await?;
    Ok(list.into_iter().map(|s| (s.sa_code, s.name)).collect())
}

/// `getOperators`: (country number, operator name), by name.
pub async fn operators(
    app: &App,
    country: Option<Country>,
) -> Result<Vec<(i64, String)>, AppError> {
    let codes = Codes::load(app).await?;
    let iso = match country {
        None => None,
        Some(c) => match codes.country(c) {
            Some(found) => Some(found.code.clone()),
            None => return Ok(Vec::new()),
        },
    };
    let mut list: Vec<(i64, String)> = catalog_store::operators(&app.db()?, iso.as_deref())
        .await?
        .into_iter()
        .filter_map(|o| Some((codes.country_id(&o.country)?, o.name)))
        .collect();
    list.sort_unstable();
    Ok(list)
}

/// `getRentServicesAndCountries` for one country and duration: the country's number, its
/// operators' names, and per service the cheapest rent with a free number and the stock.
pub async fn rent_offers(
    app: &App,
    country: Country,
    operator: Option<&str>,
    hours: i64,
) -> Result<(i64, Vec<String>, Vec<Offer>), AppError> {
    let codes = Codes::load(app).await?;
    let Some(found) = codes.country(country) else {
        let id = match country {
            Country::Id(id) => id,
            Country::Invalid => 0,
        };
        return Ok((id, Vec::new(), Vec::new()));
    };
    let db = app.db()?;
    let operators = catalog_store::operators(&db, Some(&found.code)).await?;
    let operator_id = match operator {
        None => None,
        Some(o) => match catalog::find_operator(&operators, Some(&found.code), o) {
            Some(op) => Some(op.id.clone()),
            None => return Ok((found.sa_id, Vec::new(), Vec::new())),
        },
    };
    let mut names: Vec<String> = operators.iter().map(|o| o.name.clone()).collect();
    names.sort_unstable();
    let rows =
        store::rent_offers(&db, &found.code, operator_id.as_deref(), hours, app.now_ms).await?;
    let lines: Vec<PriceLine> = rows
        .into_iter()
        .map(|r| PriceLine {
            country_id: found.sa_id,
            service_code: r.sa_service,
            cost: Money::from_minor(r.cost),
            count: r.count,
        })
        .collect();
    Ok((found.sa_id, names, aggregate(&lines)))
}

/// A rent as `getRentNumber` answers it.
pub struct RentedNumber {
    pub num: i64,
    pub number: String,
    pub expires_at_ms: i64,
}

/// `getRentNumber`: `rents::rent` on the mapped country and service, for `hours`.
pub async fn get_rent_number(
    app: &App,
    account: &AccountId,
    selection: &Selection,
    hours: i64,
) -> Result<RentedNumber, AppError> {
    let service = service(app, &selection.service).await?;
    let country = country(app, selection.country).await?;
    let order = RentOrder {
        offer: catalog::Offer {
            country: country.code,
            service: service.code,
            operator: selection.operator.clone(),
        },
        hours: Some(hours),
    };
    let request = keyless(account.as_str());
    let idem = Idem::new(&request, &unsaved);
    let rented = fresh(rents::rent(app, account, order, idem).await?)?;
    Ok(RentedNumber {
        num: rented.num,
        number: rented.number,
        expires_at_ms: rented.expires_at_ms,
    })
}

/// The caller's rent behind an integer id (`rents::status`; 404 when not theirs).
async fn rent_view(app: &App, account: &AccountId, id: i64) -> Result<rents::RentView, AppError> {
    let found = store::object_id(&app.db()?, id, RENT).await?;
    let rent_id = found.ok_or_else(|| AppError::not_found("rent"))?;
    rents::status(app, account, &rent_id).await
}

/// `getRentStatus`: whether the rent has ended, and the SMS its number received.
pub async fn rent_status(
    app: &App,
    account: &AccountId,
    id: i64,
) -> Result<(bool, Vec<RentSms>), AppError> {
    let view = rent_view(app, account, id).await?;
    let code = store::services(&app.db()?)
        .await?
        .into_iter()
        .find(|s| s.code == view.rent.service)
        .map_or(view.rent.service.clone(), |s| s.sa_code);
    let sms = view
        .sms
        .into_iter()
        .map(|s| RentSms {
            from: s.sender,
            text: s.text,
            service_code: code.clone(),
            received_at: s.received_at,
        })
        .collect();
    Ok((!view.active, sms))
}

/// What `setRentStatus` came to. A rent runs to its end and is never refunded
/// (`rents`): finishing early changes nothing, cancelling is refused.
pub enum RentSet {
    Finished,
    CannotCancel,
    AlreadyEnded,
}

pub async fn set_rent_status(
    app: &App,
    account: &AccountId,
    id: i64,
    status: RentStatus,
) -> Result<RentSet, AppError> {
    let view = rent_view(app, account, id).await?;
    Ok(match (view.active, status) {
        (false, _) => RentSet::AlreadyEnded,
        (true, RentStatus::Finish) => RentSet::Finished,
        (true, RentStatus::Cancel) => RentSet::CannotCancel,
    })
}

/// `getRentList`: the account's rents that have not ended.
pub async fn rent_list(app: &App, account: &AccountId) -> Result<Vec<(i64, String)>, AppError> {
    Ok(store::live_rents(&app.db()?, account.as_str(), app.now_ms).await?)
}
