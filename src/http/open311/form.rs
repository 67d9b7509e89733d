//! The GeoReport v2 `POST requests` form, read into a report submission.

use std::collections::HashMap;

use crate::http::params;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{ClientRef, RawContact, RawSubmission};

/// The fields a report is made of: GeoReport v2's and our `client_ref`.
const READ: [&str; 11] = [
    "service_code",
    "lat",
    "long",
    "description",
    "device_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "media_url",
    "client_ref",
];
/// GeoReport v2's other fields, which clients send and this hub has no use for (it places a
/// request by `lat` and `long`, and has no accounts or jurisdictions). `attribute[...]` too.
const IGNORED: [&str; 5] = [
    "api_key",
    "jurisdiction_id",
    "address_string",
    "address_id",
    "account_id",
];

/// Maps the GeoReport form onto our report fields. `client_ref` (or an `Idempotency-Key`
/// header) is our extension so that a retried POST is stored once.
pub fn parse_request_form(
    body: &[u8],
    idempotency_key: Option<&str>,
) -> Result<RawSubmission, Problem> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Problem::new(ErrorCode::InvalidUtf8, "the form body is not valid UTF-8"))?;
    params::decodes_to_utf8(text)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text).map_err(|err| {
        Problem::new(
            ErrorCode::MalformedJson,
            format!("the form body is malformed: {err}"),
        )
    })?;
    let form = once_each(pairs)?;
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let coordinate = |name: &str| field(name).map(|v| params::number(name, &v)).transpose();
    let client_ref = field("client_ref")
        .or_else(|| idempotency_key.map(str::to_owned))
        .unwrap_or_else(|| ClientRef::generated().as_str().to_owned());
    let name = [field("first_name"), field("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(RawSubmission {
        client_ref: Some(client_ref),
        device_id: field("device_id"),
        category: Some(field("service_code").ok_or_else(|| missing("service_code"))?),
        lat: Some(coordinate("lat")?.ok_or_else(|| missing_location("lat"))?),
        lon: Some(coordinate("long")?.ok_or_else(|| missing_location("long"))?),
        text: field("description"),
        contact: Some(RawContact {
            name: Some(name).filter(|n| !n.is_empty()),
            phone: field("phone"),
            email: field("email"),
        }),
        photo: None,
        media_url: field("media_url"),
    })
}

/// The form's fields by name, each given once: a second `lat` would leave the position to
/// chance. Open311's `attribute[...]` fields, which the hub ignores, may repeat.
fn once_each(pairs: Vec<(String, String)>) -> Result<HashMap<String, String>, Problem> {
    let mut form = HashMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        if name.starts_with("attribute[") || IGNORED.contains(&name.as_str()) {
            continue;
        }
        if !READ.contains(&name.as_str()) {
            // A mistyped `descripton` would otherwise be dropped, and the office never read it.
            let message = format!(
                "`{name}` is not a field of this form; it takes: {}, and ignores {}",
                READ.join(", "),
                IGNORED.join(", ")
            );
            return Err(Problem::with_field(ErrorCode::UnknownField, name, message));
        }
        if form.contains_key(&name) {
            let message = format!("`{name}` is given more than once; send it once");
            return Err(Problem::with_field(ErrorCode::InvalidField, name, message));
        }
        form.insert(name, value);
    }
    Ok(form)
}

fn missing(field: &str) -> Problem {
    Problem::with_field(
        ErrorCode::MissingField,
        field,
        format!("`{field}` is required"),
    )
}

fn missing_location(field: &str) -> Problem {
    Problem::with_field(
        ErrorCode::MissingField,
        field,
        format!("`{field}` is required: this hub places requests by lat and long, not by address"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_given_twice_is_refused_naming_it_and_repeated_attributes_are_let_be() {
        let twice = b"service_code=fire&lat=44.45&long=11.22&lat=45";
        let attributes =
            b"service_code=fire&lat=44.45&long=11.22&attribute[a][]=1&attribute[a][]=2";

        let refused = parse_request_form(twice, None).unwrap_err();

        assert_eq!(refused.field.as_deref(), Some("lat"));
        assert!(parse_request_form(attributes, None).is_ok());
    }

    #[test]
    fn a_mistyped_field_is_refused_naming_it_and_georeports_other_fields_are_let_be() {
        let typo = b"service_code=fire&lat=44.45&long=11.22&descripton=fumo";
        let georeport = b"service_code=fire&lat=44.45&long=11.22&api_key=k&jurisdiction_id=it\
            &address_string=via+Roma+1&address_id=7&account_id=3";

        let refused = parse_request_form(typo, None).unwrap_err();

        assert_eq!(
            (refused.code, refused.field.as_deref()),
            (ErrorCode::UnknownField, Some("descripton"))
        );
        assert!(parse_request_form(georeport, None).is_ok());
    }

    #[test]
    fn a_description_escaped_from_latin_1_is_refused_not_stored_with_replacement_characters() {
        let latin1 = b"service_code=fire&lat=44.45&long=11.22&description=citt%E0";
        let utf8 = b"service_code=fire&lat=44.45&long=11.22&description=citt%C3%A0";

        let refused = parse_request_form(latin1, None).unwrap_err();

        assert_eq!(refused.code, ErrorCode::InvalidUtf8);
        assert_eq!(refused.field.as_deref(), Some("description"));
        let stored = parse_request_form(utf8, None).unwrap();
        assert_eq!(stored.text.as_deref(), Some("città"));
    }
}
