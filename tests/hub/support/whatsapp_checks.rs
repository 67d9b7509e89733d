//! What the Cloud API stand-in checks in a message the hub sends, with Meta's limits: the
//! envelope, texts, reply buttons, lists, location requests, templates, locations and images.

use std::collections::HashSet;

use serde_json::Value;

use super::server::{GraphError, invalid};

/// A message that passed the checks which need no state.
pub(super) struct Outgoing {
    pub(super) to: String,
    pub(super) kind: String,
    /// What `Sent::text` records.
    pub(super) text: String,
    /// A template's name, language code and body parameters.
    pub(super) template: Option<(String, String, Vec<String>)>,
}

pub(super) fn outgoing(body: &Value) -> Result<Outgoing, GraphError> {
    if !body.is_object() {
        return Err(GraphError::new(
            400,
            100,
            "The parameter messaging_product is required.",
            "The request body must be a JSON object",
        ));
    }
    match body.get("messaging_product") {
        None => {
            return Err(GraphError::new(
                400,
                100,
                "The parameter messaging_product is required.",
                "messaging_product is required",
            ));
        }
        Some(product) if product != "whatsapp" => {
            return Err(invalid(format!(
                "messaging_product must be whatsapp, not {product}"
            )));
        }
        Some(_) => {}
    }
    if let Some(recipient_type) = body.get("recipient_type")
        && recipient_type != "individual"
    {
        return Err(invalid(format!(
            "recipient_type must be individual, not {recipient_type}"
        )));
    }
    let to = body["to"].as_str().unwrap_or_default();
    if !(7..=15).contains(&to.len()) || !to.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid(format!(
            "to must be a phone number of 7 to 15 digits, not {}",
            body["to"]
        )));
    }
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("text");
    let object = body.get(kind).unwrap_or(&Value::Null);
    if !object.is_object() {
        return Err(invalid(format!("Param {kind} is required")));
    }
    let mut template = None;
    let text = match kind {
        "text" => {
            let text = string(object, "text", "body", 1, 4096)?;
            if text.trim().is_empty() {
                return Err(invalid("Param text.body must not be blank"));
            }
            if object
                .get("preview_url")
                .is_some_and(|flag| !flag.is_boolean())
            {
                return Err(invalid("Param text.preview_url must be a boolean"));
            }
            text
        }
        "interactive" => interactive(object)?,
        "template" => {
            let (name, language, params) = checked_template(object)?;
            let text = if params.is_empty() {
                name.clone()
            } else {
                format!("{name}: {}", params.join(" | "))
            };
            template = Some((name, language, params));
            text
        }
        "location" => location(object)?,
        "image" => image(object)?,
        other => return Err(invalid(format!("Unsupported message type: {other}"))),
    };
    Ok(Outgoing {
        to: to.to_owned(),
        kind: kind.to_owned(),
        text,
        template,
    })
}

/// `parent[key]`, a string of `min` to `max` characters (a missing one counts as empty).
fn string(
    parent: &Value,
    path: &str,
    key: &str,
    min: usize,
    max: usize,
) -> Result<String, GraphError> {
    let value = parent.get(key).unwrap_or(&Value::Null);
    let text = match value {
        Value::Null => "",
        Value::String(text) => text.as_str(),
        other => {
            return Err(invalid(format!(
                "Param {path}.{key} must be a string, not {other}"
            )));
        }
    };
    let length = text.chars().count();
    if length < min {
        return Err(invalid(format!("Param {path}.{key} is required")));
    }
    if length > max {
        return Err(invalid(format!(
            "Param {path}.{key} must be at most {max} characters long"
        )));
    }
    Ok(text.to_owned())
}

fn array<'a>(parent: &'a Value, path: &str) -> Result<&'a Vec<Value>, GraphError> {
    parent
        .as_array()
        .ok_or_else(|| invalid(format!("Param {path} must be an array")))
}

fn interactive(object: &Value) -> Result<String, GraphError> {
    let kind = object["type"].as_str().unwrap_or_default();
    let body_max = match kind {
        "button" | "location_request_message" => 1024,
        "list" => 4096,
        other => {
            return Err(invalid(format!(
                "Param interactive.type must be button, list or location_request_message, \
                 not {other:?}"
            )));
        }
    };
    let text = string(&object["body"], "interactive.body", "text", 1, body_max)?;
    if let Some(header) = object.get("header") {
        match (kind, header["type"].as_str().unwrap_or_default()) {
            ("button" | "list", "text") => {
                string(header, "interactive.header", "text", 1, 60)?;
            }
            ("button", medium @ ("image" | "video" | "document")) => {
                let media = &header[medium];
                if media.get("id").is_none() && media.get("link").is_none() {
                    return Err(invalid(format!(
                        "Param interactive.header.{medium} must have an id or a link"
                    )));
                }
            }
            (_, other) => {
                return Err(invalid(format!(
                    "Param interactive.header.type {other:?} is not allowed in a {kind} message"
                )));
            }
        }
    }
    if let Some(footer) = object.get("footer") {
        string(footer, "interactive.footer", "text", 1, 60)?;
    }
    let action = &object["action"];
    match kind {
        "button" => buttons(action)?,
        "list" => list(action)?,
        _ if action["name"] != "send_location" => {
            return Err(invalid(
                "Param interactive.action.name must be send_location",
            ));
        }
        _ => {}
    }
    Ok(text)
}

