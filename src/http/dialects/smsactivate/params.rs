//! Parsing a handler request: its parameters (query string, then a form body) into a typed
//! `Action`. Key checks come first and are the handler's.
use super::words::Word;
use crate::domain::catalog::{sms_activate_code_of, RENT_HOURS};
use crate::domain::money::Money;
use crate::domain::scope::Scope;
use crate::domain::smsactivate::{Country, RentStatus, Selection, SetStatus};
use crate::http::form::Form;

/// The request's parameters: the query string first, then a form body's fields. Names are
/// trimmed; the first occurrence of a name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Form);

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
        Params(Form::from_fields(pairs))
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }

    /// The key, as given (its shape is checked by the caller).
    pub fn api_key(&self) -> Option<&str> {
        self.get("api_key")
    }
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

    /// The scope an API key needs for this action (`domain::scope`).
    pub fn scope(&self) -> Scope {
        match self {
            Action::GetBalance => Scope::WalletRead,
            Action::GetNumber { .. } | Action::GetNumberV2 { .. } | Action::SetStatus { .. } => {
                Scope::ActivationsWrite
            }
            Action::GetRentNumber { .. } | Action::SetRentStatus { .. } => Scope::RentWrite,
            Action::GetStatus { .. }
            | Action::GetStatusV2 { .. }
            | Action::GetActiveActivations
            | Action::GetPrices { .. }
            | Action::GetCountries
            | Action::GetServicesList
            | Action::GetOperators { .. }
            | Action::GetNumbersStatus { .. }
            | Action::GetRentServicesAndCountries { .. }
            | Action::GetRentStatus { .. }
            | Action::GetRentList => Scope::ActivationsRead,
        }
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

/// A service code, in the catalog's shape (`sms_activate_code_of`).
fn parse_service(v: Option<&str>) -> Result<String, Word> {
    v.and_then(sms_activate_code_of).ok_or(Word::BadService)
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

/// `time` of a rent, in hours, within the catalog's `RENT_HOURS`; default 4.
fn parse_hours(v: Option<&str>) -> Result<i64, Word> {
    match v {
        None => Ok(DEFAULT_RENT_HOURS),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|h| RENT_HOURS.contains(h))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Params {
        Params::parse(q, None)
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
}
