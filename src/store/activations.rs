//! Activations and rents in D1.
