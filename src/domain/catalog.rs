//! The catalog's rules: the shape of each code (countries ISO 3166-1 alpha-2 upper-cased,
//! services, aliases and 5sim names lower-case slugs, sms-activate's numbers and short
//! codes), a rent's duration, and a price above zero. `check` turns an operator's catalog
//! update, as given, into a normalised one, or names the first field that breaks a rule.
use super::error::{AppError, Code};
use super::money::Money;
use super::otp::known_channel;
use serde::Deserialize;
use std::ops::RangeInclusive;

/// A rent lasts 1 hour to a year.
pub const RENT_HOURS: RangeInclusive<i64> = 1..=8760;

/// A catalog entry's name: a label of at most this many characters.
const NAME_MAX: usize = 255;

/// A country or a service: its code and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub code: String,
    pub name: String,
}

/// An operator of a country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub country: String,
    pub id: String,
    pub name: String,
}

/// An activation's price for (country, service, operator), with the free numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub country: String,
    pub service: String,
    pub operator: String,
    pub operator_name: String,
    /// Minor units.
    pub cost: i64,
    pub count: i64,
}

/// A rent's price for (country, service, operator, hours), with the free numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentPrice {
    pub country: String,
    pub service: String,
    pub operator: String,
    pub operator_name: String,
    pub hours: i64,
    /// Minor units.
    pub cost: i64,
    pub count: i64,
}

/// A country, as given (and, in a `CatalogUpdate`, as checked).
#[derive(Deserialize)]
pub struct CountryInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// sms-activate's number for the country (its protocol's `country`); `None` keeps the
    /// stored one.
    pub sms_activate_id: Option<i64>,
    /// 5sim's name for the country (`england`); `None` keeps the stored one.
    #[serde(default)]
    pub fivesim_name: Option<String>,
}

/// A service, as given.
#[derive(Deserialize)]
pub struct ServiceInput {
    pub code: String,
    pub name: String,
    /// sms-activate's short code for the service (its protocol's `service`).
    pub sms_activate_code: Option<String>,
    /// 5sim's product name for the service (`telegram`).
    #[serde(default)]
    pub fivesim_product: Option<String>,
}

/// An operator of a country, as given.
#[derive(Deserialize)]
pub struct OperatorInput {
    pub id: String,
    pub country: String,
    pub name: String,
}

/// A price for (country, service, operator id), or for a rent of `hours`, as given.
#[derive(Deserialize)]
pub struct PriceInput {
    pub country: String,
    pub service: String,
    pub operator: String,
    /// A rent's duration (required of a rent price; an activation's is ignored).
    #[serde(default)]
    pub hours: Option<i64>,
    pub cost: serde_json::Value,
}

/// An OTP price for (country, channel), as given.
#[derive(Deserialize)]
pub struct OtpPriceInput {
    pub country: String,
    pub channel: String,
    pub cost: serde_json::Value,
}

/// A catalog update as the operator sent it (each list may be absent).
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct CatalogInput {
    pub countries: Vec<CountryInput>,
    pub services: Vec<ServiceInput>,
    pub operators: Vec<OperatorInput>,
    pub prices: Vec<PriceInput>,
    pub rent_prices: Vec<PriceInput>,
    pub otp_prices: Vec<OtpPriceInput>,
}

/// A price for (country, service, operator id), or for a rent of `hours`.
pub struct PriceIn {
    pub country: String,
    pub service: String,
    pub operator: String,
    pub hours: Option<i64>,
    pub cost: i64,
}

/// A checked catalog update (codes normalised: countries upper-case, services lower-case).
#[derive(Default)]
pub struct CatalogUpdate {
    pub countries: Vec<CountryInput>,
    /// (code, name)
    pub services: Vec<(String, String)>,
    /// (service code, sms-activate code), set after the services' upserts.
    pub service_codes: Vec<(String, String)>,
    /// (service code, 5sim product name), set after the services' upserts.
    pub fivesim_products: Vec<(String, String)>,
    /// (country, id, name)
    pub operators: Vec<(String, String, String)>,
    pub prices: Vec<PriceIn>,
    pub rent_prices: Vec<PriceIn>,
    /// (country, channel, cost)
    pub otp_prices: Vec<(String, String, i64)>,
}

fn name(field: &str, v: &str) -> Result<String, AppError> {
    super::text::label(field, v, NAME_MAX).map_err(AppError::invalid)
}

/// ISO 3166-1 alpha-2, upper-cased.
pub fn country_code(field: &str, v: &str) -> Result<String, AppError> {
    let v = v.trim();
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(AppError::invalid(format!(
            "'{field}' must be a 2-letter ISO 3166-1 country code, got '{v}'"
        )))
    }
}

/// Lower-case `[a-z0-9_-]`, 1 to 32 characters (service codes, aliases).
pub fn slug(field: &str, v: &str) -> Result<String, AppError> {
    let v = v.trim().to_ascii_lowercase();
    if (1..=32).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(v)
    } else {
        Err(AppError::invalid(format!(
            "'{field}' must be 1 to 32 characters of a-z, 0-9, '_' or '-', got '{v}'"
        )))
    }
}

