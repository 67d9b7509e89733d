//! What an author writes in a notice, and the checks that make it valid CAP content.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::notice_area::{AreaSpec, RawArea};
use crate::cap::{CapCategory, CapStatus, Certainty, MsgType, Severity, Urgency};
use crate::problem::{ErrorCode, Problem};
use crate::zones::ZoneIndex;

const MAX_EVENT: usize = 200;
const MAX_HEADLINE: usize = 160;
const MAX_DESCRIPTION: usize = 8000;
const MAX_INSTRUCTION: usize = 4000;
const MAX_AREA_DESCRIPTION: usize = 500;
const MAX_CONTACT: usize = 300;
const MAX_LANGUAGES: usize = 8;

/// The CAP content of a notice, valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeContent {
    pub status: CapStatus,
    pub category: Vec<CapCategory>,
    pub urgency: Urgency,
    pub severity: Severity,
    pub certainty: Certainty,
    pub expires: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Text by language code (`it`, `en`, `de-CH`): one CAP `<info>` block each.
    pub info: BTreeMap<String, InfoText>,
    pub area: AreaSpec,
}

/// The words of a notice in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfoText {
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// CAP `areaDesc`: the area in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_description: Option<String>,
}

/// A notice as an author sends it (`schemas/notice-draft.schema.json`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotice {
    pub status: Option<String>,
    pub msg_type: Option<String>,
    pub category: Option<Vec<String>>,
    pub urgency: Option<String>,
    pub severity: Option<String>,
    pub certainty: Option<String>,
    pub expires: Option<String>,
    pub web: Option<String>,
    pub contact: Option<String>,
    pub info: Option<BTreeMap<String, RawInfo>>,
    pub area: Option<RawArea>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInfo {
    pub event: Option<String>,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub area_description: Option<String>,
}

fn required<T>(value: Option<T>, field: &str, hint: &str) -> Result<T, Problem> {
    value.ok_or_else(|| {
        Problem::with_field(
            ErrorCode::MissingField,
            field,
            format!("`{field}` is required{hint}"),
        )
    })
}

impl NoticeContent {
    /// Checks every field; `msg_type` is what the workflow expects this notice to be.
    pub fn parse(
        raw: RawNotice,
        now: DateTime<Utc>,
        zones: &ZoneIndex,
        msg_type: MsgType,
    ) -> Result<NoticeContent, Problem> {
        NoticeContent::parse_with_area(raw, now, msg_type, |area| {
            AreaSpec::parse(
                required(area, "area", ": give polygons, circles or zone ids")?,
                zones,
            )
        })
    }

    /// Checks an alert received from another authority: `now` is when it is judged (its
    /// `sent` for one that arrived expired), and its area may be empty when the sender gave it
    /// only in codes this office does not hold.
    pub fn parse_received(
        raw: RawNotice,
        now: DateTime<Utc>,
        zones: &ZoneIndex,
        msg_type: MsgType,
    ) -> Result<NoticeContent, Problem> {
        NoticeContent::parse_with_area(raw, now, msg_type, |area| {
            AreaSpec::parse_received(area.unwrap_or_default(), zones)
        })
    }

    fn parse_with_area(
        raw: RawNotice,
        now: DateTime<Utc>,
        msg_type: MsgType,
        area: impl FnOnce(Option<RawArea>) -> Result<AreaSpec, Problem>,
    ) -> Result<NoticeContent, Problem> {
        check_msg_type(raw.msg_type.as_deref(), msg_type)?;
        let status = required(
            raw.status,
            "status",
            ": say whether this is Actual, Exercise or Test",
        )?;
        Ok(NoticeContent {
            status: CapStatus::parse(&status, "status")?,
            category: parse_categories(required(raw.category, "category", "")?)?,
            urgency: Urgency::parse(&required(raw.urgency, "urgency", "")?, "urgency")?,
            severity: Severity::parse(&required(raw.severity, "severity", "")?, "severity")?,
            certainty: Certainty::parse(&required(raw.certainty, "certainty", "")?, "certainty")?,
            expires: parse_expires(&required(raw.expires, "expires", "")?, now)?,
            web: raw.web.map(|url| parse_web(&url)).transpose()?,
            contact: bounded(raw.contact, "contact", MAX_CONTACT)?,
            info: parse_info(required(
                raw.info,
                "info",
                ": give the text in at least one language, e.g. {\"it\": {...}}",
            )?)?,
            area: area(raw.area)?,
        })
    }

    /// The text in `language`, else Italian, else English, else any.
    pub fn text_in(&self, language: &str) -> &InfoText {
        ["", "it", "en"]
            .iter()
            .map(|fallback| {
                if fallback.is_empty() {
                    language
                } else {
                    fallback
                }
            })
            .find_map(|lang| self.info.get(lang))
            .or_else(|| self.info.values().next())
            .expect("parsing guarantees at least one language")
    }
}

fn check_msg_type(given: Option<&str>, expected: MsgType) -> Result<(), Problem> {
    let Some(given) = given else { return Ok(()) };
    let given = MsgType::parse(given, "msg_type")?;
    if given == expected {
        return Ok(());
    }
    let how = match given {
        MsgType::Alert => "a new notice is drafted with POST /api/v1/notices",
        MsgType::Update => {
            "an update is started from the published notice with POST /api/v1/notices/{id}/update"
        }
        MsgType::Cancel => {
            "a cancellation is started from the published notice with POST /api/v1/notices/{id}/cancel"
        }
    };
    Err(Problem::with_field(
        ErrorCode::InvalidField,
        "msg_type",
        format!(
            "this notice is an {}, not an {}: {how}",
            expected.as_str(),
            given.as_str()
        ),
    ))
}

