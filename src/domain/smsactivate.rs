//! The sms-activate handler protocol (`/stubs/handler_api.php`): parse a request into a typed
//! action, render each typed answer as the protocol's text or JSON. Pure: no I/O, no worker
//! types; the dialect module (`http`) resolves codes and ids and calls the app operations.
//!
//! # Wire spec, as the published clients send and parse it (read from their source)
//!
//! Clients: the official `smsactivate` 1.5 (PyPI; `requests`), `aiosmsactivate` 1.5.1
//! (`aiohttp` + pydantic) and `herosms` 0.1.1 (`httpx` + pydantic v2).
//!
//! **Request.** One URL, `…/stubs/handler_api.php`; everything in the query string:
//! `api_key`, `action`, then the action's parameters. `smsactivate` and `herosms` use GET;
//! `aiosmsactivate` sends POST with the same query string and no body. Some clients post a
//! form body instead, so a form body's fields are read too (query first). `aiosmsactivate`
//! spells some rent parameters with a trailing space (`"time "`), so names are trimmed.
//! `smsactivate` leaves a parameter out when it is falsy (`if id:`), so `id=0` never arrives.
//! `herosms` drops `None`s and sends booleans as `True`/`False`.
//!
//! **Base URL.** `smsactivate` hard-codes `https://api.sms-activate.org/stubs/handler_api.php`
//! in the private attribute `_SMSActivateAPI__api_url` (set it after construction);
//! `aiosmsactivate` takes `base_url=` (a string or a list tried in order); `herosms` takes
//! `base_url=`. All three want the full URL including `/stubs/handler_api.php`.
//!
//! **Answers and how each client parses them.**
//! - Errors are bare words. `smsactivate` compares the whole body against its error table
//!   (`NO_NUMBERS`, `NO_BALANCE`, `BAD_ACTION`, `BAD_SERVICE`, `BAD_KEY`, `ERROR_SQL`,
//!   `NO_ACTIVATION`, `BAD_STATUS`, `STATUS_CANCEL`, `NO_KEY`, rent words `NO_ID_RENT`,
//!   `INVALID_PHONE`, `INCORECT_STATUS`, `CANT_CANCEL`, `ALREADY_FINISH`, `ALREADY_CANCEL`, …)
//!   before parsing, and answers `{"error": word, "message": …}`; a word not in its table
//!   (`EARLY_CANCEL_DENIED`, `WRONG_MAX_PRICE:<min>`) is returned raw by `setStatus`, but makes
//!   its `getNumber` raise (it slices and `int()`s the body). `aiosmsactivate` splits the body
//!   at `:` and raises on any known word; a JSON body with `"status":"error"` raises with its
//!   `message`. `herosms` raises on HTTP ≥ 400 and retries 5xx: protocol errors are HTTP 200.
//! - `getBalance` → `ACCESS_BALANCE:25.00`. `smsactivate` keeps `body[15:]` as a string;
//!   `aiosmsactivate` and `herosms` `float()` the part after `:`. A decimal point always.
//! - `getNumber` → `ACCESS_NUMBER:<id>:<phone>`. `smsactivate` takes `body[14:]`, splits at
//!   `:` and `int()`s both: the id is an integer and the phone digits without `+`.
//! - `getNumberV2` → JSON. `aiosmsactivate`'s model: `activationId` int, `phoneNumber` str,
//!   `activationCost` float, `countryCode` **str** (pydantic refuses an int), `canGetAnotherSms`
//!   bool, `activationTime` str parsed with `%Y-%m-%d %H:%M:%S`, `activationOperator` str (all
//!   required). `herosms` additionally requires `currency` int (ISO 4217 number: 840 = USD),
//!   reads `countryCode` as int (a numeric string passes), `activationTime`/`activationEndTime`
//!   as datetimes.
//! - `setStatus` (`id`, `status`) → `ACCESS_READY` (1), `ACCESS_RETRY_GET` (3),
//!   `ACCESS_ACTIVATION` (6), `ACCESS_CANCEL` (8); `aiosmsactivate` maps the body through
//!   exactly these four. Refusals: `EARLY_CANCEL_DENIED`, `BAD_STATUS`, `NO_ACTIVATION`,
//!   `STATUS_CANCEL`.
//! - `getStatus` (`id`) → `STATUS_WAIT_CODE`, `STATUS_WAIT_RETRY:<last code>`,
//!   `STATUS_OK:<code>`, `STATUS_CANCEL`; `aiosmsactivate` splits at `:` and takes `[1]`.
//! - `getStatusV2` → JSON `{"verificationType","sms":{"dateTime","code","text"}|null,"call"}`
//!   (`aiosmsactivate`: `code` and `text` str when `sms` is present; `herosms` polls until
//!   `sms.code` or `sms.text` is non-empty).
//! - `getActiveActivations` → `{"status":"success","activeActivations":[…]}`; `herosms`
//!   reads a `data` list instead and types each item: `activationId` int, `serviceCode`,
//!   `phoneNumber`, `activationStatus` str, `activationCost` float, `smsCode`/`smsText`
//!   str|null, `countryCode` int, `canGetAnotherSms` str, `currency` int. Both lists are sent.
//! - `getPrices` (`service`, `country`) → `{"<country id>":{"<service code>":{"cost","count"}}}`
//!   (`herosms`: `cost` float, `count` int). `getCountries` → `{"<id>":{"id",…,"eng",…}}`
//!   (`herosms`: `id` int, `visible`/`retry` int). `getNumbersStatus` (`country`,
//!   `operator`) → `{"tg_0":12,…}` (service `_` forwarding flag).
//! - Rent answers are JSON, errors too: `{"status":"error","message":"<WORD>"}`.
//!   `getRentServicesAndCountries` (`time`, `operator`, `country`) →
//!   `{"countries":{…},"operators":{…},"services":{"<code>":{"cost","quant"}}}`;
//!   `getRentNumber` (`service`, `time` in hours, default 4, `operator`, `country`) →
//!   `{"status":"success","phone":{"id","endDate","number"}}`; `getRentStatus` (`id`) →
//!   `{"status":"success","quantity","values":{"0":{"phoneFrom","text","service","date"}}}`,
//!   or the error words `STATUS_WAIT_CODE` / `STATUS_FINISH`; `setRentStatus` (`id`, `status`
//!   1 finish, 2 cancel) → `{"status":"success"}`; `getRentList` →
//!   `{"status":"success","values":{"0":{"id","phone"}}}`.
//!
//! Times are UTC `YYYY-MM-DD HH:MM:SS` (sms-activate itself uses Moscow time).
use super::error::Code;
use super::money::Money;
use super::time::sql_datetime;
use serde_json::{json, Map, Value};

