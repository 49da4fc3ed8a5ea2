//! Extracting the code from an incoming SMS.
