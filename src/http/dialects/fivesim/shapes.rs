//! 5sim's JSON answers, as its clients parse them (`pyfivesim`'s pydantic models are the
//! strictest): numbers for prices, ISO 8601 times, its field names and capitalisation. Pure:
//! tested natively.
use crate::domain::fivesim::{
    CountryEntry, MaxPrice, Order, OrderSms, Payment, PriceEntry, Product, Profile,
};
use crate::domain::money::Money;
use crate::domain::time::rfc3339;
use crate::http::reply::{Reply, JSON_BARE};
use serde_json::{json, Map, Value};

/// A JSON answer with 5sim's bare `application/json`.
pub fn reply(value: &Value) -> Reply {
    Reply::raw(200, JSON_BARE, value.to_string())
}

fn money(m: Money) -> Value {
    json!(m.as_f64())
}

fn sms(s: &OrderSms) -> Value {
    json!({
        "created_at": s.received_at,
        "date": s.received_at,
        "sender": s.sender,
        "text": s.text,
        "code": s.code,
    })
}

/// An order. A purchase answers `"sms": null`; every other answer lists the SMS (`[]`).
pub fn order(o: &Order, fresh: bool) -> Value {
    let sms = if fresh && o.sms.is_empty() {
        Value::Null
    } else {
        o.sms.iter().map(sms).collect()
    };
    json!({
        "id": o.id,
        "phone": o.phone,
        "operator": o.operator,
        "product": o.product,
        "price": money(o.price),
        "status": o.status.as_str(),
        "expires": rfc3339(o.expires_at_ms),
        "sms": sms,
        "created_at": rfc3339(o.created_at_ms),
        "forwarding": false,
        "forwarding_number": "",
        "country": o.country,
    })
}

/// An order in the profile's `country:product:operator:id:price` form.
fn order_line(o: &Order) -> String {
    let price = o.price.to_decimal_string();
    format!(
        "{}:{}:{}:{}:{price}",
        o.country, o.product, o.operator, o.id
    )
}

/// What `last_order` and `last_top_orders` hold for an account that has ordered nothing: 5sim
/// clients split these strings into five fields unconditionally.
const NO_ORDER: &str = "any:any:any:0:0.00";

/// The profile: 5sim's documented fields, and the ones its clients also read (`did_order`,
/// `last_order`, `last_top_orders` — a string — `last_top_idx`, `total_active_orders`).
pub fn profile(p: &Profile) -> Value {
    let lines: Vec<String> = p.recent.iter().map(order_line).collect();
    let last = lines.first().map_or(NO_ORDER, String::as_str);
    let top = if lines.is_empty() {
        NO_ORDER.to_owned()
    } else {
        lines.join(",")
    };
    let (name, iso, prefix) = &p.country;
    json!({
        "id": p.id,
        "email": p.email,
        "vendor": p.name,
        "default_forwarding_number": "",
        "balance": money(p.balance),
        "rating": 96,
        "default_country": {"name": name, "iso": iso, "prefix": prefix},
        "default_operator": {"name": ""},
        "frozen_balance": money(p.frozen),
        "did_order": !p.recent.is_empty(),
        "last_order": last,
        "last_top_orders": format!("{{{top}}}"),
        "last_top_idx": 0,
        "total_active_orders": p.active_orders,
    })
}

/// `orders`: `{Data, ProductNames, Statuses, Total}`.
pub fn orders(list: &[Order], total: u64) -> Value {
    let data: Vec<Value> = list.iter().map(|o| order(o, false)).collect();
    json!({"Data": data, "ProductNames": [], "Statuses": [], "Total": total})
}

/// `sms/inbox/{id}`: `{Data, Total}`.
pub fn inbox(o: &Order) -> Value {
    let data: Vec<Value> = o.sms.iter().map(sms).collect();
    json!({"Data": data, "Total": o.sms.len()})
}