/// An sms-activate country number: 0 to 999999.
pub fn sms_activate_id(field: &str, v: i64) -> Result<i64, AppError> {
    if (0..=999_999).contains(&v) {
        Ok(v)
    } else {
        Err(AppError::invalid(format!(
            "'{field}' must be 0 to 999999, got {v}"
        )))
    }
}

/// An sms-activate service code: 1 to 16 of `[a-z0-9_]`, lower-cased; `None` otherwise.
pub fn sms_activate_code_of(v: &str) -> Option<String> {
    let v = v.to_ascii_lowercase();
    let ok =
        (1..=16).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then_some(v)
}

fn sms_activate_code(field: &str, v: &str) -> Result<String, AppError> {
    sms_activate_code_of(v.trim()).ok_or_else(|| {
        let v = v.trim().to_ascii_lowercase();
        AppError::invalid(format!(
            "'{field}' must be 1 to 16 characters of a-z, 0-9 or '_', got '{v}'"
        ))
    })
}

/// A rent's duration in hours, within `RENT_HOURS`.
pub fn rent_hours(field: &str, v: i64) -> Result<i64, AppError> {
    if RENT_HOURS.contains(&v) {
        Ok(v)
    } else {
        Err(AppError::invalid(format!(
            "'{field}' must be {} to {}",
            RENT_HOURS.start(),
            RENT_HOURS.end()
        )))
    }
}

/// A price: an amount greater than 0, in minor units.
pub fn cost(field: &str, v: &serde_json::Value) -> Result<i64, AppError> {
    let m = Money::parse_json(v)
        .map_err(|e| AppError::new(Code::InvalidAmount, format!("'{field}': {e}")))?;
    if !m.is_positive() {
        return Err(AppError::new(
            Code::InvalidAmount,
            format!("'{field}' must be greater than 0"),
        ));
    }
    Ok(m.minor())
}

/// The update, normalised, or the first field (in the order given) that breaks a rule.
pub fn check(input: &CatalogInput) -> Result<CatalogUpdate, AppError> {
    let mut update = CatalogUpdate::default();
    for (i, c) in input.countries.iter().enumerate() {
        update.countries.push(check_country(i, c)?);
    }
    for (i, s) in input.services.iter().enumerate() {
        let code = slug(&format!("services[{i}].code"), &s.code)?;
        if let Some(v) = &s.sms_activate_code {
            let sa_code = sms_activate_code(&format!("services[{i}].sms_activate_code"), v)?;
            update.service_codes.push((code.clone(), sa_code));
        }
        if let Some(v) = &s.fivesim_product {
            let product = slug(&format!("services[{i}].fivesim_product"), v)?;
            update.fivesim_products.push((code.clone(), product));
        }
        let name = name(&format!("services[{i}].name"), &s.name)?;
        update.services.push((code, name));
    }
    for (i, o) in input.operators.iter().enumerate() {
        let country = country_code(&format!("operators[{i}].country"), &o.country)?;
        let id = name(&format!("operators[{i}].id"), &o.id)?;
        let name = name(&format!("operators[{i}].name"), &o.name)?;
        update.operators.push((country, id, name));
    }
    for (i, p) in input.prices.iter().enumerate() {
        update
            .prices
            .push(check_price(&format!("prices[{i}]"), p, false)?);
    }
    for (i, p) in input.rent_prices.iter().enumerate() {
        let at = format!("rent_prices[{i}]");
        update.rent_prices.push(check_price(&at, p, true)?);
    }
    for (i, p) in input.otp_prices.iter().enumerate() {
        let f = |n: &str| format!("otp_prices[{i}].{n}");
        let channel = known_channel(&p.channel).ok_or_else(|| {
            let m = format!("'{}' must be sms, whatsapp or voice", f("channel"));
            AppError::new(Code::InvalidChannel, m)
        })?;
        let country = country_code(&f("country"), &p.country)?;
        let cost = cost(&f("cost"), &p.cost)?;
        update.otp_prices.push((country, channel.to_owned(), cost));
    }
    Ok(update)
}

fn check_country(i: usize, c: &CountryInput) -> Result<CountryInput, AppError> {
    let code = country_code(&format!("countries[{i}].code"), &c.code)?;
    let name = name(&format!("countries[{i}].name"), &c.name)?;
    let aliases = c
        .aliases
        .iter()
        .map(|a| slug(&format!("countries[{i}].aliases"), a))
        .collect::<Result<Vec<_>, _>>()?;
    let sms_activate_id = c
        .sms_activate_id
        .map(|v| sms_activate_id(&format!("countries[{i}].sms_activate_id"), v))
        .transpose()?;
    let fivesim_name = c
        .fivesim_name
        .as_deref()
        .map(|v| slug(&format!("countries[{i}].fivesim_name"), v))
        .transpose()?;
    Ok(CountryInput {
        code,
        name,
        aliases,
        sms_activate_id,
        fivesim_name,
    })
}

