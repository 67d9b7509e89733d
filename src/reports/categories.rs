//! The catalog of report categories an office accepts, looked up by code: configured, so
//! it lives with the configuration.

pub use crate::config::{Category, CategoryCatalog, LocalizedText, default_categories};