/// `payments`: `{Data, PaymentTypes, PaymentProviders, Total}`; a payment's type is our
/// ledger kind (`topup`, `purchase`, `refund`, …).
pub fn payments(list: &[Payment], total: u64) -> Value {
    let data: Vec<Value> = list
        .iter()
        .map(|p| {
            json!({
                "ID": p.id,
                "TypeName": p.kind,
                "ProviderName": "otpedge",
                "Amount": money(p.amount),
                "Balance": money(p.balance),
                "CreatedAt": rfc3339(p.created_at_ms),
            })
        })
        .collect();
    let mut kinds: Vec<&str> = list.iter().map(|p| p.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let types: Vec<Value> = kinds.iter().map(|k| json!({"Name": k})).collect();
    json!({
        "Data": data,
        "PaymentTypes": types,
        "PaymentProviders": [{"Name": "otpedge"}],
        "Total": total,
    })
}

/// `max-prices`: `[{id, product, price, created_at}]`.
pub fn max_prices(list: &[MaxPrice]) -> Value {
    list.iter()
        .map(|m| {
            json!({
                "id": m.id,
                "product": m.product,
                "price": money(m.price),
                "created_at": rfc3339(m.created_at_ms),
            })
        })
        .collect()
}

/// `guest/countries`, by 5sim name. Each country's keys come in 5sim's order — `iso`,
/// `prefix`, `text_en`, `text_ru`, then one per operator — which clients read by position,
/// so the object is written here rather than by a (sorting) JSON map.
pub fn countries(list: &[CountryEntry]) -> String {
    let field = |k: &str, v: &Value| format!("{}:{v}", Value::from(k));
    let entries: Vec<String> = list
        .iter()
        .map(|c| {
            let mut fields = vec![
                field("iso", &json!({ c.iso.clone(): 1 })),
                field("prefix", &json!({ c.prefix.clone(): 1 })),
                field("text_en", &json!(c.text)),
                field("text_ru", &json!(c.text)),
            ];
            fields.extend((c.operators.iter()).map(|o| field(o, &json!({"activation": 1}))));
            format!("{}:{{{}}}", Value::from(c.name.as_str()), fields.join(","))
        })
        .collect();
    format!("{{{}}}", entries.join(","))
}

/// `guest/products/{country}/{operator}`: `{product: {Category, Qty, Price}}`.
pub fn products(list: &[Product]) -> Value {
    let map: Map<String, Value> = list
        .iter()
        .map(|p| {
            let v = json!({"Category": "activation", "Qty": p.qty, "Price": money(p.price)});
            (p.name.clone(), v)
        })
        .collect();
    Value::Object(map)
}

/// The object under `key` (taken out, to be put back), or a new one.
fn take_object(map: &mut Map<String, Value>, key: &str) -> Map<String, Value> {
    match map.remove(key) {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    }
}

/// `guest/prices`: `{country: {product: {operator: {cost, count, rate}}}}`, or product first
/// when only a product was asked for (as 5sim answers `?product=`).
pub fn prices(entries: &[PriceEntry], product_first: bool) -> Value {
    let mut root = Map::new();
    for e in entries {
        let (outer, inner) = if product_first {
            (&e.product, &e.country)
        } else {
            (&e.country, &e.product)
        };
        let offer = json!({"cost": money(e.cost), "count": e.count, "rate": 0});
        let mut first = take_object(&mut root, outer);
        let mut second = take_object(&mut first, inner);
        second.insert(e.operator.clone(), offer);
        first.insert(inner.clone(), Value::Object(second));
        root.insert(outer.clone(), Value::Object(first));
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fivesim::OrderStatus;

    fn an_order(sms: Vec<OrderSms>) -> Order {
        Order {
            id: 17,
            phone: "+14155551000".into(),
            operator: "1".into(),
            product: "telegram".into(),
            price: Money::from_minor(500),
            status: OrderStatus::Received,
            created_at_ms: 1_764_500_000_000,
            expires_at_ms: 1_764_500_900_000,
            sms,
            country: "usa".into(),
        }
    }

    #[test]
    fn orders_as_5sim_shows_them() {
        let fresh = order(&an_order(vec![]), true);
        assert_eq!(fresh["sms"], Value::Null);
        assert_eq!(fresh["price"], json!(0.05));
        assert_eq!(fresh["status"], "RECEIVED");
        assert_eq!(fresh["expires"], "2025-11-30T11:08:20Z");
        assert_eq!(order(&an_order(vec![]), false)["sms"], json!([]));
        let s = OrderSms {
            received_at: "2025-11-30T10:55:00Z".into(),
            sender: "Telegram".into(),
            text: "code 12345".into(),
            code: "12345".into(),
        };
        let listed = orders(&[an_order(vec![s])], 1);
        assert_eq!(listed["Data"][0]["sms"][0]["code"], "12345");
        assert_eq!(listed["Total"], 1);
    }

    #[test]
    fn profile_strings_split_into_five_fields() {
        let mut p = Profile {
            id: 7,
            email: "a@example.org".into(),
            name: "Ana".into(),
            balance: Money::from_minor(250_000),
            frozen: Money::ZERO,
            active_orders: 0,
            country: ("usa".into(), "us".into(), "+1".into()),
            recent: vec![],
        };
        let v = profile(&p);
        assert_eq!(v["last_order"], NO_ORDER);
        assert_eq!(v["did_order"], false);
        p.recent = vec![an_order(vec![]), an_order(vec![])];
        let v = profile(&p);
        assert_eq!(v["last_order"], "usa:telegram:1:17:0.05");
        let top = v["last_top_orders"].as_str().unwrap_or_default();
        let inner = &top[1..top.len() - 1];
        assert!(inner.split(',').all(|o| o.split(':').count() == 5));
        assert_eq!(v["balance"], json!(25.0));
    }

    #[test]
    fn countries_keep_5sim_key_order() {
        let c = CountryEntry {
            name: "usa".into(),
            iso: "us".into(),
            prefix: "+1".into(),
            text: "United States".into(),
            operators: vec!["1".into(), "2".into()],
        };
        let text = countries(&[c]);
        let want = concat!(
            r#"{"usa":{"iso":{"us":1},"prefix":{"+1":1},"text_en":"United States","#,
            r#""text_ru":"United States","1":{"activation":1},"2":{"activation":1}}}"#
        );
        assert_eq!(text, want);
        assert!(serde_json::from_str::<Value>(&text).is_ok());
    }

    #[test]
    fn price_lists_nest_by_what_was_asked() {
        let e = |country: &str, op: &str| PriceEntry {
            country: country.into(),
            product: "telegram".into(),
            operator: op.into(),
            cost: Money::from_minor(500),
            count: 3,
        };
        let list = [e("usa", "1"), e("usa", "2"), e("india", "1")];
        let v = prices(&list, false);
        assert_eq!(v["usa"]["telegram"]["2"]["count"], 3);
        assert_eq!(v["india"]["telegram"]["1"]["cost"], json!(0.05));
        let v = prices(&list, true);
        assert_eq!(v["telegram"]["usa"]["1"]["rate"], 0);
    }
}
