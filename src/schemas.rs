//! The JSON Schemas of every wire message (`schemas/`), embedded, and the OpenAPI document.

use serde_json::{Map, Value};

/// Every schema file, by name (the file name without `.schema.json`).
pub const SCHEMAS: &[(&str, &str)] = &[
    ("common", include_str!("../schemas/common.schema.json")),
    (
        "report-submission",
        include_str!("../schemas/report-submission.schema.json"),
    ),
    ("receipt", include_str!("../schemas/receipt.schema.json")),
    ("report", include_str!("../schemas/report.schema.json")),
    (
        "report-page",
        include_str!("../schemas/report-page.schema.json"),
    ),
    (
        "report-features",
        include_str!("../schemas/report-features.schema.json"),
    ),
    ("error", include_str!("../schemas/error.schema.json")),
    (
        "ws-client-frame",
        include_str!("../schemas/ws-client-frame.schema.json"),
    ),
    (
        "ws-server-frame",
        include_str!("../schemas/ws-server-frame.schema.json"),
    ),
    (
        "mqtt-inbox",
        include_str!("../schemas/mqtt-inbox.schema.json"),
    ),
    (
        "mqtt-hub-state",
        include_str!("../schemas/mqtt-hub-state.schema.json"),
    ),
    (
        "zone-lookup",
        include_str!("../schemas/zone-lookup.schema.json"),
    ),
    (
        "zone-features",
        include_str!("../schemas/zone-features.schema.json"),
    ),
    (
        "categories",
        include_str!("../schemas/categories.schema.json"),
    ),
    (
        "readiness",
        include_str!("../schemas/readiness.schema.json"),
    ),
    (
        "open311-services",
        include_str!("../schemas/open311-services.schema.json"),
    ),
    (
        "open311-submitted",
        include_str!("../schemas/open311-submitted.schema.json"),
    ),
    (
        "open311-requests",
        include_str!("../schemas/open311-requests.schema.json"),
    ),
    (
        "open311-errors",
        include_str!("../schemas/open311-errors.schema.json"),
    ),
    (
        "notice-content",
        include_str!("../schemas/notice-content.schema.json"),
    ),
    (
        "notice-draft",
        include_str!("../schemas/notice-draft.schema.json"),
    ),
    ("notice", include_str!("../schemas/notice.schema.json")),
    (
        "notice-page",
        include_str!("../schemas/notice-page.schema.json"),
    ),
    (
        "notice-frame",
        include_str!("../schemas/notice-frame.schema.json"),
    ),
    ("login", include_str!("../schemas/login.schema.json")),
    ("users", include_str!("../schemas/users.schema.json")),
    (
        "audit-page",
        include_str!("../schemas/audit-page.schema.json"),
    ),
    ("keys", include_str!("../schemas/keys.schema.json")),
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
}
