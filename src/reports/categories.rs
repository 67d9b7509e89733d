//! The catalog of report categories an office accepts, looked up by code.

pub use crate::config::{Category, LocalizedText, default_categories};

/// The categories in configured order.
#[derive(Debug, Clone)]
pub struct CategoryCatalog {
    categories: Vec<Category>,
}

impl CategoryCatalog {
    pub fn new(categories: Vec<Category>) -> CategoryCatalog {
        CategoryCatalog { categories }
    }

    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories
            .iter()
            .find(|category| category.code == code)
    }

    pub fn all(&self) -> &[Category] {
        &self.categories
    }

    pub fn codes(&self) -> Vec<&str> {
        self.categories.iter().map(|c| c.code.as_str()).collect()
    }
}
