//! What a source's document is: one CAP alert, or an Atom or RSS feed whose entries link to
//! CAP alerts. Read as safely as an import: no DOCTYPE, nothing fetched while reading.

use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::Url;

/// Entries read from one feed at most; a feed longer than this is read from its start (feeds
/// put the newest first).
const MAX_ENTRIES: usize = 200;
/// Deepest nesting a feed may have.
const MAX_DEPTH: usize = 32;
/// Elements a feed may have (200 entries of a few dozen elements, with room to spare).
const MAX_ELEMENTS: usize = 50_000;

/// One alert a feed lists: its entry's id and date (what is new), and where its CAP is.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    /// The entry's id and date together: an entry republished with a new date is new.
    pub(super) key: String,
    pub(super) cap_url: Url,
}

pub(super) enum Document {
    Alert,
    Entries(Vec<Entry>),
}

/// Reads a source's document; links are resolved against `base`.
pub(super) fn read(bytes: &[u8], base: &Url) -> Result<Document, String> {
    match root_element(bytes)?.as_str() {
        "alert" => Ok(Document::Alert),
        "feed" => atom_entries(bytes, base).map(Document::Entries),
        "rss" | "RDF" => rss_entries(bytes, base).map(Document::Entries),
        other => Err(format!(
            "the document is <{other}>, neither a CAP alert nor an Atom or RSS feed"
        )),
    }
}

/// The local name of the root element, once the whole document is known to be safe to hand
/// to the feed readers: no DOCTYPE, well-formed, and nested no deeper than a feed needs (the
/// readers descend into unknown elements recursively, so depth is their stack).
fn root_element(bytes: &[u8]) -> Result<String, String> {
    let mut reader = Reader::from_reader(bytes);
    let (mut buf, mut root, mut depth, mut elements) = (Vec::new(), None, 0usize, 0usize);
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|err| format!("the document is not well-formed XML: {err}"))?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::DocType(_) => {
                return Err("the document has a DOCTYPE; DTDs are not accepted".into());
            }
            Event::Start(start) | Event::Empty(start) => {
                root.get_or_insert_with(|| {
                    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
                });
                depth += usize::from(opens);
                elements += 1;
                if depth > MAX_DEPTH || elements > MAX_ELEMENTS {
                    return Err(
                        "the document nests too deep or has too many elements for a feed".into(),
                    );
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => return root.ok_or_else(|| "the document is empty".into()),
            _ => {}
        }
        buf.clear();
    }
}

fn atom_entries(bytes: &[u8], base: &Url) -> Result<Vec<Entry>, String> {
    let feed = atom_syndication::Feed::read_from(bytes)
        .map_err(|err| format!("the Atom feed cannot be read: {err}"))?;
    let dated = feed.entries().iter().filter_map(|entry| {
        let links = entry.links();
        let cap = links
            .iter()
            .find(|link| link.mime_type().is_some_and(is_cap_type))
            .or_else(|| links.iter().find(|link| link.rel() == "alternate"))?;
        let updated = entry.updated().timestamp();
        let entry = Entry {
            key: format!("{} {}", entry.id(), entry.updated().to_rfc3339()),
            cap_url: base.join(cap.href()).ok()?,
        };
        Some((Some(updated), entry))
    });
    Ok(newest(dated.collect()))
}

fn rss_entries(bytes: &[u8], base: &Url) -> Result<Vec<Entry>, String> {
    let channel = rss::Channel::read_from(bytes)
        .map_err(|err| format!("the RSS feed cannot be read: {err}"))?;
    let dated = channel.items().iter().filter_map(|item| {
        let enclosure = item
            .enclosure()
            .filter(|enclosure| is_cap_type(enclosure.mime_type()))
            .map(rss::Enclosure::url);
        let href = enclosure.or(item.link())?;
        let id = item.guid().map_or(href, |guid| guid.value());
        let published = item.pub_date();
        let at = published
            .and_then(|date| chrono::DateTime::parse_from_rfc2822(date).ok())
            .map(|date| date.timestamp());
        let entry = Entry {
            key: format!("{id} {}", published.unwrap_or("")),
            cap_url: base.join(href).ok()?,
        };
        Some((at, entry))
    });
    Ok(newest(dated.collect()))
}

/// The newest entries, newest first, whatever order the feed lists them in; undated ones keep
/// their place after the dated.
fn newest(mut dated: Vec<(Option<i64>, Entry)>) -> Vec<Entry> {
    dated.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    dated
        .into_iter()
        .take(MAX_ENTRIES)
        .map(|(_, entry)| entry)
        .collect()
}

fn is_cap_type(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/cap+xml")
        || essence.eq_ignore_ascii_case("application/common-alerting-protocol+xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atom_entry_links_its_cap_by_type_and_an_rss_item_by_enclosure_or_link() {
        let base = Url::parse("https://allerte.example/feeds/cap.atom").unwrap();
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:f</id><title>t</title>
            <updated>2026-11-29T06:00:00Z</updated>
            <entry><id>urn:a</id><title>a</title><updated>2026-11-29T06:00:00Z</updated>
              <link rel="alternate" type="text/html" href="/avvisi/a"/>
              <link rel="related" type="application/cap+xml" href="/cap/a.xml"/></entry>
        </feed>"#;
        let rss = br#"<rss version="2.0"><channel><title>t</title><link>https://x</link><description>d</description>
            <item><title>b</title><link>https://allerte.example/cap/b.xml</link><guid>urn:b</guid></item>
        </channel></rss>"#;

        let Ok(Document::Entries(atom)) = read(atom, &base) else {
            panic!("an Atom feed")
        };
        let Ok(Document::Entries(rss)) = read(rss, &base) else {
            panic!("an RSS feed")
        };

        assert_eq!(
            atom[0].cap_url.as_str(),
            "https://allerte.example/cap/a.xml"
        );
        assert_eq!(rss[0].cap_url.as_str(), "https://allerte.example/cap/b.xml");
        assert!(rss[0].key.starts_with("urn:b"));
    }

    #[test]
    fn a_feed_with_a_doctype_is_refused_before_it_is_read() {
        let base = Url::parse("https://allerte.example/").unwrap();
        let hostile =
            br#"<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed>&x;</feed>"#;

        let refusal = read(hostile, &base).err().unwrap();

        assert!(refusal.contains("DOCTYPE"), "{refusal}");
    }
}