/// ISO 4217 numeric codes of the currencies a deployment may bill in.
pub fn currency_number(code: &str) -> u16 {
    match code.to_ascii_uppercase().as_str() {
        "EUR" => 978,
        "RUB" => 643,
        "CNY" => 156,
        "GBP" => 826,
        "INR" => 356,
        _ => 840, // USD, the default CURRENCY
    }
}

/// The request's parameters: the query string first, then a form body's fields. Names are
/// trimmed; the first occurrence of a name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str, form_body: Option<&[u8]>) -> Params {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.trim().to_owned(), v.into_owned()))
            .collect();
        if let Some(body) = form_body {
            pairs.extend(
                form_urlencoded::parse(body).map(|(k, v)| (k.trim().to_owned(), v.into_owned())),
            );
        }
        Params(pairs)
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The key, as given (its shape is checked by the caller).
    pub fn api_key(&self) -> Option<&str> {
        self.get("api_key")
    }
}

/// The protocol's error words (and the two status words that double as refusals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    NoKey,
    BadKey,
    BadAction,
    BadService,
    NoNumbers,
    NoBalance,
    /// The cheapest number available costs this much.
    WrongMaxPrice(Money),
    NoActivation,
    BadStatus,
    EarlyCancelDenied,
    /// The activation was cancelled or expired (refunded).
    StatusCancel,
    /// A server-side failure (D1 unavailable, …); never a reaction to input.
    ErrorSql,
    // Rent.
    NoIdRent,
    InvalidPhone,
    IncorrectStatus,
    CantCancel,
    AlreadyFinish,
    InvalidTime,
    StatusWaitCode,
    StatusFinish,
}

impl Word {
    pub fn text(&self) -> String {
        let s = match self {
            Word::NoKey => "NO_KEY",
            Word::BadKey => "BAD_KEY",
            Word::BadAction => "BAD_ACTION",
            Word::BadService => "BAD_SERVICE",
            Word::NoNumbers => "NO_NUMBERS",
            Word::NoBalance => "NO_BALANCE",
            Word::WrongMaxPrice(min) => {
                return format!("WRONG_MAX_PRICE:{}", min.to_decimal_string())
            }
            Word::NoActivation => "NO_ACTIVATION",
            Word::BadStatus => "BAD_STATUS",
            Word::EarlyCancelDenied => "EARLY_CANCEL_DENIED",
            Word::StatusCancel => "STATUS_CANCEL",
            Word::ErrorSql => "ERROR_SQL",
            Word::NoIdRent => "NO_ID_RENT",
            Word::InvalidPhone => "INVALID_PHONE",
            Word::IncorrectStatus => "INCORECT_STATUS", // sic: the protocol's spelling
            Word::CantCancel => "CANT_CANCEL",
            Word::AlreadyFinish => "ALREADY_FINISH",
            Word::InvalidTime => "INVALID_TIME",
            Word::StatusWaitCode => "STATUS_WAIT_CODE",
            Word::StatusFinish => "STATUS_FINISH",
        };
        s.to_owned()
    }
}

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    GetBalance,
    GetNumber {
        selection: Selection,
        max_price: Option<Money>,
    },
    GetNumberV2 {
        selection: Selection,
        max_price: Option<Money>,
    },
    SetStatus {
        id: i64,
        status: SetStatus,
    },
    GetStatus {
        id: i64,
    },
    GetStatusV2 {
        id: i64,
    },
    GetActiveActivations,
    GetPrices {
        service: Option<String>,
        country: Option<Country>,
    },
    GetCountries,
    GetServicesList,
    GetOperators {
        country: Option<Country>,
    },
    GetNumbersStatus {
        country: Country,
        operator: Option<String>,
    },
    GetRentServicesAndCountries {
        country: Country,
        operator: Option<String>,
        hours: i64,
    },
    GetRentNumber {
        selection: Selection,
        hours: i64,
    },
    GetRentStatus {
        id: i64,
    },
    SetRentStatus {
        id: i64,
        status: RentStatus,
    },
    GetRentList,
}

/// The rent duration when `time` is absent (sms-activate's default).
pub const DEFAULT_RENT_HOURS: i64 = 4;

/// Rent actions answer their errors as JSON `{"status":"error","message":WORD}`.
pub fn is_rent_action(action: &str) -> bool {
    matches!(
        action,
        "getRentServicesAndCountries"
            | "getRentNumber"
            | "getRentStatus"
            | "setRentStatus"
            | "getRentList"
    )
}

impl Action {
    /// Rent actions answer their errors as JSON (`is_rent_action`).
    pub fn json_errors(&self) -> bool {
        is_rent_action(self.name())
    }

