//! A report as a sender wrote it, and the checks that turn it into a [`Submission`].

use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::model::{ClientRef, Contact, DeviceId, Photo};
use crate::config::CategoryCatalog;
use crate::problem::{ErrorCode, Problem};
use crate::zones::Location;

const MAX_CONTACT_NAME: usize = 100;
const MAX_PHONE: usize = 32;
const MAX_MEDIA_URL: usize = 2048;

/// The report as sent over HTTP, WebSocket or MQTT (`schemas/report-submission.schema.json`).
/// Every field is optional here so that a missing one gets its own clear error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubmission {
    pub client_ref: Option<String>,
    pub device_id: Option<String>,
    pub category: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub text: Option<String>,
    pub contact: Option<RawContact>,
    pub photo: Option<RawPhoto>,
    pub media_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContact {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhoto {
    pub content_type: String,
    /// Standard base64 of the image bytes.
    pub data: String,
}

/// The limits a submission is held to.
#[derive(Debug, Clone)]
pub struct SubmissionLimits {
    pub max_text_chars: usize,
    pub max_photo_bytes: usize,
}

/// A report that passed every check. The device id may still come from the channel (MQTT topic).
#[derive(Debug, Clone)]
pub struct Submission {
    pub client_ref: ClientRef,
    pub device_id: Option<DeviceId>,
    pub category: String,
    pub location: Location,
    pub text: String,
    pub contact: Option<Contact>,
    pub photo: Option<Photo>,
    pub media_url: Option<String>,
}

impl Submission {
    pub fn parse(
        raw: RawSubmission,
        catalog: &CategoryCatalog,
        limits: &SubmissionLimits,
    ) -> Result<Submission, Problem> {
        let client_ref = ClientRef::parse(&required(raw.client_ref, "client_ref")?, "client_ref")?;
        let device_id = raw
            .device_id
            .map(|id| DeviceId::parse(&id, "device_id"))
            .transpose()?;
        let category = parse_category(required(raw.category, "category")?, catalog)?;
        let lat = required(raw.lat, "lat")?;
        let lon = required(raw.lon, "lon")?;
        Ok(Submission {
            client_ref,
            device_id,
            category,
            location: Location::parse(lat, lon, "lat", "lon")?,
            text: parse_text(raw.text.unwrap_or_default(), limits.max_text_chars)?,
            contact: raw.contact.map(parse_contact).transpose()?.flatten(),
            photo: raw
                .photo
                .map(|photo| parse_photo(photo, limits.max_photo_bytes))
                .transpose()?,
            media_url: raw.media_url.map(|url| parse_media_url(&url)).transpose()?,
        })
    }

    /// A digest of everything the sender said, to tell a true retry from a reused `client_ref`.
    pub fn fingerprint(&self) -> Vec<u8> {
        let mut hash = Sha256::new();
        let mut field = |value: &[u8]| {
            hash.update((value.len() as u64).to_le_bytes());
            hash.update(value);
        };
        field(self.category.as_bytes());
        field(&self.location.lat.to_le_bytes());
        field(&self.location.lon.to_le_bytes());
        field(self.text.as_bytes());
        let contact = self.contact.clone().unwrap_or_default();
        for part in [
            &contact.name,
            &contact.phone,
            &contact.email,
            &self.media_url,
        ] {
            field(part.as_deref().unwrap_or("\u{0}").as_bytes());
        }
        field(self.photo.as_ref().map_or(&[][..], |photo| &photo.data));
        hash.finalize().to_vec()
    }
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, Problem> {
    value.ok_or_else(|| {
        Problem::with_field(
            ErrorCode::MissingField,
            field,
            format!("`{field}` is required"),
        )
    })
}

pub fn parse_category(code: String, catalog: &CategoryCatalog) -> Result<String, Problem> {
    if catalog.get(&code).is_some() {
        return Ok(code);
    }
    Err(Problem::with_field(
        ErrorCode::UnknownCategory,
        "category",
        format!(
            "`category` must be one of this office's categories ({}); `{}` is not one",
            catalog.codes().join(", "),
            truncated(&code, 40)
        ),
    ))
}

pub(crate) fn parse_text(text: String, max_chars: usize) -> Result<String, Problem> {
    // Line breaks as one LF, as every text (see `bounded_text`).
    let text = crate::model::with_lf_line_breaks(text.trim().to_owned());
    crate::model::refuse_what_xml_cannot_hold(&text, "text")?;
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(Problem::with_field(
            ErrorCode::TooLong,
            "text",
            format!("`text` has {chars} characters; the limit is {max_chars}"),
        ));
    }
    Ok(text)
}

fn parse_contact(raw: RawContact) -> Result<Option<Contact>, Problem> {
    let name = bounded(raw.name, "contact.name", MAX_CONTACT_NAME)?;
    let phone = bounded(raw.phone, "contact.phone", MAX_PHONE)?;
    if let Some(phone) = &phone {
        check_phone(phone, "contact.phone")?;
    }
    let email = parse_email(raw.email, "contact.email")?;
    if name.is_none() && phone.is_none() && email.is_none() {
        return Ok(None);
    }
    Ok(Some(Contact { name, phone, email }))
}

pub(crate) fn check_phone(phone: &str, field: &str) -> Result<(), Problem> {
    let valid = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && phone.chars().any(|c| c.is_ascii_digit());
    if valid {
        return Ok(());
    }
    Err(Problem::with_field(
        ErrorCode::InvalidField,
        field,
        format!("`{field}` must be a phone number: digits, spaces, '+', '-', '(', ')'"),
    ))
}

use crate::model::bounded_text as bounded;
use crate::model::parse_email;

fn parse_photo(raw: RawPhoto, max_bytes: usize) -> Result<Photo, Problem> {
    let content_type = photo_type(&raw.content_type)?;
    // Base64 grows data by 4/3; refuse oversize input before spending time decoding it.
    if raw.data.len() > max_bytes.div_ceil(3) * 4 + 4 {
        return Err(photo_too_large(raw.data.len() / 4 * 3, max_bytes));
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(raw.data.trim())
        .map_err(|err| {
            Problem::with_field(
                ErrorCode::InvalidField,
                "photo.data",
                format!("`photo.data` must be standard base64: {err}"),
            )
        })?;
    if data.len() > max_bytes {
        return Err(photo_too_large(data.len(), max_bytes));
    }
    match Photo::sniffed(data) {
        Some(photo) if photo.content_type == content_type => Ok(photo),
        _ => Err(Problem::with_field(
            ErrorCode::InvalidField,
            "photo.data",
            format!("`photo.data` does not hold the {content_type} image its `content_type` names"),
        )),
    }
}

fn photo_type(declared: &str) -> Result<&'static str, Problem> {
    ["image/jpeg", "image/png", "image/webp"]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(declared.trim()))
        .ok_or_else(|| {
            Problem::with_field(
                ErrorCode::UnsupportedMediaType,
                "photo.content_type",
                "`photo.content_type` must be image/jpeg, image/png or image/webp",
            )
        })
}

fn photo_too_large(bytes: usize, max_bytes: usize) -> Problem {
    Problem::with_field(
        ErrorCode::TooLarge,
        "photo",
        format!(
            "the photo has about {bytes} bytes; the limit is {max_bytes}: send a smaller image"
        ),
    )
}

pub(crate) fn parse_media_url(url: &str) -> Result<String, Problem> {
    let invalid = |why: &str| {
        Problem::with_field(
            ErrorCode::InvalidField,
            "media_url",
            format!("`media_url` {why}"),
        )
    };
    if url.len() > MAX_MEDIA_URL {
        return Err(invalid(&format!(
            "is longer than {MAX_MEDIA_URL} characters"
        )));
    }
    let parsed = url::Url::parse(url).map_err(|err| invalid(&format!("is not a URL: {err}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL"));
    }
    Ok(parsed.into())
}

fn truncated(value: &str, max_chars: usize) -> String {
    value.chars().take(max_chars).collect()
}
