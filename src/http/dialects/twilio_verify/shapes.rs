//! The pure pieces of Twilio's JSON answers: its dates, a list's `meta`, and the origin
//! every `url` and `links` entry points back at.
use crate::domain::twilio_verify::Paging;
use serde_json::{json, Value};

/// Twilio's dates: ISO 8601 in UTC to the second, `2015-07-30T20:00:00Z` (what the SDKs
/// parse with `YYYY-MM-DD[T]HH:mm:ss[Z]` / `%Y-%m-%dT%H:%M:%SZ`).
pub fn date(unix_ms: i64) -> String {
    crate::domain::time::rfc3339(unix_ms)
}

/// `meta` of a list answer; `list_url` is the list's absolute URL without a query, `key`
/// the name of the array (`services`), `has_next` whether a further page has rows.
pub fn meta(paging: Paging, list_url: &str, key: &str, has_next: bool) -> Value {
    let next = has_next.then(String::new);
    meta_filtered(paging, list_url, key, "", next.as_deref())
}

/// As `meta`, for a list whose every page URL keeps the request's filters (`filters`: the
/// query's other parameters, as sent); `next_token` (a next page exists) is the next page's
/// `PageToken`, empty for none.
pub fn meta_filtered(
    paging: Paging,
    list_url: &str,
    key: &str,
    filters: &str,
    next_token: Option<&str>,
) -> Value {
    let sep = if filters.is_empty() { "" } else { "&" };
    let url = |page: u32| {
        format!(
            "{list_url}?{filters}{sep}PageSize={}&Page={page}",
            paging.size
        )
    };
    let next = next_token.map(|t| match t {
        "" => url(paging.page + 1),
        token => format!("{}&PageToken={token}", url(paging.page + 1)),
    });
    json!({
        "page": paging.page,
        "page_size": paging.size,
        "first_page_url": url(0),
        "previous_page_url": (paging.page > 0).then(|| url(paging.page - 1)),
        "url": url(paging.page),
        "next_page_url": next,
        "key": key,
    })
}

/// The parameters of a query string other than paging (`Page`, `PageSize`, `PageToken`),
/// as sent, for the page URLs of a filtered list.
pub fn filters_of(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && !matches!(name, "Page" | "PageSize" | "PageToken")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `scheme://host` of an absolute URL.
pub fn origin(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url
        .get(start..)
        .and_then(|rest| rest.find('/'))
        .map_or(url.len(), |i| start + i);
    url.get(..end).unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_8601_to_the_second() {
        assert_eq!(date(1_438_286_400_000), "2015-07-30T20:00:00Z");
        assert_eq!(date(1_438_286_400_999), "2015-07-30T20:00:00Z");
    }

    #[test]
    fn list_meta() {
        let meta_of = |page, has_next| {
            meta(
                Paging { page, size: 2 },
                "https://h/v2/Services",
                "services",
                has_next,
            )
        };
        let m = meta_of(1, false);
        assert_eq!(m["key"], "services");
        assert_eq!(m["page"], 1);
        assert_eq!(m["page_size"], 2);
        assert_eq!(m["url"], "https://h/v2/Services?PageSize=2&Page=1");
        assert_eq!(
            m["first_page_url"],
            "https://h/v2/Services?PageSize=2&Page=0"
        );
        assert_eq!(
            m["previous_page_url"],
            "https://h/v2/Services?PageSize=2&Page=0"
        );
        assert_eq!(m["next_page_url"], Value::Null);
        let first = meta_of(0, true);
        assert_eq!(first["previous_page_url"], Value::Null);
        assert_eq!(
            first["next_page_url"],
            "https://h/v2/Services?PageSize=2&Page=1"
        );
    }

    #[test]
    fn filtered_list_meta_keeps_the_filters() {
        let paging = Paging { page: 0, size: 2 };
        let filters = filters_of("Status=CONVERTED&PageSize=2&Page=0&PageToken=PT1_VL&Country=US");
        assert_eq!(filters, "Status=CONVERTED&Country=US");
        let m = meta_filtered(
            paging,
            "https://h/v2/Attempts",
            "attempts",
            &filters,
            Some("PT9_VLx"),
        );
        assert_eq!(
            m["next_page_url"],
            "https://h/v2/Attempts?Status=CONVERTED&Country=US&PageSize=2&Page=1&PageToken=PT9_VLx"
        );
        assert_eq!(
            m["url"],
            "https://h/v2/Attempts?Status=CONVERTED&Country=US&PageSize=2&Page=0"
        );
        let last = meta_filtered(paging, "https://h/v2/Attempts", "attempts", "", None);
        assert_eq!(last["next_page_url"], Value::Null);
        assert_eq!(
            last["first_page_url"],
            "https://h/v2/Attempts?PageSize=2&Page=0"
        );
    }

    #[test]
    fn origin_of_a_request_url() {
        assert_eq!(
            origin("https://h.example/v2/Services?x=1"),
            "https://h.example"
        );
        assert_eq!(origin("http://127.0.0.1:8787/v2"), "http://127.0.0.1:8787");
        assert_eq!(origin("https://h.example"), "https://h.example");
    }
}