    /// The protocol name, for logs (a request is logged by its action, never its key).
    pub fn name(&self) -> &'static str {
        match self {
            Action::GetBalance => "getBalance",
            Action::GetNumber { .. } => "getNumber",
            Action::GetNumberV2 { .. } => "getNumberV2",
            Action::SetStatus { .. } => "setStatus",
            Action::GetStatus { .. } => "getStatus",
            Action::GetStatusV2 { .. } => "getStatusV2",
            Action::GetActiveActivations => "getActiveActivations",
            Action::GetPrices { .. } => "getPrices",
            Action::GetCountries => "getCountries",
            Action::GetServicesList => "getServicesList",
            Action::GetOperators { .. } => "getOperators",
            Action::GetNumbersStatus { .. } => "getNumbersStatus",
            Action::GetRentServicesAndCountries { .. } => "getRentServicesAndCountries",
            Action::GetRentNumber { .. } => "getRentNumber",
            Action::GetRentStatus { .. } => "getRentStatus",
            Action::SetRentStatus { .. } => "setRentStatus",
            Action::GetRentList => "getRentList",
        }
    }
}

/// An activation or rent id: a positive integer (at most 18 digits).
fn parse_id(v: Option<&str>) -> Option<i64> {
    let v = v?;
    if v.is_empty() || v.len() > 18 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i64>().ok().filter(|n| *n > 0)
}

fn parse_country(v: Option<&str>) -> Option<Country> {
    let v = v?;
    let ok = !v.is_empty() && v.len() <= 9 && v.bytes().all(|b| b.is_ascii_digit());
    Some(if ok {
        v.parse::<i64>().map_or(Country::Invalid, Country::Id)
    } else {
        Country::Invalid
    })
}

fn parse_operator(v: Option<&str>) -> Option<String> {
    v.filter(|o| !o.eq_ignore_ascii_case("any"))
        .map(str::to_owned)
}

/// A service code: 1 to 16 of `[a-z0-9_]` (case-insensitive on input).
fn parse_service(v: Option<&str>) -> Result<String, Word> {
    let v = v.ok_or(Word::BadService)?.to_ascii_lowercase();
    if (1..=16).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(v)
    } else {
        Err(Word::BadService)
    }
}

fn selection(p: &Params) -> Result<Selection, Word> {
    Ok(Selection {
        service: parse_service(p.get("service"))?,
        country: parse_country(p.get("country")).unwrap_or(Country::Id(0)),
        operator: parse_operator(p.get("operator")),
    })
}

/// `maxPrice`: a decimal. One that is not a valid amount is taken as 0, below every price,
/// so the answer is `WRONG_MAX_PRICE:<the cheapest price>` — the protocol's own word for it.
fn parse_max_price(v: Option<&str>) -> Option<Money> {
    v.map(|s| Money::parse_decimal(s).unwrap_or_default())
}

/// `time` of a rent, in hours: 1 to 8760 (the catalog's bounds); default 4.
fn parse_hours(v: Option<&str>) -> Result<i64, Word> {
    match v {
        None => Ok(DEFAULT_RENT_HOURS),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|h| (1..=8760).contains(h))
            .ok_or(Word::InvalidTime),
    }
}

/// The action and its parameters. Key checks come first and are the caller's.
pub fn parse(p: &Params) -> Result<Action, Word> {
    let action = p.get("action").ok_or(Word::BadAction)?;
    Ok(match action {
        "getBalance" | "getBalanceAndCashBack" => Action::GetBalance,
        "getNumber" => Action::GetNumber {
            selection: selection(p)?,
            max_price: parse_max_price(p.get("maxPrice")),
        },
        "getNumberV2" => Action::GetNumberV2 {
            selection: selection(p)?,
            max_price: parse_max_price(p.get("maxPrice")),
        },
        "setStatus" => {
            let id = parse_id(p.get("id")).ok_or(Word::NoActivation)?;
            let status = match p.get("status") {
                Some("1") => SetStatus::Ready,
                Some("3") => SetStatus::Retry,
                Some("6") => SetStatus::Complete,
                Some("8") => SetStatus::Cancel,
                _ => return Err(Word::BadStatus),
            };
            Action::SetStatus { id, status }
        }
        "getStatus" => Action::GetStatus {
            id: parse_id(p.get("id")).ok_or(Word::NoActivation)?,
        },
        "getStatusV2" => Action::GetStatusV2 {
            id: parse_id(p.get("id")).ok_or(Word::NoActivation)?,
        },
        "getActiveActivations" => Action::GetActiveActivations,
        "getPrices" => Action::GetPrices {
            service: match p.get("service") {
                None => None,
                s => Some(parse_service(s)?),
            },
            country: parse_country(p.get("country")),
        },
        "getCountries" => Action::GetCountries,
        "getServicesList" => Action::GetServicesList,
        "getOperators" => Action::GetOperators {
            country: parse_country(p.get("country")),
        },
        "getNumbersStatus" => Action::GetNumbersStatus {
            country: parse_country(p.get("country")).unwrap_or(Country::Id(0)),
            operator: parse_operator(p.get("operator")),
        },
        "getRentServicesAndCountries" => Action::GetRentServicesAndCountries {
            country: parse_country(p.get("country")).unwrap_or(Country::Id(0)),
            operator: parse_operator(p.get("operator")),
            hours: parse_hours(p.get("time"))?,
        },
        "getRentNumber" => Action::GetRentNumber {
            selection: selection(p)?,
            hours: parse_hours(p.get("time"))?,
        },
        "getRentStatus" => Action::GetRentStatus {
            id: parse_id(p.get("id")).ok_or(Word::NoIdRent)?,
        },
        "setRentStatus" => {
            let id = parse_id(p.get("id")).ok_or(Word::NoIdRent)?;
            let status = match p.get("status") {
                Some("1") => RentStatus::Finish,
                Some("2") => RentStatus::Cancel,
                _ => return Err(Word::IncorrectStatus),
            };
            Action::SetRentStatus { id, status }
        }
        "getRentList" => Action::GetRentList,
        _ => return Err(Word::BadAction),
    })
}

