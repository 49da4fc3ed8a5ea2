//! The sms-activate dialect: `GET`/`POST /stubs/handler_api.php?api_key=…&action=…`.
//! `params` parses a request into a typed action, `answers` renders each typed answer as the
//! protocol's text or JSON, `words` holds its error words; all pure and tested natively.
//!
//! # The wire protocol, as the published clients send and parse it
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
//!
//! # Answering
//!
//! Protocol errors are answers, not failures: HTTP 200 and the protocol's word (JSON
//! `{"status":"error","message"}` for rent actions). What the protocol has no word for (a
//! server-side failure, the rate limit, a wrong method) is rendered by `SmsActivateEnvelope`.
//! The key (`api_key`, query string or form body) is never logged.
pub mod answers;
pub mod params;
pub mod words;

#[cfg(target_arch = "wasm32")]
mod handler;
#[cfg(target_arch = "wasm32")]
pub use handler::handle;
