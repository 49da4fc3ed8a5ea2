//! Operator routes for the activation side: catalog, number inventory, suppliers.