/// A price of the list entry `at` (`prices[3]`): a rent's (`rent`) must give its hours,
/// checked first; an activation's has none.
fn check_price(at: &str, p: &PriceInput, rent: bool) -> Result<PriceIn, AppError> {
    let f = |n: &str| format!("{at}.{n}");
    let hours = match (rent, p.hours) {
        (false, _) => None,
        (true, Some(h)) => Some(rent_hours(&f("hours"), h)?),
        (true, None) => {
            return Err(AppError::invalid(format!("'{}' is required", f("hours"))));
        }
    };
    Ok(PriceIn {
        country: country_code(&f("country"), &p.country)?,
        service: slug(&f("service"), &p.service)?,
        operator: name(&f("operator"), &p.operator)?,
        hours,
        cost: cost(&f("cost"), &p.cost)?,
    })
}

/// A price as the operator's catalog lists it: an activation's (`hours` none), a rent's, or
/// an OTP send's (`service` the channel, `operator` empty); cost in minor units.
#[derive(Debug, Clone)]
pub struct ListedPrice {
    pub kind: String,
    pub country: String,
    pub service: String,
    pub operator: String,
    pub hours: Option<i64>,
    pub cost: i64,
}

/// A supplier and how many numbers of the inventory it pushes SMS for.
#[derive(Debug, Clone)]
pub struct SupplierStock {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub numbers: i64,
}

/// An operator of a country and how many numbers the inventory holds for it.
#[derive(Debug, Clone)]
pub struct OperatorStock {
    pub country: String,
    pub operator: String,
    pub name: String,
    pub numbers: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn price(hours: Option<i64>, cost: serde_json::Value) -> PriceInput {
        PriceInput {
            country: " us ".into(),
            service: "TG".into(),
            operator: "verizon".into(),
            hours,
            cost,
        }
    }

    #[test]
    fn normalises_codes() {
        let input = CatalogInput {
            countries: vec![CountryInput {
                code: "us".into(),
                name: " United States ".into(),
                aliases: vec!["USA".into()],
                sms_activate_id: Some(187),
                fivesim_name: Some("USA".into()),
            }],
            services: vec![ServiceInput {
                code: "Telegram".into(),
                name: "Telegram".into(),
                sms_activate_code: Some("TG".into()),
                fivesim_product: Some(" Telegram".into()),
            }],
            rent_prices: vec![price(Some(24), json!("0.50"))],
            ..CatalogInput::default()
        };
        let u = check(&input).unwrap();
        assert_eq!(u.countries[0].code, "US");
        assert_eq!(u.countries[0].name, "United States");
        assert_eq!(u.countries[0].aliases, vec!["usa".to_owned()]);
        assert_eq!(u.service_codes, vec![("telegram".into(), "tg".into())]);
        assert_eq!(u.countries[0].fivesim_name.as_deref(), Some("usa"));
        assert_eq!(
            u.fivesim_products,
            vec![("telegram".into(), "telegram".into())]
        );
        assert_eq!(u.rent_prices[0].country, "US");
        assert_eq!(u.rent_prices[0].service, "tg");
        assert_eq!(u.rent_prices[0].hours, Some(24));
        assert_eq!(u.rent_prices[0].cost, 5_000);
    }

    #[test]
    fn refuses_what_breaks_a_rule() {
        let refused = |input: CatalogInput| check(&input).err().map(|e| (e.code, e.message));
        let rent = |hours, cost| CatalogInput {
            rent_prices: vec![price(Some(hours), cost)],
            ..CatalogInput::default()
        };
        let (code, m) = refused(rent(0, json!(1))).unwrap();
        assert_eq!(
            (code, m.as_str()),
            (
                Code::InvalidRequest,
                "'rent_prices[0].hours' must be 1 to 8760"
            )
        );
        assert!(refused(rent(8761, json!(1))).is_some());
        assert!(refused(rent(8760, json!(1))).is_none());
        let no_hours = CatalogInput {
            rent_prices: vec![price(None, json!(1))],
            prices: vec![price(Some(0), json!(1))],
            ..CatalogInput::default()
        };
        let (_, m) = refused(no_hours).unwrap();
        assert_eq!(m, "'rent_prices[0].hours' is required");
        let activation = CatalogInput {
            prices: vec![price(Some(0), json!(1))],
            ..CatalogInput::default()
        };
        assert_eq!(check(&activation).unwrap().prices[0].hours, None);
        let (code, m) = refused(rent(1, json!("0"))).unwrap();
        assert_eq!(
            (code, m.as_str()),
            (
                Code::InvalidAmount,
                "'rent_prices[0].cost' must be greater than 0"
            )
        );
        assert!(country_code("c", "USA").is_err());
        assert!(slug("s", "a b").is_err());
        assert!(sms_activate_id("n", 1_000_000).is_err());
        assert_eq!(sms_activate_code_of("Tg_1"), Some("tg_1".into()));
        assert_eq!(sms_activate_code_of("t-g"), None);
    }
}