/// The protocol word for an application error, where the protocol has one (`None`: not a
/// reaction to the request — the front door answers it, e.g. a 500 `ERROR_SQL`). `rent`:
/// the error of a rent action, where "not found" is `INVALID_PHONE`.
pub fn word_for(code: Code, rent: bool) -> Option<Word> {
    Some(match code {
        Code::Unauthorized => Word::BadKey,
        Code::InsufficientFunds => Word::NoBalance,
        // An account awaiting the operator's approval may not pay yet (README "Accounts and
        // keys"); the protocol has no word for it, and `NO_BALANCE` is what a client shows.
        Code::NotApproved => Word::NoBalance,
        // sms-activate's country list is fixed: a country, operator or offer we do not
        // serve simply has no numbers.
        Code::NoNumbers | Code::NotOffered | Code::UnknownCountry | Code::UnknownOperator => {
            Word::NoNumbers
        }
        Code::UnknownService => Word::BadService,
        Code::NotFound if rent => Word::InvalidPhone,
        Code::NotFound => Word::NoActivation,
        Code::CancelTooEarly => Word::EarlyCancelDenied,
        Code::SmsAlreadyReceived | Code::NoSmsYet | Code::ActivationEnded => Word::BadStatus,
        _ => return None,
    })
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
    out.sort_by(|a, b| (a.country_id, &a.service_code).cmp(&(b.country_id, &b.service_code)));
    out
}

// ---------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------

/// A rendered answer: a text word or a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub enum Wire {
    Text(String),
    Json(Value),
}

impl Wire {
    pub fn body(&self) -> String {
        match self {
            Wire::Text(t) => t.clone(),
            Wire::Json(v) => v.to_string(),
        }
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            Wire::Text(_) => "text/plain; charset=utf-8",
            Wire::Json(_) => "application/json; charset=utf-8",
        }
    }
}

/// An error in the action's own style: a bare word, or JSON for rent actions.
pub fn error(word: &Word, json_style: bool) -> Wire {
    if json_style {
        Wire::Json(json!({"status": "error", "message": word.text()}))
    } else {
        Wire::Text(word.text())
    }
}

/// `+14155550100` → `14155550100` (the protocol's phones have no `+`).
pub fn phone_digits(e164: &str) -> String {
    e164.trim_start_matches('+').to_owned()
}

/// `ACCESS_BALANCE:25.00`: at least two decimals (clients match `\d+\.\d+`), up to four
/// when the balance has sub-cent units (never rounded).
pub fn balance(amount: Money) -> Wire {
    Wire::Text(format!("ACCESS_BALANCE:{}", amount.to_decimal_string()))
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

/// `ACCESS_NUMBER:<id>:<phone>`
pub fn number(b: &Bought) -> Wire {
    Wire::Text(format!(
        "ACCESS_NUMBER:{}:{}",
        b.num,
        phone_digits(&b.number)
    ))
}

pub fn number_v2(b: &Bought) -> Wire {
    Wire::Json(json!({
        "activationId": b.num,
        "phoneNumber": phone_digits(&b.number),
        "activationCost": b.cost.as_f64(),
        "currency": currency_number(&b.currency),
        "countryCode": b.country_id.to_string(),
        "canGetAnotherSms": true,
        "activationTime": sql_datetime(b.created_at_ms),
        "activationEndTime": sql_datetime(b.expires_at_ms),
        "activationOperator": b.operator,
    }))
}

/// The answer to an accepted `setStatus`.
pub fn set_status(status: SetStatus) -> Wire {
    Wire::Text(
        match status {
            SetStatus::Ready => "ACCESS_READY",
            SetStatus::Retry => "ACCESS_RETRY_GET",
            SetStatus::Complete => "ACCESS_ACTIVATION",
            SetStatus::Cancel => "ACCESS_CANCEL",
        }
        .to_owned(),
    )
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
    fn code_or_text(&self) -> &str {
        self.code.as_deref().unwrap_or(&self.text)
    }
}

/// `2026-11-30T19:40:00.123Z` → `2026-11-30 19:40:00`; anything else is passed through.
pub fn protocol_time(rfc3339: &str) -> String {
    let b = rfc3339.as_bytes();
    let shaped = b.len() >= 19
        && b.iter().take(19).enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T' || *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    match rfc3339.get(..19) {
        Some(head) if shaped => head.replacen('T', " ", 1),
        _ => rfc3339.to_owned(),
    }
}

/// `getStatus`: `STATUS_WAIT_CODE`, `STATUS_WAIT_RETRY:<last code>`, `STATUS_OK:<code>`,
/// `STATUS_CANCEL`.
pub fn status(phase: Phase, latest: Option<&Sms>) -> Wire {
    let code = latest.map(Sms::code_or_text).unwrap_or_default();
    Wire::Text(match phase {
        Phase::Waiting => "STATUS_WAIT_CODE".to_owned(),
        Phase::WaitingRetry => format!("STATUS_WAIT_RETRY:{code}"),
        Phase::Received | Phase::Complete => format!("STATUS_OK:{code}"),
        Phase::Refunded => "STATUS_CANCEL".to_owned(),
    })
}

