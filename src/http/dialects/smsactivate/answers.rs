//! Rendering each typed answer as the protocol's text or JSON.
use super::words::Word;
use crate::domain::money::Money;
use crate::domain::smsactivate::{
    Active, Bought, CountryInfo, Offer, Phase, RentSms, SetStatus, Sms,
};
use crate::domain::time::sql_datetime;
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

/// `getCountries`: `{"187":{"id":187,"rus":…,"eng":…,"chn":…,"visible":1,"retry":1,…}}`.
/// The catalog holds one (English) name; it fills the three name fields.
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
