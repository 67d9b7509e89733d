//! Validating real traffic against the JSON Schemas in `schemas/`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

const BASE: &str = "https://vedetta.invalid/schemas/";

/// A validator per schema file (`report`), and per definition (`triage-requests#/$defs/merge`).
fn validators() -> &'static HashMap<String, jsonschema::Validator> {
    static VALIDATORS: OnceLock<HashMap<String, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let files: Vec<(&str, Value)> = vedetta::schemas::SCHEMAS
            .iter()
            .map(|(name, text)| (*name, serde_json::from_str(text).expect("schema is JSON")))
            .collect();
        let mut registry = jsonschema::Registry::new();
        for (name, schema) in &files {
            registry = registry
                .add(format!("{BASE}{name}.schema.json"), schema.clone())
                .expect("schema registers");
        }
        let registry = registry.prepare().expect("registry prepares");
        let build = |name: &str, schema: &Value| {
            jsonschema::options()
                .with_registry(&registry)
                .should_validate_formats(true)
                .build(schema)
                .unwrap_or_else(|err| panic!("schema {name} builds: {err}"))
        };
        let mut validators = HashMap::new();
        for (name, schema) in &files {
            validators.insert((*name).to_owned(), build(name, schema));
            let definitions = schema["$defs"].as_object().into_iter().flatten();
            for (definition, _) in definitions {
                let key = format!("{name}#/$defs/{definition}");
                let reference =
                    json!({ "$ref": format!("{BASE}{name}.schema.json#/$defs/{definition}") });
                validators.insert(key.clone(), build(&key, &reference));
            }
        }
        validators
    })
}

/// Panics with every violation if `value` does not match `schemas/<name>.schema.json`, or one of
/// its definitions: `triage-requests#/$defs/merge`.
pub fn assert_valid(name: &str, value: &Value) {
    let validator = validators()
        .get(name)
        .unwrap_or_else(|| panic!("no schema named {name}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{value} does not match {name}: {errors:#?}"
    );
}