fn parse_categories(values: Vec<String>) -> Result<Vec<CapCategory>, Problem> {
    if values.is_empty() {
        return Err(Problem::with_field(
            ErrorCode::MissingField,
            "category",
            "`category` needs at least one CAP category, e.g. [\"Met\"]",
        ));
    }
    let mut categories = Vec::new();
    for (n, value) in values.iter().enumerate() {
        let category = CapCategory::parse(value, &format!("category[{n}]"))?;
        if !categories.contains(&category) {
            categories.push(category);
        }
    }
    Ok(categories)
}

fn parse_expires(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Problem> {
    let expires = DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| Problem::with_field(ErrorCode::InvalidField, "expires", "`expires` must be an RFC 3339 time with its offset, e.g. 2026-11-25T18:00:00+01:00"))?;
    if expires <= now {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "expires",
            format!(
                "`expires` ({value}) is in the past; a notice must expire after it is published"
            ),
        ));
    }
    // CAP times carry whole seconds.
    Ok(DateTime::from_timestamp(expires.timestamp(), 0).unwrap_or(expires))
}

fn parse_web(url: &str) -> Result<String, Problem> {
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|parsed| matches!(parsed.scheme(), "http" | "https") && url.len() <= 2048)
        .ok_or_else(|| {
            Problem::with_field(
                ErrorCode::InvalidField,
                "web",
                "`web` must be an http or https URL",
            )
        })?;
    Ok(parsed.into())
}

fn bounded(value: Option<String>, field: &str, max: usize) -> Result<Option<String>, Problem> {
    super::text::bounded_text(value, field, max)
}

fn parse_info(raw: BTreeMap<String, RawInfo>) -> Result<BTreeMap<String, InfoText>, Problem> {
    if raw.is_empty() {
        return Err(Problem::with_field(
            ErrorCode::MissingField,
            "info",
            "`info` needs the text in at least one language, e.g. {\"it\": {\"event\": ...}}",
        ));
    }
    if raw.len() > MAX_LANGUAGES {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "info",
            format!(
                "`info` has {} languages; the limit is {MAX_LANGUAGES}",
                raw.len()
            ),
        ));
    }
    let mut info = BTreeMap::new();
    for (given, text) in raw {
        let language = canonical_language(&given).ok_or_else(|| not_a_language(&given))?;
        let text = parse_text(text, &format!("info.{given}"))?;
        if info.insert(language.clone(), text).is_some() {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "info",
                format!("`info` gives the text in {language} twice (tags ignore case)"),
            ));
        }
    }
    Ok(info)
}

/// An RFC 5646 tag as CAP uses them (`it`, `en-GB`, `zh-Hant-TW`, `es-419`) in the case BCP 47
/// recommends, since tags compare without case; `None` for anything else.
pub fn canonical_language(tag: &str) -> Option<String> {
    let mut parts = tag.trim().split('-');
    let primary = parts.next()?;
    if !(2..=3).contains(&primary.len()) || !primary.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut canonical = primary.to_ascii_lowercase();
    let mut rest = parts.peekable();
    if let Some(script) =
        rest.next_if(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_alphabetic()))
    {
        canonical.push('-');
        canonical.push_str(&script[..1].to_ascii_uppercase());
        canonical.push_str(&script[1..].to_ascii_lowercase());
    }
    if let Some(region) = rest.next() {
        let letters = region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic());
        let digits = region.len() == 3 && region.chars().all(|c| c.is_ascii_digit());
        if !letters && !digits {
            return None;
        }
        canonical.push('-');
        canonical.push_str(&region.to_ascii_uppercase());
    }
    rest.next().is_none().then_some(canonical)
}

fn not_a_language(language: &str) -> Problem {
    let shown = if language.is_empty() {
        "an empty key".to_owned()
    } else {
        format!("`{language}`")
    };
    Problem::with_field(
        ErrorCode::InvalidField,
        "info",
        format!("text needs a language: {shown} is not a language code such as it, en or de-CH"),
    )
}

fn parse_text(raw: RawInfo, field: &str) -> Result<InfoText, Problem> {
    let event = bounded(raw.event, &format!("{field}.event"), MAX_EVENT)?.ok_or_else(|| {
        Problem::with_field(
            ErrorCode::MissingField,
            format!("{field}.event"),
            format!("`{field}.event` is required: name the event, e.g. \"Allerta idraulica\""),
        )
    })?;
    Ok(InfoText {
        event,
        headline: bounded(raw.headline, &format!("{field}.headline"), MAX_HEADLINE)?,
        description: bounded(
            raw.description,
            &format!("{field}.description"),
            MAX_DESCRIPTION,
        )?,
        instruction: bounded(
            raw.instruction,
            &format!("{field}.instruction"),
            MAX_INSTRUCTION,
        )?,
        area_description: bounded(
            raw.area_description,
            &format!("{field}.area_description"),
            MAX_AREA_DESCRIPTION,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::canonical_language;

    #[test]
    fn language_tags_compare_without_case_and_are_written_in_bcp_47s_case() {
        assert_eq!(canonical_language("EN-gb").as_deref(), Some("en-GB"));
        assert_eq!(canonical_language("it").as_deref(), Some("it"));
        assert_eq!(
            canonical_language("zh-hant-tw").as_deref(),
            Some("zh-Hant-TW")
        );
        assert_eq!(canonical_language("es-419").as_deref(), Some("es-419"));
        for refused in ["", "e", "english", "en-GBR", "en-GB-x-private", "en_GB"] {
            assert_eq!(canonical_language(refused), None, "{refused}");
        }
    }
}
