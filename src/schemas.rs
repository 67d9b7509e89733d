//! The JSON Schemas of every wire message (`schemas/`), embedded, and the OpenAPI document.

use serde_json::{Map, Value};

/// `("name", text)` for `schemas/name.schema.json`, embedded.
macro_rules! schemas {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../schemas/", $name, ".schema.json")))),+]
    };
}

/// Every schema file, by name (the file name without `.schema.json`). `common` comes first.
pub const SCHEMAS: &[(&str, &str)] = schemas![
    "common",
    "report-submission",
    "receipt",
    "report",
    "report-page",
    "report-features",
    "error",
    "ws-client-frame",
    "ws-server-frame",
    "mqtt-inbox",
    "mqtt-hub-state",
    "zone-lookup",
    "zone-features",
    "categories",
    "readiness",
    "open311-services",
    "open311-submitted",
    "open311-requests",
    "open311-errors",
    "notice-content",
    "notice-draft",
    "notice",
    "notice-page",
    "notice-frame",
    "login",
    "users",
    "audit-page",
    "keys",
    "report-update",
    "report-updates",
    "report-status-change",
    "report-history",
    "incident",
    "incident-page",
    "incident-detail",
    "triage-requests",
    "team",
    "device",
    "task",
    "mqtt-task",
    "mqtt-task-answer",
    "mqtt-device-state",
    "mqtt-device-position",
    "stats",
    "open-data",
    "ui-config",
    "places",
    "push-payload",
    "subscriptions",
    "cap-sources",
    "public-notices",
    "public-notice-chain",
    "public-stats",
    "webhooks",
];

/// `schemas/openapi.json` with every schema inlined under `components/schemas/<name>`.
pub fn openapi_document() -> Value {
    let mut document: Value = serde_json::from_str(include_str!("../schemas/openapi.json"))
        .expect("schemas/openapi.json is JSON");
    let components: Map<String, Value> = SCHEMAS
        .iter()
        .map(|(name, text)| {
            let mut schema: Value = serde_json::from_str(text).expect("every schema file is JSON");
            if let Value::Object(object) = &mut schema {
                object.remove("$id");
                object.remove("$schema");
            }
            point_refs_at_components(&mut schema, name);
            ((*name).to_owned(), schema)
        })
        .collect();
    document["components"]["schemas"] = Value::Object(components);
    document
}

/// `other.schema.json#/x` becomes `#/components/schemas/other/x`; a local `#/x` stays within `name`.
fn point_refs_at_components(value: &mut Value, name: &str) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => *target = component_ref(target, name),
                    (_, child) => point_refs_at_components(child, name),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| point_refs_at_components(item, name)),
        _ => {}
    }
}

fn component_ref(target: &str, name: &str) -> String {
    let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
    let schema = file
        .strip_suffix(".schema.json")
        .filter(|stem| !stem.is_empty())
        .unwrap_or(name);
    format!(
        "#/components/schemas/{schema}{}",
        fragment.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::ErrorCode;

    #[test]
    fn the_published_error_codes_are_exactly_the_ones_the_hub_uses() {
        let common: Value = serde_json::from_str(SCHEMAS[0].1).unwrap();
        let mut published: Vec<String> = common["$defs"]["error_code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        let mut used: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|code| {
                serde_json::to_value(code)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        published.sort();
        used.sort();

        assert_eq!(published, used);
    }

    #[test]
    fn every_schema_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|entry| {
                let name = entry.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".schema.json").map(str::to_owned)
            })
            .collect();
        let mut embedded: Vec<String> =
            SCHEMAS.iter().map(|(name, _)| (*name).to_owned()).collect();
        files.sort();
        embedded.sort();

        assert_eq!(files, embedded);
    }
}
