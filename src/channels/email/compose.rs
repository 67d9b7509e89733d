//! The text and HTML of each e-mail: a notice (severity and instructions first, Test and
//! Exercise marked in the subject), a reporter's news, or a subscription's confirmation.

use std::fmt::Write;

use quick_xml::escape::escape;

use super::words::{Words, local_time, reason_words, severity_words, status_words, words};
use crate::cap::{CapStatus, MsgType};
use crate::model::Notice;
use crate::outbox::{Content, Links, Parcel, ReportNews};

/// A message ready for the wire: subject, plain text, HTML.
pub(super) struct Composed {
    pub(super) subject: String,
    pub(super) text: String,
    /// Where the links and the signature begin in `text`.
    pub(super) links_at: usize,
    pub(super) html: String,
}

/// Lines of a message: a heading and labelled paragraphs, rendered to text and HTML alike.
#[derive(Default)]
struct Body {
    lines: Vec<(Option<&'static str>, String)>,
    links: Vec<(&'static str, String)>,
    footer: Vec<String>,
}

impl Body {
    fn line(&mut self, label: Option<&'static str>, text: impl Into<String>) {
        let text = text.into();
        if !text.trim().is_empty() {
            self.lines.push((label, text));
        }
    }

    fn link(&mut self, label: &'static str, url: Option<&String>) {
        if let Some(url) = url {
            self.links.push((label, url.clone()));
        }
    }

    fn render(self, subject: String) -> Composed {
        let mut text = String::new();
        let mut html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif;max-width:40em\"><h1 style=\"font-size:1.3em\">{}</h1>",
            escape(subject.as_str())
        );
        for (label, line) in &self.lines {
            match label {
                Some(label) => {
                    let _ = writeln!(text, "{label}: {line}\n");
                    let _ = write!(
                        html,
                        "<p><strong>{}:</strong> {}</p>",
                        escape(*label),
                        with_line_breaks(line)
                    );
                }
                None => {
                    let _ = writeln!(text, "{line}\n");
                    let _ = write!(html, "<p>{}</p>", with_line_breaks(line));
                }
            }
        }
        let links_at = text.len();
        for (label, url) in &self.links {
            let _ = writeln!(text, "{label}: {url}");
            let _ = write!(
                html,
                "<p><a href=\"{}\">{}</a></p>",
                escape(url.as_str()),
                escape(*label)
            );
        }
        for line in &self.footer {
            let _ = writeln!(text, "\n-- \n{line}");
            let _ = write!(
                html,
                "<hr><p style=\"font-size:0.85em;color:#444\">{}</p>",
                escape(line.as_str())
            );
        }
        html.push_str("</body></html>");
        Composed {
            subject,
            text,
            links_at,
            html,
        }
    }
}

/// Text escaped for HTML, its line breaks kept: a notice's lines are its steps.
fn with_line_breaks(text: &str) -> String {
    text.lines()
        .map(|line| escape(line).into_owned())
        .collect::<Vec<_>>()
        .join("<br>")
}

pub(super) fn compose(parcel: &Parcel, office: &str) -> Composed {
    let words = words(&parcel.language);
    match &parcel.content {
        Content::Notice { notice, .. } => {
            let mut composed =
                notice_message(notice, &parcel.language, words, &parcel.links, office);
            if let Some(place) = &parcel.place {
                let why = format!("{} {place}.", words.why_you_get_this);
                composed.text.push_str(&format!("\n{why}\n"));
                composed.html = composed.html.replace(
                    "</body>",
                    &format!(
                        "<p style=\"font-size:0.85em\">{}</p></body>",
                        escape(why.as_str())
                    ),
                );
            }
            composed
        }
        Content::Report(news) => report_message(news, &parcel.language, words, office),
        Content::Confirm { places } => confirm_message(places, words, &parcel.links, office),
        Content::Chat(message) => Body {
            lines: vec![(None, message.text.clone())],
            ..Body::default()
        }
        .render(office.to_owned()),
    }
}

fn notice_message(
    notice: &Notice,
    language: &str,
    words: &Words,
    links: &Links,
    office: &str,
) -> Composed {
    let content = &notice.content;
    let info = content
        .info
        .get(language)
        .or_else(|| {
            content
                .info
                .iter()
                .find(|(tag, _)| tag.starts_with(&language[..2.min(language.len())]))
                .map(|(_, info)| info)
        })
        .or_else(|| content.info.values().next());
    let headline = info
        .map(|info| info.headline.clone().unwrap_or_else(|| info.event.clone()))
        .unwrap_or_default();
    let mut subject = String::new();
    match content.status {
        CapStatus::Test => subject.push_str(words.test_mark),
        CapStatus::Exercise => subject.push_str(words.exercise_mark),
        CapStatus::Actual => {}
    }
    let mark = match notice.msg_type {
        MsgType::Cancel => Some(words.cancel_mark),
        MsgType::Update => Some(words.update_mark),
        _ => None,
    };
    for part in [mark, Some(headline.as_str()), Some("-"), Some(office)]
        .into_iter()
        .flatten()
    {
        if !subject.is_empty() {
            subject.push(' ');
        }
        subject.push_str(part);
    }
    let mut body = Body::default();
    if notice.msg_type == MsgType::Cancel {
        body.line(None, words.cancel_explained);
    }
    body.line(
        Some(words.severity),
        severity_words(content.severity.as_str(), language),
    );
    if let Some(info) = info {
        body.line(
            Some(words.what_to_do),
            info.instruction.clone().unwrap_or_default(),
        );
        body.line(
            Some(words.details),
            info.description.clone().unwrap_or_default(),
        );
        body.line(None, info.area_description.clone().unwrap_or_default());
    }
    body.line(
        Some(words.valid_until),
        local_time(content.expires, language),
    );
    body.link(words.read_on_page, links.notice_page.as_ref());
    body.link(words.cap_document, links.cap_document.as_ref());
    body.link(words.unsubscribe, links.unsubscribe.as_ref());
    body.footer.push(office.to_owned());
    body.render(subject)
}

fn report_message(news: &ReportNews, language: &str, words: &Words, office: &str) -> Composed {
    let mut body = Body::default();
    body.line(
        Some(words.report_status),
        status_words(news.status.as_str(), language),
    );
    if let Some(reason) = &news.reason {
        body.line(Some(words.report_reason), reason_words(reason, language));
    }
    body.line(
        Some(words.report_note),
        news.public_note.clone().unwrap_or_default(),
    );
    if let Some(expected) = news.expected_at {
        body.line(Some(words.report_expected), local_time(expected, language));
    }
    body.footer.push(office.to_owned());
    body.render(format!("{} - {office}", words.report_subject))
}

fn confirm_message(places: &str, words: &Words, links: &Links, office: &str) -> Composed {
    let mut body = Body::default();
    body.line(None, format!("{} {places}.", words.confirm_body));
    body.link(words.confirm_action, links.confirm.as_ref());
    body.line(None, words.confirm_ignore);
    body.footer.push(office.to_owned());
    body.render(format!("{} - {office}", words.confirm_subject))
}
