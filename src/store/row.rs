//! D1 rows read column by column from the JS objects D1 returns, without a serde
//! deserializer per row type: a missing or mistyped column is a `StoreError`, never a panic.
use super::StoreError;
use worker::js_sys::Reflect;
use worker::wasm_bindgen::JsValue;
use worker::D1Result;

/// One row of a result: a JS object keyed by column name.
pub struct Row(JsValue);

/// A row type built from its columns.
pub trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self, StoreError>;
}

/// A value one column holds. D1 returns numbers as f64 (integers exact below 2^53),
/// booleans as 0/1, NULL as null; a column the query did not select is undefined.
pub trait Column: Sized {
    /// What the column must hold (for the error).
    const WHAT: &'static str;
    /// `None`: the value is not of this type.
    fn from_js(value: &JsValue) -> Option<Self>;
}

/// The largest integer an f64 holds exactly (JS `Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn integral(value: &JsValue) -> Option<i64> {
    let n = value.as_f64()?;
    (n.fract() == 0.0 && n.abs() <= MAX_SAFE).then_some(n as i64)
}

impl Column for String {
    const WHAT: &'static str = "text";
    fn from_js(value: &JsValue) -> Option<String> {
        value.as_string()
    }
}

impl Column for f64 {
    const WHAT: &'static str = "a number";
    fn from_js(value: &JsValue) -> Option<f64> {
        value.as_f64()
    }
}

impl Column for bool {
    const WHAT: &'static str = "a boolean (0 or 1)";
    fn from_js(value: &JsValue) -> Option<bool> {
        value.as_bool().or_else(|| match integral(value)? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        })
    }
}

macro_rules! integer_column {
    ($($ty:ty),*) => {$(
        impl Column for $ty {
            const WHAT: &'static str = concat!("an integer in range of ", stringify!($ty));
            fn from_js(value: &JsValue) -> Option<$ty> {
                <$ty>::try_from(integral(value)?).ok()
            }
        }
    )*};
}
integer_column!(i64, i32, u64, u32, u16, u8, usize);

/// NULL (or a column not selected) is `None`.
impl<T: Column> Column for Option<T> {
    const WHAT: &'static str = T::WHAT;
    fn from_js(value: &JsValue) -> Option<Option<T>> {
        if value.is_null() || value.is_undefined() {
            Some(None)
        } else {
            T::from_js(value).map(Some)
        }
    }
}

impl Row {
    /// The value of column `name`, as `T`.
    pub fn get<T: Column>(&self, name: &str) -> Result<T, StoreError> {
        let value = Reflect::get(&self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
        T::from_js(&value).ok_or_else(|| mistyped(name, T::WHAT, &value))
    }

    /// The value of column `name`, or `T`'s default when it is NULL or not selected.
    pub fn get_or_default<T: Column + Default>(&self, name: &str) -> Result<T, StoreError> {
        Ok(self.get::<Option<T>>(name)?.unwrap_or_default())
    }
}

#[cold]
fn mistyped(name: &str, what: &str, value: &JsValue) -> StoreError {
    let found = if value.is_undefined() {
        "missing".to_owned()
    } else {
        format!("{:?}", value.js_typeof().as_string().unwrap_or_default())
    };
    StoreError::other(format!("D1 column {name}: expected {what}, found {found}"))
}

/// A D1 row as it arrives, kept as its JS object (the one serde type rows go through).
#[derive(serde::Deserialize)]
struct Raw(#[serde(with = "serde_wasm_bindgen::preserve")] JsValue);

/// The rows of a result, as JS objects.
pub fn rows(result: &D1Result) -> Result<Vec<Row>, StoreError> {
    let raw = result
        .results::<Raw>()
        .map_err(|e| StoreError::other(format!("D1 rows: {e}")))?;
    Ok(raw.into_iter().map(|Raw(v)| Row(v)).collect())
}

/// The rows of a result, each read as `T`.
pub fn read<T: FromRow>(result: &D1Result) -> Result<Vec<T>, StoreError> {
    rows(result)?.iter().map(T::from_row).collect()
}

/// The first row of a batch's statement (`None`: no such statement, or no row), as `T`.
pub fn first_of<T: FromRow>(result: Option<&D1Result>) -> Result<Option<T>, StoreError> {
    let rows = result.map(rows).transpose()?.unwrap_or_default();
    rows.first().map(T::from_row).transpose()
}

/// The rows of a batch's statement (`None`: the batch had no such statement), each as `T`.
pub fn read_opt<T: FromRow>(result: Option<&D1Result>) -> Result<Vec<T>, StoreError> {
    result.map_or(Ok(Vec::new()), read)
}

/// Implements `FromRow` for a struct whose fields are named as the query's columns. A field
/// written `name or default` takes `Default` when its column is NULL or not selected; one
/// written `name from row` is a `FromRow` type read from the same row.
macro_rules! from_row {
    ($ty:ident { $($field:ident $($how:ident $what:ident)?),* $(,)? }) => {
        impl $crate::store::row::FromRow for $ty {
            fn from_row(
                row: &$crate::store::row::Row,
            ) -> Result<Self, $crate::store::StoreError> {
                Ok($ty {
                    $($field: $crate::store::row::from_row!(@get row $field $($how $what)?),)*
                })
            }
        }
    };
    (@get $row:ident $field:ident) => {
        $row.get(stringify!($field))?
    };
    (@get $row:ident $field:ident or default) => {
        $row.get_or_default(stringify!($field))?
    };
    (@get $row:ident $field:ident from row) => {
        $crate::store::row::FromRow::from_row($row)?
    };
}
pub(crate) use from_row;

/// Declares a row type and its `FromRow`: each field is read from the column of its name. A
/// field written `name: T = default` takes `T::default()` when its column is NULL or not
/// selected.
macro_rules! row {
    (
        $(#[$meta:meta])* $vis:vis struct $ty:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident: $fty:ty $(= $dflt:ident)?),* $(,)?
        }
    ) => {
        $(#[$meta])* $vis struct $ty { $($(#[$fmeta])* $fvis $field: $fty),* }
        $crate::store::row::from_row!($ty { $($field $(or $dflt)?),* });
    };
}
pub(crate) use row;
