//! CAP elements as a tree: what an import reads, what a relay keeps of the sender's document,
//! and how a tree is written back as XML in the order the OASIS schema requires.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde::{Deserialize, Serialize};

use crate::problem::{ErrorCode, Problem};

/// The children of `<alert>`, in schema order.
const ALERT_ORDER: &[&str] = &[
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
];

/// The children of `<info>`, in schema order.
const INFO_ORDER: &[&str] = &[
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
];

/// The children of `<area>`, in schema order.
const AREA_ORDER: &[&str] = &[
    "areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling",
];

/// The children of `<resource>`, in schema order.
const RESOURCE_ORDER: &[&str] = &[
    "resourceDesc",
    "mimeType",
    "size",
    "uri",
    "derefUri",
    "digest",
];

/// The children of `<eventCode>`, `<parameter>` and `<geocode>`.
const PAIR_ORDER: &[&str] = &["valueName", "value"];

/// The children each CAP element may have, in schema order; leaves have none.
fn schema_of(name: &str) -> &'static [&'static str] {
    match name {
        "alert" => ALERT_ORDER,
        "info" => INFO_ORDER,
        "area" => AREA_ORDER,
        "resource" => RESOURCE_ORDER,
        "eventCode" | "parameter" | "geocode" => PAIR_ORDER,
        _ => &[],
    }
}

/// Checks that every element is one CAP has where it stands, and puts children in schema
/// order (senders do not all keep it), so what is relayed is valid CAP.
pub(super) fn check_and_order(element: &mut Element) -> Result<(), Problem> {
    let order = schema_of(&element.name);
    if let Some(stray) = element
        .children
        .iter()
        .find(|child| !order.contains(&child.name.as_str()))
    {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            element.name.clone(),
            format!(
                "<{}> holds <{}>, which CAP does not have there; the document is not valid CAP",
                element.name, stray.name
            ),
        ));
    }
    let rank = |child: &Element| order.iter().position(|n| *n == child.name);
    element.children.sort_by_key(rank);
    element.children.iter_mut().try_for_each(check_and_order)
}

/// A CAP element: its local name and its text, or its children (CAP never mixes the two).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Element>,
}

impl Element {
    pub(super) fn leaf(name: &str, text: impl Into<String>) -> Element {
        Element {
            name: name.to_owned(),
            text: text.into(),
            children: Vec::new(),
        }
    }

    pub(super) fn node(name: &str, children: Vec<Element>) -> Element {
        Element {
            name: name.to_owned(),
            text: String::new(),
            children,
        }
    }

    pub(super) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    pub(super) fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |child| child.name == name)
    }

    pub(super) fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|child| child.text.trim().to_owned())
            .filter(|text| !text.is_empty())
    }

    pub(super) fn required(&self, name: &str) -> Result<String, Problem> {
        self.text_of(name).ok_or_else(|| {
            Problem::with_field(
                ErrorCode::MissingField,
                name,
                format!("the CAP document has no <{name}>"),
            )
        })
    }
}

/// The whole document: an XML declaration and `root` in `namespace`, indented.
pub(super) fn write_document(root: &Element, namespace: &str) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| {
            writer
                .create_element(root.name.as_str())
                .with_attribute(("xmlns", namespace))
                .write_inner_content(|w| write_children(w, root))
                .map(|_| ())
        })
        .expect("writing to memory cannot fail");
    String::from_utf8(writer.into_inner()).expect("the writer emits UTF-8")
}

fn write_children(w: &mut Writer<Vec<u8>>, parent: &Element) -> std::io::Result<()> {
    for child in &parent.children {
        write_element(w, child)?;
    }
    Ok(())
}

fn write_element(w: &mut Writer<Vec<u8>>, element: &Element) -> std::io::Result<()> {
    let start = w.create_element(element.name.as_str());
    if !element.children.is_empty() {
        start.write_inner_content(|w| write_children(w, element))?;
    } else if element.text.is_empty() {
        start.write_empty()?;
    } else {
        start.write_text_content(BytesText::new(&element.text))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_out_of_schema_order_are_put_in_it_and_a_stranger_is_refused_by_name() {
        let mut info = Element::node(
            "info",
            vec![
                Element::leaf("headline", "Piena"),
                Element::leaf("language", "it"),
                Element::leaf("category", "Met"),
                Element::leaf("category", "Geo"),
            ],
        );
        check_and_order(&mut info).unwrap();
        let names: Vec<&str> = info.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["language", "category", "category", "headline"]);
        assert_eq!(
            info.children[2].text, "Geo",
            "repeated elements keep their order"
        );

        info.children.push(Element::leaf("headlin", "typo"));
        let refusal = check_and_order(&mut info).unwrap_err();
        assert!(refusal.message.contains("<headlin>"), "{}", refusal.message);
    }
}
