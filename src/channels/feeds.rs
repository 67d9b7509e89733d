//! Atom (OASIS CAP feed convention) and RSS 2.0 feeds of the notices in force.
//!
//! Each entry links to its CAP document with `type="application/cap+xml"`. A cancellation stays
//! listed until the notice it withdraws would have expired, so aggregators learn of it, and
//! reads as one: its title starts with the cancellation mark, and every entry carries its CAP
//! `msgType` as a category.

use std::collections::HashMap;

use atom_syndication::{Category, Entry, Feed, Link, Person, Text};
use chrono::{DateTime, FixedOffset, Utc};

use crate::cap::MSG_TYPE_SCHEME;
use crate::model::NoticeOrigin;
use crate::notices::Notice;

/// What a feed says about itself.
pub struct FeedContext<'a> {
    pub public_url: &'a str,
    /// This feed's own URL.
    pub self_url: String,
    pub title: String,
    pub sender_name: &'a str,
    /// The `senderName` of each relayed notice whose sender gave one, by notice id.
    pub relay_senders: HashMap<String, String>,
    pub language: &'a str,
    pub now: DateTime<Utc>,
}

fn cap_url(context: &FeedContext<'_>, notice: &Notice) -> String {
    notice.cap_url(context.public_url)
}

fn headline(notice: &Notice, language: &str) -> String {
    let text = notice.content.text_in(language);
    let title = text.headline.as_deref().unwrap_or(&text.event);
    let mark = notice.msg_type.headline_mark(language);
    match notice.content.status.as_str() {
        "Actual" => format!("{mark}{title}"),
        status => format!("[{}] {mark}{title}", status.to_uppercase()),
    }
}

fn fixed(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

pub fn atom(notices: &[Notice], context: &FeedContext<'_>) -> String {
    let updated = notices
        .iter()
        .filter_map(|n| n.sent)
        .max()
        .unwrap_or(context.now);
    let feed = Feed {
        title: Text::plain(context.title.clone()),
        id: context.self_url.clone(),
        updated: fixed(updated),
        authors: vec![Person {
            name: context.sender_name.to_owned(),
            ..Person::default()
        }],
        links: vec![Link {
            href: context.self_url.clone(),
            rel: "self".into(),
            mime_type: Some("application/atom+xml".into()),
            ..Link::default()
        }],
        lang: Some(context.language.to_owned()),
        entries: notices
            .iter()
            .map(|notice| atom_entry(notice, context))
            .collect(),
        ..Feed::default()
    };
    feed.to_string()
}

fn atom_entry(notice: &Notice, context: &FeedContext<'_>) -> Entry {
    let url = cap_url(context, notice);
    let sent = fixed(notice.sent.unwrap_or(notice.updated_at));
    Entry {
        title: Text::plain(headline(notice, context.language)),
        id: url.clone(),
        updated: sent,
        published: Some(sent),
        authors: vec![author(notice, context)],
        categories: notice
            .content
            .category
            .iter()
            .map(|c| Category {
                term: c.as_str().into(),
                ..Category::default()
            })
            .chain([Category {
                term: notice.msg_type.as_str().into(),
                scheme: Some(MSG_TYPE_SCHEME.into()),
                ..Category::default()
            }])
            .collect(),
        summary: notice
            .content
            .text_in(context.language)
            .description
            .clone()
            .map(Text::plain),
        links: vec![
            Link {
                href: url,
                rel: "alternate".into(),
                mime_type: Some("application/cap+xml".into()),
                ..Link::default()
            },
            // The office's own page of the notice, for readers rather than CAP parsers.
            Link {
                href: notice.page_url(context.public_url),
                rel: "related".into(),
                mime_type: Some("text/html".into()),
                ..Link::default()
            },
        ],
        ..Entry::default()
    }
}

/// Who wrote the alert: the office, or for a relayed one the authority that sent it, by its
/// CAP `senderName` (its `sender` when it gave none, and as the e-mail when it is one), so that
/// a reader never takes another authority's words for the office's.
fn author(notice: &Notice, context: &FeedContext<'_>) -> Person {
    if notice.origin == NoticeOrigin::Local {
        return Person {
            name: context.sender_name.to_owned(),
            ..Person::default()
        };
    }
    let sender = notice.sender.as_str();
    let name = context
        .relay_senders
        .get(&notice.id)
        .map_or(sender, String::as_str);
    let email = crate::model::parse_email(Some(sender.to_owned()), "sender")
        .ok()
        .flatten();
    Person {
        name: name.to_owned(),
        email: email.filter(|_| name != sender),
        ..Person::default()
    }
}

pub fn rss(notices: &[Notice], context: &FeedContext<'_>) -> String {
    let items = notices
        .iter()
        .map(|notice| {
            let url = cap_url(context, notice);
            rss::Item {
                title: Some(headline(notice, context.language)),
                link: Some(url.clone()),
                guid: Some(rss::Guid {
                    value: url,
                    permalink: true,
                }),
                pub_date: Some(notice.sent.unwrap_or(notice.updated_at).to_rfc2822()),
                // RSS readers take a description as HTML: the notice's text is shown as written.
                description: notice
                    .content
                    .text_in(context.language)
                    .description
                    .as_deref()
                    .map(|text| quick_xml::escape::partial_escape(text).into_owned()),
                categories: notice
                    .content
                    .category
                    .iter()
                    .map(|c| rss::Category {
                        name: c.as_str().into(),
                        domain: None,
                    })
                    .chain([rss::Category {
                        name: notice.msg_type.as_str().into(),
                        domain: Some(MSG_TYPE_SCHEME.into()),
                    }])
                    .collect(),
                // RSS has one link, the CAP document's, as CAP feeds use it: the notice's page
                // goes beside it as Atom's `related` link, as in the Atom feeds.
                extensions: related_page(&notice.page_url(context.public_url)),
                ..rss::Item::default()
            }
        })
        .collect();
    let channel = rss::Channel {
        title: context.title.clone(),
        link: context.public_url.to_owned(),
        description: format!(
            "Avvisi di {} / Notices from {}",
            context.sender_name, context.sender_name
        ),
        language: Some(context.language.to_owned()),
        last_build_date: Some(context.now.to_rfc2822()),
        items,
        namespaces: [("atom".to_owned(), ATOM_NAMESPACE.to_owned())].into(),
        ..rss::Channel::default()
    };
    channel.to_string()
}

const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";

/// `<atom:link rel="related" type="text/html" href="{page}"/>` for an RSS item.
fn related_page(page: &str) -> rss::extension::ExtensionMap {
    let link = rss::extension::Extension {
        name: "atom:link".into(),
        attrs: [("rel", "related"), ("type", "text/html"), ("href", page)]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        ..rss::extension::Extension::default()
    };
    [("atom".to_owned(), [("link".to_owned(), vec![link])].into())].into()
}
