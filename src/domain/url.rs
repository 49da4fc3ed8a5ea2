//! URL pieces without a full URL parser (that would link IDNA tables worth tens of KB of
//! wasm for nothing: the runtime has already normalized the URL).

/// Splits an absolute URL into (path, query).
pub fn split_url(url: &str) -> (&str, &str) {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let from_path = after_scheme
        .find('/')
        .map_or("/", |i| after_scheme.get(i..).unwrap_or("/"));
    let without_fragment = from_path.split('#').next().unwrap_or(from_path);
    match without_fragment.split_once('?') {
        Some((path, query)) => (path, query),
        None => (without_fragment, ""),
    }
}

/// The first value of a query parameter, percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