/// `getStatusV2`: JSON with the latest SMS (or `null` while waiting); `STATUS_CANCEL` once
/// refunded.
pub fn status_v2(phase: Phase, latest: Option<&Sms>) -> Wire {
    if phase == Phase::Refunded {
        return Wire::Text("STATUS_CANCEL".to_owned());
    }
    let sms = match (phase, latest) {
        (Phase::Received | Phase::Complete, Some(s)) => json!({
            "dateTime": protocol_time(&s.received_at),
            "code": s.code.clone().unwrap_or_default(),
            "text": s.text,
        }),
        _ => Value::Null,
    };
    Wire::Json(json!({"verificationType": 0, "sms": sms, "call": null}))
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

/// `activationStatus` of a live activation: "1" waiting for an SMS, "3" waiting for another
/// SMS after a retry, "4" an SMS is there.
fn activation_status_code(phase: Phase) -> &'static str {
    match phase {
        Phase::Waiting => "1",
        Phase::WaitingRetry => "3",
        Phase::Received | Phase::Complete => "4",
        Phase::Refunded => "8",
    }
}

pub fn active_activations(list: &[Active]) -> Wire {
    let items: Vec<Value> = list
        .iter()
        .map(|a| {
            let has_sms = matches!(a.phase, Phase::Received | Phase::Complete);
            let sms = a.latest.as_ref().filter(|_| has_sms);
            json!({
                "activationId": a.num,
                "serviceCode": a.service_code,
                "phoneNumber": phone_digits(&a.number),
                "activationCost": a.cost.as_f64(),
                "activationStatus": activation_status_code(a.phase),
                "smsCode": sms.map(|s| s.code_or_text().to_owned()),
                "smsText": sms.map(|s| s.text.clone()),
                "activationTime": sql_datetime(a.created_at_ms),
                "discount": "0.00",
                "repeated": "0",
                "countryCode": a.country_id.map(|c| c.to_string()),
                "countryName": a.country_name,
                "canGetAnotherSms": "1",
                "currency": currency_number(&a.currency),
            })
        })
        .collect();
    Wire::Json(json!({"status": "success", "activeActivations": items, "data": items}))
}

/// One (country, service) offer with its cheapest price and its free stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub country_id: i64,
    pub service_code: String,
    pub cost: Money,
    pub count: i64,
}

/// `getPrices`: `{"187":{"tg":{"cost":0.05,"count":12}}}`.
pub fn prices(offers: &[Offer]) -> Wire {
    let mut by_country = Map::new();
    for o in offers {
        let entry = by_country
            .entry(o.country_id.to_string())
            .or_insert_with(|| json!({}));
        if let Some(m) = entry.as_object_mut() {
            m.insert(
                o.service_code.clone(),
                json!({"cost": o.cost.as_f64(), "count": o.count}),
            );
        }
    }
    Wire::Json(Value::Object(by_country))
}

/// A catalog country with its sms-activate number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryInfo {
    pub id: i64,
    pub iso: String,
    pub name: String,
}

/// `getCountries`: `{"187":{"id":187,"rus":…,"eng":…,"chn":…,"visible":1,"retry":1,…}}`. The
/// catalog holds one (English) name; it fills the three name fields.
pub fn countries(list: &[CountryInfo]) -> Wire {
    let mut m = Map::new();
    for c in list {
        m.insert(
            c.id.to_string(),
            json!({"id": c.id, "rus": c.name, "eng": c.name, "chn": c.name,
                "iso": c.iso, "visible": 1, "retry": 1, "rent": 1, "multiService": 0}),
        );
    }
    Wire::Json(Value::Object(m))
}

/// `getServicesList`: `{"status":"success","services":[{"code","name"}]}`.
pub fn services(list: &[(String, String)]) -> Wire {
    let items: Vec<Value> = list
        .iter()
        .map(|(code, name)| json!({"code": code, "name": name}))
        .collect();
    Wire::Json(json!({"status": "success", "services": items}))
}

/// `getOperators`: `{"status":"success","countryOperators":{"187":["verizon",…]}}`.
pub fn operators(list: &[(i64, String)]) -> Wire {
    let mut m = Map::new();
    for (country, name) in list {
        let entry = m.entry(country.to_string()).or_insert_with(|| json!([]));
        if let Some(a) = entry.as_array_mut() {
            a.push(json!(name));
        }
    }
    Wire::Json(json!({"status": "success", "countryOperators": m}))
}

/// `getNumbersStatus`: `{"tg_0":12,…}` — free numbers per service, no forwarding (`_0`).
pub fn numbers_status(counts: &[(String, i64)]) -> Wire {
    let mut m = Map::new();
    for (code, count) in counts {
        m.insert(format!("{code}_0"), json!(count));
    }
    Wire::Json(Value::Object(m))
}

/// `getRentServicesAndCountries` for one country and duration.
pub fn rent_services_and_countries(
    country_id: i64,
    operators: &[String],
    offers: &[Offer],
) -> Wire {
    let mut ops = Map::new();
    ops.insert("0".to_owned(), json!("any"));
    for (i, name) in operators.iter().enumerate() {
        ops.insert((i + 1).to_string(), json!(name));
    }
    let mut services = Map::new();
    for o in offers {
        services.insert(
            o.service_code.clone(),
            json!({"cost": o.cost.as_f64(), "quant": o.count}),
        );
    }
    Wire::Json(json!({"countries": {"0": country_id}, "operators": ops, "services": services}))
}

/// `getRentNumber`: `{"status":"success","phone":{"id","endDate","number"}}`.
pub fn rent_number(num: i64, number: &str, expires_at_ms: i64) -> Wire {
    Wire::Json(json!({
        "status": "success",
        "phone": {"id": num, "endDate": sql_datetime(expires_at_ms).replacen(' ', "T", 1),
            "number": phone_digits(number)},
    }))
}

/// One SMS a rented number received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentSms {
    pub from: String,
    pub text: String,
    pub service_code: String,
    pub received_at: String,
}

