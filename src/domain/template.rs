//! Template rendering with {code} and {variables}.
