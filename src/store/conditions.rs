//! The WHERE clause of a listing, built from optional filters, with numbered parameters.

use rusqlite::types::Value;

/// Conditions joined by AND; none means every row.
#[derive(Default)]
pub(crate) struct Conditions {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    /// Adds `clause`, every `?` in it bound to `value`.
    pub(crate) fn bind(&mut self, clause: &str, value: impl Into<Value>) {
        self.values.push(value.into());
        let number = format!("?{}", self.values.len());
        self.clauses.push(clause.replace('?', &number));
    }

    /// Adds `clause` bound to `value` when there is one.
    pub(crate) fn bind_some<T: Into<Value>>(&mut self, clause: &str, value: Option<T>) {
        if let Some(value) = value {
            self.bind(clause, value);
        }
    }

    /// Adds a clause that binds nothing (one built from trusted constants).
    pub(crate) fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// The condition (`1` for none) and the values of its parameters.
    pub(crate) fn into_parts(self) -> (String, Vec<Value>) {
        let condition = match self.clauses.is_empty() {
            true => "1".to_owned(),
            false => self.clauses.join(" AND "),
        };
        (condition, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_order_and_a_repeated_mark_shares_its_value() {
        let mut conditions = Conditions::default();
        conditions.bind("a = ?", 1);
        conditions.bind_some::<i64>("b = ?", None);
        conditions.bind("(c <= ? OR d <= ?)", 2);
        conditions.push("e IN ('x')".to_owned());

        let (condition, values) = conditions.into_parts();

        assert_eq!(condition, "a = ?1 AND (c <= ?2 OR d <= ?2) AND e IN ('x')");
        assert_eq!(values, [Value::Integer(1), Value::Integer(2)]);
        assert_eq!(Conditions::default().into_parts().0, "1");
    }
}
