//! Catalog (countries, services, operators, prices) and number inventory in D1.
