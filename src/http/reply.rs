//! A rendered answer: status, content type, body and extra headers. Every front door builds
//! these; the pipeline adds the rate-limit headers and sends them.
pub const JSON: &str = "application/json; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";
/// JSON without parameters, for a protocol whose clients compare the whole header (5sim's).
pub const JSON_BARE: &str = "application/json";

/// A list's page in the house envelope's `pagination` object.
pub fn pagination(page: crate::domain::pagination::Page, total: u64) -> serde_json::Value {
    serde_json::json!({
        "page": page.page,
        "limit": page.limit,
        "total": total,
        "total_pages": page.total_pages(total),
    })
}

/// The same for a list that can be walked by keyset: `page` is null on a page asked for by
/// `after`, and `next_cursor` (the `after` of the next page) is null on the last page.
pub fn slice_pagination(
    slice: &crate::domain::pagination::Slice,
    total: u64,
    next_cursor: Option<String>,
) -> serde_json::Value {
    let page = slice.page;
    serde_json::json!({
        "page": slice.page_number(),
        "limit": page.limit,
        "total": total,
        "total_pages": page.total_pages(total),
        "next_cursor": next_cursor,
    })
}

/// One page of a list walked by keyset: its `rows` (out of `total`), each rendered by `row`,
/// and the cursor of the page after it (`id`: a row's keyset id).
pub fn page_rows<T>(
    slice: &crate::domain::pagination::Slice,
    (rows, total): (&[T], u64),
    id: impl Fn(&T) -> &str,
    row: impl Fn(&T) -> serde_json::Value,
) -> (Vec<serde_json::Value>, Option<String>) {
    let next = slice.next(total, rows.len(), rows.last().map(id));
    (rows.iter().map(row).collect(), next)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply::raw(status, JSON, value.to_string())
    }

    pub fn ok(value: serde_json::Value) -> Reply {
        Reply::json(200, &value)
    }

    /// A plain-text answer (text protocols such as sms-activate's `handler_api.php`).
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply::raw(status, TEXT, body.into())
    }

    pub fn raw(status: u16, content_type: &'static str, body: String) -> Reply {
        Reply {
            status,
            content_type,
            body,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}