/// `getRentStatus`: the SMS so far; `STATUS_WAIT_CODE` before the first, `STATUS_FINISH`
/// once the rent has ended.
pub fn rent_status(ended: bool, sms: &[RentSms]) -> Wire {
    if ended {
        return error(&Word::StatusFinish, true);
    }
    if sms.is_empty() {
        return error(&Word::StatusWaitCode, true);
    }
    let mut values = Map::new();
    for (i, s) in sms.iter().enumerate() {
        values.insert(
            i.to_string(),
            json!({"phoneFrom": s.from, "text": s.text, "service": s.service_code,
                "date": protocol_time(&s.received_at)}),
        );
    }
    Wire::Json(json!({"status": "success", "quantity": sms.len(), "values": values}))
}

pub fn rent_ok() -> Wire {
    Wire::Json(json!({"status": "success"}))
}

/// `getRentList`: the live rents.
pub fn rent_list(list: &[(i64, String)]) -> Wire {
    let mut values = Map::new();
    for (i, (num, number)) in list.iter().enumerate() {
        values.insert(
            i.to_string(),
            json!({"id": num.to_string(), "phone": phone_digits(number)}),
        );
    }
    Wire::Json(json!({"status": "success", "values": values}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Params {
        Params::parse(q, None)
    }

    fn text(w: Wire) -> String {
        match w {
            Wire::Text(t) => t,
            Wire::Json(v) => panic!("expected text, got {v}"),
        }
    }

    fn json_of(w: Wire) -> Value {
        match w {
            Wire::Json(v) => v,
            Wire::Text(t) => panic!("expected JSON, got {t}"),
        }
    }

    #[test]
    fn params_query_then_form_trimmed_names() {
        let params = Params::parse(
            "api_key=K&action=getStatus&time%20=24",
            Some(b"action=getBalance&id=7"),
        );
        assert_eq!(params.api_key(), Some("K"));
        assert_eq!(
            params.get("action"),
            Some("getStatus"),
            "the query string wins"
        );
        assert_eq!(params.get("id"), Some("7"), "form fields are read");
        assert_eq!(
            params.get("time"),
            Some("24"),
            "aiosmsactivate's 'time ' is trimmed"
        );
        assert_eq!(p("api_key=&action=x").api_key(), None);
    }

    #[test]
    fn parses_actions() {
        assert_eq!(parse(&p("action=getBalance")), Ok(Action::GetBalance));
        assert_eq!(
            parse(&p("action=getBalanceAndCashBack")),
            Ok(Action::GetBalance)
        );
        assert_eq!(
            parse(&p(
                "action=getNumber&service=TG&country=187&operator=any&maxPrice=0.10"
            )),
            Ok(Action::GetNumber {
                selection: Selection {
                    service: "tg".into(),
                    country: Country::Id(187),
                    operator: None
                },
                max_price: Some(Money::parse_decimal("0.10").unwrap()),
            })
        );
        // The protocol's default country is 0; an unparseable maxPrice is 0 (below any price).
        assert_eq!(
            parse(&p(
                "action=getNumberV2&service=wa&operator=verizon&maxPrice=abc"
            )),
            Ok(Action::GetNumberV2 {
                selection: Selection {
                    service: "wa".into(),
                    country: Country::Id(0),
                    operator: Some("verizon".into())
                },
                max_price: Some(Money::default()),
            })
        );
        assert_eq!(
            parse(&p("action=getNumber&service=tg&country=usa")).map(|a| match a {
                Action::GetNumber { selection, .. } => selection.country,
                _ => unreachable!(),
            }),
            Ok(Country::Invalid)
        );
        assert_eq!(
            parse(&p("action=setStatus&id=12&status=8")),
            Ok(Action::SetStatus {
                id: 12,
                status: SetStatus::Cancel
            })
        );
        assert_eq!(
            parse(&p("action=getStatus&id=5")),
            Ok(Action::GetStatus { id: 5 })
        );
        assert_eq!(
            parse(&p("action=getRentNumber&service=tg&country=187")).map(|a| a.json_errors()),
            Ok(true)
        );
        assert_eq!(
            parse(&p("action=getRentNumber&service=tg&country=187&time=24")),
            Ok(Action::GetRentNumber {
                selection: Selection {
                    service: "tg".into(),
                    country: Country::Id(187),
                    operator: None
                },
                hours: 24
            })
        );
        assert_eq!(
            parse(&p("action=setRentStatus&id=3&status=2")),
            Ok(Action::SetRentStatus {
                id: 3,
                status: RentStatus::Cancel
            })
        );
        assert_eq!(
            parse(&p("action=getPrices&country=22")),
            Ok(Action::GetPrices {
                service: None,
                country: Some(Country::Id(22))
            })
        );
    }

    #[test]
    fn parse_errors_are_protocol_words() {
        assert_eq!(parse(&p("")), Err(Word::BadAction));
        assert_eq!(parse(&p("action=getNumbr")), Err(Word::BadAction));
        assert_eq!(
            parse(&p("action=getNumber&country=187")),
            Err(Word::BadService)
        );
        assert_eq!(
            parse(&p("action=getNumber&service=t%20g")),
            Err(Word::BadService)
        );
        assert_eq!(
            parse(&p("action=setStatus&id=12&status=2")),
            Err(Word::BadStatus)
        );
        assert_eq!(parse(&p("action=setStatus&id=12")), Err(Word::BadStatus));
        assert_eq!(
            parse(&p("action=setStatus&id=abc&status=6")),
            Err(Word::NoActivation)
        );
        assert_eq!(parse(&p("action=getStatus&id=0")), Err(Word::NoActivation));
        assert_eq!(parse(&p("action=getStatus&id=-4")), Err(Word::NoActivation));
        assert_eq!(
            parse(&p("action=getStatus&id=99999999999999999999")),
            Err(Word::NoActivation)
        );
        assert_eq!(parse(&p("action=getRentStatus")), Err(Word::NoIdRent));
        assert_eq!(
            parse(&p("action=setRentStatus&id=3&status=6")),
            Err(Word::IncorrectStatus)
        );
        assert_eq!(
            parse(&p("action=getRentNumber&service=tg&time=0")),
            Err(Word::InvalidTime)
        );
    }

    #[test]
    fn words() {
        assert_eq!(
            Word::WrongMaxPrice(Money::parse_decimal("0.05").unwrap()).text(),
            "WRONG_MAX_PRICE:0.05"
        );
        assert_eq!(Word::IncorrectStatus.text(), "INCORECT_STATUS");
        assert_eq!(
            error(&Word::NoBalance, false),
            Wire::Text("NO_BALANCE".into())
        );
        assert_eq!(
            error(&Word::NoNumbers, true).body(),
            r#"{"message":"NO_NUMBERS","status":"error"}"#
        );
        assert_eq!(
            Wire::Text("x".into()).content_type(),
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn balance_always_has_a_decimal_point() {
        assert_eq!(
            text(balance(Money::parse_decimal("25").unwrap())),
            "ACCESS_BALANCE:25.00"
        );
        assert_eq!(
            text(balance(Money::parse_decimal("12.5").unwrap())),
            "ACCESS_BALANCE:12.50"
        );
        assert_eq!(
            text(balance(Money::parse_decimal("24.9925").unwrap())),
            "ACCESS_BALANCE:24.9925"
        );
        assert_eq!(text(balance(Money::default())), "ACCESS_BALANCE:0.00");
    }

    fn bought() -> Bought {
        Bought {
            num: 42,
            number: "+14155551000".into(),
            cost: Money::parse_decimal("0.05").unwrap(),
            currency: "USD".into(),
            country_id: 187,
            operator: "verizon".into(),
            created_at_ms: 1_764_531_600_000,
            expires_at_ms: 1_764_532_800_000,
        }
    }

    #[test]
    fn get_number_answers() {
        assert_eq!(text(number(&bought())), "ACCESS_NUMBER:42:14155551000");
        let v = json_of(number_v2(&bought()));
        assert_eq!(v["activationId"], json!(42));
        assert_eq!(v["phoneNumber"], json!("14155551000"));
        assert_eq!(v["activationCost"], json!(0.05));
        assert_eq!(v["currency"], json!(840));
        assert_eq!(
            v["countryCode"],
            json!("187"),
            "a numeric string (aiosmsactivate's str field)"
        );
        assert_eq!(v["canGetAnotherSms"], json!(true));
        assert_eq!(v["activationTime"], json!("2025-11-30 19:40:00"));
        assert_eq!(v["activationEndTime"], json!("2025-11-30 20:00:00"));
        assert_eq!(v["activationOperator"], json!("verizon"));
    }

    #[test]
    fn set_status_words() {
        assert_eq!(text(set_status(SetStatus::Ready)), "ACCESS_READY");
        assert_eq!(text(set_status(SetStatus::Retry)), "ACCESS_RETRY_GET");
        assert_eq!(text(set_status(SetStatus::Complete)), "ACCESS_ACTIVATION");
        assert_eq!(text(set_status(SetStatus::Cancel)), "ACCESS_CANCEL");
    }

    fn sms(code: Option<&str>) -> Sms {
        Sms {
            text: "Telegram code 12345".into(),
            code: code.map(str::to_owned),
            received_at: "2025-11-30T19:41:02.123Z".into(),
        }
    }

    #[test]
    fn status_words() {
        assert_eq!(text(status(Phase::Waiting, None)), "STATUS_WAIT_CODE");
        assert_eq!(
            text(status(Phase::Received, Some(&sms(Some("12345"))))),
            "STATUS_OK:12345"
        );
        assert_eq!(
            text(status(Phase::Complete, Some(&sms(Some("12345"))))),
            "STATUS_OK:12345"
        );
        assert_eq!(
            text(status(Phase::WaitingRetry, Some(&sms(Some("12345"))))),
            "STATUS_WAIT_RETRY:12345"
        );
        assert_eq!(
            text(status(Phase::Received, Some(&sms(None)))),
            "STATUS_OK:Telegram code 12345"
        );
        assert_eq!(text(status(Phase::Refunded, None)), "STATUS_CANCEL");
    }

    #[test]
    fn status_v2() {
        let v = json_of(super::status_v2(Phase::Received, Some(&sms(Some("12345")))));
        assert_eq!(
            v,
            json!({"verificationType": 0,
                "sms": {"dateTime": "2025-11-30 19:41:02", "code": "12345",
                    "text": "Telegram code 12345"},
                "call": null})
        );
        let v = json_of(super::status_v2(Phase::Waiting, None));
        assert_eq!(v["sms"], Value::Null);
        // After a retry the old SMS is not the answer: waiting again.
        assert_eq!(
            json_of(super::status_v2(Phase::WaitingRetry, Some(&sms(Some("1")))))["sms"],
            Value::Null
        );
        assert_eq!(
            super::status_v2(Phase::Refunded, None),
            Wire::Text("STATUS_CANCEL".into())
        );
    }

    #[test]
    fn times() {
        assert_eq!(protocol_time("2025-11-30T19:41:02Z"), "2025-11-30 19:41:02");
        assert_eq!(protocol_time("2025-11-30 19:41:02"), "2025-11-30 19:41:02");
        assert_eq!(protocol_time("yesterday"), "yesterday");
        assert_eq!(protocol_time("2025-11-30"), "2025-11-30");
    }

    #[test]
    fn lists() {
        let a = Active {
            num: 7,
            service_code: "tg".into(),
            number: "+923001000001".into(),
            cost: Money::parse_decimal("0.05").unwrap(),
            currency: "USD".into(),
            phase: Phase::Received,
            latest: Some(sms(Some("999"))),
            country_id: Some(66),
            country_name: "Pakistan".into(),
            created_at_ms: 0,
        };
        let v = json_of(active_activations(std::slice::from_ref(&a)));
        assert_eq!(v["status"], json!("success"));
        let item = &v["activeActivations"][0];
        assert_eq!(item["activationId"], json!(7));
        assert_eq!(item["phoneNumber"], json!("923001000001"));
        assert_eq!(item["activationStatus"], json!("4"));
        assert_eq!(item["smsCode"], json!("999"));
        assert_eq!(item["countryCode"], json!("66"));
        assert_eq!(item["activationTime"], json!("1970-01-01 00:00:00"));
        assert_eq!(v["data"], v["activeActivations"], "herosms reads `data`");
        let waiting = Active {
            phase: Phase::Waiting,
            latest: None,
            ..a
        };
        assert_eq!(
            json_of(active_activations(&[waiting]))["activeActivations"][0]["smsCode"],
            Value::Null
        );

        let offers = [
            Offer {
                country_id: 187,
                service_code: "tg".into(),
                cost: Money::parse_decimal("0.05").unwrap(),
                count: 12,
            },
            Offer {
                country_id: 187,
                service_code: "wa".into(),
                cost: Money::parse_decimal("0.1").unwrap(),
                count: 0,
            },
            Offer {
                country_id: 22,
                service_code: "tg".into(),
                cost: Money::parse_decimal("0.03").unwrap(),
                count: 3,
            },
        ];
        assert_eq!(
            json_of(prices(&offers)),
            json!({"187": {"tg": {"cost": 0.05, "count": 12}, "wa": {"cost": 0.1, "count": 0}},
                "22": {"tg": {"cost": 0.03, "count": 3}}})
        );
        let c = json_of(countries(&[CountryInfo {
            id: 187,
            iso: "US".into(),
            name: "United States".into(),
        }]));
        assert_eq!(c["187"]["id"], json!(187));
        assert_eq!(c["187"]["eng"], json!("United States"));
        assert_eq!(
            json_of(numbers_status(&[("tg".into(), 12)])),
            json!({"tg_0": 12})
        );
        assert_eq!(
            json_of(operators(&[
                (187, "verizon".into()),
                (187, "tmobile".into())
            ])),
            json!({"status": "success", "countryOperators": {"187": ["verizon", "tmobile"]}})
        );
        assert_eq!(
            json_of(services(&[("tg".into(), "Telegram".into())])),
            json!({"status": "success", "services": [{"code": "tg", "name": "Telegram"}]})
        );
    }

    #[test]
    fn app_errors_as_words() {
        assert_eq!(
            word_for(Code::InsufficientFunds, false),
            Some(Word::NoBalance)
        );
        assert_eq!(word_for(Code::UnknownCountry, false), Some(Word::NoNumbers));
        assert_eq!(word_for(Code::NotOffered, true), Some(Word::NoNumbers));
        assert_eq!(
            word_for(Code::UnknownService, false),
            Some(Word::BadService)
        );
        assert_eq!(word_for(Code::NotFound, false), Some(Word::NoActivation));
        assert_eq!(word_for(Code::NotFound, true), Some(Word::InvalidPhone));
        assert_eq!(
            word_for(Code::CancelTooEarly, false),
            Some(Word::EarlyCancelDenied)
        );
        assert_eq!(word_for(Code::NoSmsYet, false), Some(Word::BadStatus));
        assert_eq!(word_for(Code::Unauthorized, false), Some(Word::BadKey));
        assert_eq!(word_for(Code::Internal, false), None);
        assert_eq!(word_for(Code::RateLimited, false), None);
    }

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

    #[test]
    fn rent_answers() {
        assert_eq!(
            json_of(rent_number(9, "+14155551000", 1_764_546_000_000)),
            json!({"status": "success",
                "phone": {"id": 9, "endDate": "2025-11-30T23:40:00", "number": "14155551000"}})
        );
        assert_eq!(
            json_of(rent_status(false, &[])),
            json!({"status": "error", "message": "STATUS_WAIT_CODE"})
        );
        assert_eq!(
            json_of(rent_status(true, &[])),
            json!({"status": "error", "message": "STATUS_FINISH"})
        );
        let one = RentSms {
            from: "Telegram".into(),
            text: "code 1".into(),
            service_code: "tg".into(),
            received_at: "2025-11-30T19:41:02Z".into(),
        };
        assert_eq!(
            json_of(rent_status(false, &[one])),
            json!({"status": "success", "quantity": 1,
                "values": {"0": {"phoneFrom": "Telegram", "text": "code 1", "service": "tg",
                    "date": "2025-11-30 19:41:02"}}})
        );
        assert_eq!(
            json_of(rent_list(&[(9, "+14155551000".into())])),
            json!({"status": "success", "values": {"0": {"id": "9", "phone": "14155551000"}}})
        );
        let r = json_of(rent_services_and_countries(
            187,
            &["verizon".into()],
            &[Offer {
                country_id: 187,
                service_code: "tg".into(),
                cost: Money::parse_decimal("0.5").unwrap(),
                count: 4,
            }],
        ));
        assert_eq!(
            r,
            json!({"countries": {"0": 187}, "operators": {"0": "any", "1": "verizon"},
                "services": {"tg": {"cost": 0.5, "quant": 4}}})
        );
        assert_eq!(currency_number("usd"), 840);
        assert_eq!(currency_number("EUR"), 978);
    }
}
