//! The request's method, URL and the headers (nearly) every request reads, taken from the
//! runtime in ONE call across the JS boundary (`head`): each separate read crosses it
//! twice (the name out, the value back in). Other headers are read on demand.
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;

/// Headers fetched up front, in the order `head` answers them.
const FETCHED: [&str; 6] = [
    "CF-Connecting-IP",
    "Authorization",
    "Cookie",
    "Content-Length",
    "Content-Type",
    "Idempotency-Key",
];

thread_local! {
    /// `FETCHED` as a JS array, made once per isolate.
    static NAMES: JsValue = FETCHED.iter().copied().map(JsValue::from_str)
        .collect::<worker::js_sys::Array>().into();
}

// Method, URL and each named header (NUL when absent), joined by line feeds: none of them
// can hold a line feed or a NUL (the runtime refuses them in header values, and a URL is
// serialized without them), so the split in `Head::read` is exact.
#[wasm_bindgen(inline_js = r#"
export function head(req, names) {
  const h = req.headers, out = [req.method, req.url];
  for (const name of names) out.push(h.get(name) ?? "\0");
  return out.join("\n");
}"#)]
extern "C" {
    fn head(req: &web_sys::Request, names: &JsValue) -> String;
}

/// The request's headers: those `head` read, and the runtime's for any other.
pub struct Head {
    fetched: [Option<String>; FETCHED.len()],
    headers: web_sys::Headers,
}

impl Head {
    /// The request's method, URL and headers.
    pub fn read(req: &web_sys::Request) -> (String, String, Head) {
        let text = NAMES.with(|names| head(req, names));
        let mut parts = text.split('\n');
        let mut next = || parts.next().unwrap_or_default().to_owned();
        let (method, url) = (next(), next());
        let fetched = std::array::from_fn(|_| Some(next()).filter(|v| v != "\0"));
        let headers = req.headers();
        (method, url, Head { fetched, headers })
    }

    /// A header's value (`None`: absent), like the runtime's `Headers.get`.
    pub fn get(&self, name: &str) -> Option<String> {
        match FETCHED.iter().position(|f| f.eq_ignore_ascii_case(name)) {
            Some(i) => self.fetched.get(i).cloned().flatten(),
            None => self.headers.get(name).ok().flatten(),
        }
    }
}