fn buttons(action: &Value) -> Result<(), GraphError> {
    let buttons = array(&action["buttons"], "interactive.action.buttons")?;
    if !(1..=3).contains(&buttons.len()) {
        return Err(invalid(format!(
            "Param interactive.action.buttons must have 1 to 3 buttons, not {}",
            buttons.len()
        )));
    }
    let (mut ids, mut titles) = (HashSet::new(), HashSet::new());
    for button in buttons {
        if button["type"] != "reply" {
            return Err(invalid(
                "Param interactive.action.buttons[].type must be reply",
            ));
        }
        let reply = &button["reply"];
        let path = "interactive.action.buttons[].reply";
        if !ids.insert(string(reply, path, "id", 1, 256)?) {
            return Err(invalid("Button ids must be unique"));
        }
        if !titles.insert(string(reply, path, "title", 1, 20)?) {
            return Err(invalid("Button titles must be unique"));
        }
    }
    Ok(())
}

fn list(action: &Value) -> Result<(), GraphError> {
    string(action, "interactive.action", "button", 1, 20)?;
    let sections = array(&action["sections"], "interactive.action.sections")?;
    if !(1..=10).contains(&sections.len()) {
        return Err(invalid(
            "Param interactive.action.sections must have 1 to 10 sections",
        ));
    }
    let mut ids = HashSet::new();
    let mut rows_in_all = 0;
    for section in sections {
        let path = "interactive.action.sections[]";
        let min_title = usize::from(sections.len() > 1);
        string(section, path, "title", min_title, 24)?;
        let rows = array(&section["rows"], "interactive.action.sections[].rows")?;
        if rows.is_empty() {
            return Err(invalid(
                "Param interactive.action.sections[].rows must not be empty",
            ));
        }
        rows_in_all += rows.len();
        for row in rows {
            let path = "interactive.action.sections[].rows[]";
            if !ids.insert(string(row, path, "id", 1, 200)?) {
                return Err(invalid("Row ids must be unique"));
            }
            string(row, path, "title", 1, 24)?;
            string(row, path, "description", 0, 72)?;
        }
    }
    if rows_in_all > 10 {
        return Err(invalid(format!(
            "Total row count exceed max allowed count: 10 (got {rows_in_all})"
        )));
    }
    Ok(())
}

fn checked_template(object: &Value) -> Result<(String, String, Vec<String>), GraphError> {
    let name = string(object, "template", "name", 1, 512)?;
    let language = string(&object["language"], "template.language", "code", 1, 15)?;
    let mut params = Vec::new();
    let no_components = Vec::new();
    let components = match object.get("components") {
        None => &no_components,
        Some(components) => array(components, "template.components")?,
    };
    for component in components {
        let kind = component["type"].as_str().unwrap_or_default();
        if !matches!(kind, "header" | "body" | "button") {
            return Err(invalid(format!(
                "Param template.components[].type must be header, body or button, not {kind:?}"
            )));
        }
        if kind != "body" {
            continue;
        }
        let path = "template.components[].parameters";
        for param in array(component.get("parameters").unwrap_or(&Value::Null), path)? {
            let text = match param["type"].as_str().unwrap_or_default() {
                "text" => string(
                    param,
                    "template.components[].parameters[]",
                    "text",
                    1,
                    32768,
                )?,
                "currency" | "date_time" => {
                    let kind = param["type"].as_str().unwrap_or_default();
                    let value = &param[kind];
                    string(value, kind, "fallback_value", 1, 1024)?
                }
                other => {
                    return Err(invalid(format!(
                        "Param template body parameter type must be text, currency or \
                         date_time, not {other:?}"
                    )));
                }
            };
            if text.contains(['\n', '\t']) || text.contains("     ") {
                return Err(GraphError::new(
                    400,
                    132018,
                    "There was an issue with the parameters in your template.",
                    "Param text cannot have new-line/tab characters or more than 4 consecutive \
                     spaces",
                ));
            }
            params.push(text);
        }
    }
    Ok((name, language, params))
}

fn coordinate(object: &Value, key: &str, limit: f64) -> Result<f64, GraphError> {
    let value = match &object[key] {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    value
        .filter(|value: &f64| value.abs() <= limit)
        .ok_or_else(|| {
            invalid(format!(
                "Param location.{key} must be a number within ±{limit}"
            ))
        })
}

fn location(object: &Value) -> Result<String, GraphError> {
    let lat = coordinate(object, "latitude", 90.0)?;
    let lon = coordinate(object, "longitude", 180.0)?;
    let name = string(object, "location", "name", 0, 1000)?;
    let address = string(object, "location", "address", 0, 1000)?;
    let named: Vec<String> = [name, address]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
    Ok(if named.is_empty() {
        format!("{lat},{lon}")
    } else {
        named.join(", ")
    })
}

fn image(object: &Value) -> Result<String, GraphError> {
    let id = string(object, "image", "id", 0, 256)?;
    let link = string(object, "image", "link", 0, 2048)?;
    match (id.is_empty(), link.is_empty()) {
        (true, true) => return Err(invalid("Param image must have an id or a link")),
        (false, false) => return Err(invalid("Param image must have an id or a link, not both")),
        (true, false) if !link.starts_with("https://") && !link.starts_with("http://") => {
            return Err(invalid("Param image.link must be an http(s) URL"));
        }
        _ => {}
    }
    string(object, "image", "caption", 0, 1024)
}
