//! CAP elements as a tree: what an import reads, what a relay keeps of the sender's document,
//! and how a tree is written back as XML in the order the OASIS schema requires.

use serde::{Deserialize, Serialize};

use super::cap_signature::CapSigner;
use super::xml_c14n::escape_text;
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

/// The whole document: an XML declaration and `root` in `namespace`, indented, signed by
/// `signer` if given.
///
/// It is written in canonical form (C14N escaping, no empty-element tags, one namespace
/// declaration on the root), so the bytes of the root, without the signature, are what an
/// exclusive canonicalization of the document gives: what the signature's digest covers.
pub(super) fn write_document(
    root: &Element,
    namespace: &str,
    signer: Option<&CapSigner>,
) -> String {
    let mut inner = String::new();
    for child in &root.children {
        write_element(&mut inner, child, 1);
    }
    let open = format!("<{} xmlns=\"{namespace}\">", root.name);
    let close = format!("</{}>", root.name);
    let body = match signer {
        None => format!("{open}{inner}\n{close}"),
        Some(signer) => {
            // The enveloped-signature transform removes the element, not the space around it.
            let canonical = format!("{open}{inner}\n  \n{close}");
            let signature = signer.signature(canonical.as_bytes());
            format!("{open}{inner}\n  {signature}\n{close}")
        }
    };
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}\n")
}

fn write_element(out: &mut String, element: &Element, depth: usize) {
    let indent = format!("\n{}", "  ".repeat(depth));
    out.push_str(&indent);
    out.push_str(&format!("<{}>", element.name));
    if element.children.is_empty() {
        escape_text(out, &element.text);
    } else {
        for child in &element.children {
            write_element(out, child, depth + 1);
        }
        out.push_str(&indent);
    }
    out.push_str(&format!("</{}>", element.name));
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
