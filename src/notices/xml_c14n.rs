//! Canonical XML (exclusive, or inclusive 1.0, without comments) of a document or of one of its
//! elements, as XML-DSig computes digests and signatures over them. The document is read into
//! a small tree first (after `cap_tree` found it safe: no DOCTYPE, bounded size and depth).

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

#[derive(Debug)]
pub(super) enum Node {
    Element(XmlElement),
    Text(String),
    Pi(String),
}

#[derive(Debug)]
pub(super) struct XmlElement {
    pub(super) qname: String,
    /// Namespace declarations written on this element: prefix ("" for the default) and URI.
    pub(super) declared: Vec<(String, String)>,
    /// Other attributes: qualified name and normalized value.
    pub(super) attributes: Vec<(String, String)>,
    pub(super) children: Vec<Node>,
}

impl XmlElement {
    pub(super) fn prefix(&self) -> &str {
        self.qname.split_once(':').map_or("", |(prefix, _)| prefix)
    }

    pub(super) fn local_name(&self) -> &str {
        self.qname
            .split_once(':')
            .map_or(&self.qname, |(_, local)| local)
    }

    pub(super) fn elements(&self) -> impl Iterator<Item = &XmlElement> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            _ => None,
        })
    }

    pub(super) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(qname, _)| qname == name)
            .map(|(_, value)| value.as_str())
    }

    pub(super) fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|node| match node {
                Node::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// The namespace the `xml` prefix is bound to, always.
const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";
/// Namespace declarations a document may carry for its signature to be checked: each element's
/// canonical form copies the namespaces in scope.
const MAX_DECLARATIONS: usize = 256;

/// Namespaces in scope: prefix to URI.
pub(super) type Scope = BTreeMap<String, String>;

/// A document: its root element and the processing instructions around it (a stylesheet).
#[derive(Debug)]
pub(super) struct Document {
    before: Vec<String>,
    pub(super) root: XmlElement,
    after: Vec<String>,
}

/// Reads a UTF-8 document into its root element, and the processing instructions around it.
pub(super) fn parse(xml: &[u8]) -> Result<Document, String> {
    let mut reader = Reader::from_reader(xml);
    let (mut before, mut root, mut after) = (Vec::new(), None, Vec::new());
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut declarations = 0;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        match event {
            Event::Start(start) => {
                let element = element(&start)?;
                declarations += element.declared.len();
                if declarations > MAX_DECLARATIONS {
                    return Err("too many namespace declarations".into());
                }
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = element(&start)?;
                declarations += element.declared.len();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(element)),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("an end tag without a start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => push_text(
                &mut stack,
                &unescaped(&normalize_newlines(
                    &text.decode().map_err(|e| e.to_string())?,
                ))?,
            ),
            Event::CData(text) => push_text(
                &mut stack,
                &normalize_newlines(&String::from_utf8_lossy(&text)),
            ),
            Event::GeneralRef(reference) => {
                let text = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => unescaped(&format!(
                        "&{};",
                        reference.decode().map_err(|e| e.to_string())?
                    ))?,
                };
                push_text(&mut stack, &text);
            }
            Event::PI(pi) => {
                let content = pi_text(&String::from_utf8_lossy(&pi));
                match (stack.last_mut(), &root) {
                    (Some(open), _) => open.children.push(Node::Pi(content)),
                    (None, None) => before.push(content),
                    (None, Some(_)) => after.push(content),
                }
            }
            Event::Eof => {
                let root = root.ok_or("the document ends inside an element")?;
                return Ok(Document {
                    before,
                    root,
                    after,
                });
            }
            Event::DocType(_) => return Err("a DOCTYPE".into()),
            _ => {}
        }
        buf.clear();
    }
}

/// A processing instruction as canonical XML writes it: its target, one space, its data.
fn pi_text(raw: &str) -> String {
    match raw.split_once(char::is_whitespace) {
        Some((target, data)) if !data.trim_start().is_empty() => {
            format!("{target} {}", data.trim_start())
        }
        _ => raw.trim_end().to_owned(),
    }
}

fn element(start: &BytesStart<'_>) -> Result<XmlElement, String> {
    let mut element = XmlElement {
        qname: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
        declared: Vec::new(),
        attributes: Vec::new(),
        children: Vec::new(),
    };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let name = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        // Attribute-value normalization: literal white space becomes a space, references stay.
        let raw = String::from_utf8_lossy(&attribute.value)
            .replace("\r\n", "\n")
            .replace(['\t', '\n', '\r'], " ");
        let value = unescaped(&raw)?;
        match name.strip_prefix("xmlns") {
            Some("") => element.declared.push((String::new(), value)),
            Some(prefixed) if prefixed.starts_with(':') => {
                element.declared.push((prefixed[1..].to_owned(), value));
            }
            _ => element.attributes.push((name, value)),
        }
    }
    Ok(element)
}

fn push_text(stack: &mut [XmlElement], text: &str) {
    // Outside the root only white space can stand; it is not part of the canonical form.
    if let Some(open) = stack.last_mut() {
        match open.children.last_mut() {
            Some(Node::Text(previous)) => previous.push_str(text),
            _ => open.children.push(Node::Text(text.to_owned())),
        }
    }
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn unescaped(text: &str) -> Result<String, String> {
    quick_xml::escape::unescape(text)
        .map(std::borrow::Cow::into_owned)
        .map_err(|e| e.to_string())
}

/// How namespaces are rendered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Mode {
    /// Only those an element or its attributes use (`xml-exc-c14n#`).
    Exclusive,
    /// Every namespace in scope (`REC-xml-c14n-20010315`).
    Inclusive,
}

/// The canonical form of the whole document, leaving out the element `skip`: the processing
/// instructions before the root each followed by a newline, those after it each preceded by one.
pub(super) fn canonical_document(
    document: &Document,
    mode: Mode,
    skip: Option<&XmlElement>,
) -> Vec<u8> {
    let mut out = Vec::new();
    for pi in &document.before {
        out.extend_from_slice(format!("<?{pi}?>\n").as_bytes());
    }
    out.extend(canonical(&document.root, &Scope::new(), mode, skip));
    for pi in &document.after {
        out.extend_from_slice(format!("\n<?{pi}?>").as_bytes());
    }
    out
}

/// The canonical form of `apex` (with the namespaces `inherited` from its ancestors), leaving
/// out the element `skip` (the signature, for the enveloped-signature transform).
pub(super) fn canonical(
    apex: &XmlElement,
    inherited: &Scope,
    mode: Mode,
    skip: Option<&XmlElement>,
) -> Vec<u8> {
    let mut out = String::new();
    write(&mut out, apex, inherited, &Scope::new(), mode, skip);
    out.into_bytes()
}

fn write(
    out: &mut String,
    element: &XmlElement,
    inherited: &Scope,
    rendered: &Scope,
    mode: Mode,
    skip: Option<&XmlElement>,
) {
    let mut scope = inherited.clone();
    for (prefix, uri) in &element.declared {
        scope.insert(prefix.clone(), uri.clone());
    }
    let mut now_rendered = rendered.clone();
    out.push('<');
    out.push_str(&element.qname);
    for (prefix, uri) in namespaces_to_render(element, &scope, rendered, mode) {
        let name = if prefix.is_empty() {
            "xmlns".to_owned()
        } else {
            format!("xmlns:{prefix}")
        };
        out.push_str(&format!(" {name}=\"{}\"", escape_attribute(&uri)));
        now_rendered.insert(prefix, uri);
    }
    let mut attributes: Vec<(String, &str, &str)> = element
        .attributes
        .iter()
        .map(|(qname, value)| {
            let (uri, local) = match qname.split_once(':') {
                Some(("xml", local)) => (XML_NAMESPACE.to_owned(), local),
                Some((prefix, local)) => (scope.get(prefix).cloned().unwrap_or_default(), local),
                None => (String::new(), qname.as_str()),
            };
            (format!("{uri}\u{0}{local}"), qname.as_str(), value.as_str())
        })
        .collect();
    attributes.sort();
    for (_, qname, value) in attributes {
        out.push_str(&format!(" {qname}=\"{}\"", escape_attribute(value)));
    }
    out.push('>');
    for child in &element.children {
        match child {
            Node::Element(inner) if skip.is_some_and(|skip| std::ptr::eq(skip, inner)) => {}
            Node::Element(inner) => write(out, inner, &scope, &now_rendered, mode, skip),
            Node::Text(text) => escape_text(out, text),
            Node::Pi(pi) => out.push_str(&format!("<?{pi}?>")),
        }
    }
    out.push_str(&format!("</{}>", element.qname));
}

/// The declarations an element carries in canonical form, default first, then by prefix.
fn namespaces_to_render(
    element: &XmlElement,
    scope: &Scope,
    rendered: &Scope,
    mode: Mode,
) -> Vec<(String, String)> {
    let candidates: Vec<String> = match mode {
        Mode::Inclusive => scope.keys().cloned().chain([String::new()]).collect(),
        Mode::Exclusive => {
            let mut used = vec![element.prefix().to_owned()];
            used.extend(element.attributes.iter().filter_map(|(qname, _)| {
                qname
                    .split_once(':')
                    .map(|(prefix, _)| prefix.to_owned())
                    .filter(|p| p != "xml")
            }));
            used
        }
    };
    let mut render = BTreeMap::new();
    for prefix in candidates {
        let uri = scope.get(&prefix).cloned().unwrap_or_default();
        let shown = rendered.get(&prefix).cloned().unwrap_or_default();
        // An empty default namespace is only written to undo a default rendered above.
        if uri != shown && !(prefix.is_empty() && uri.is_empty() && shown.is_empty()) {
            render.insert(prefix, uri);
        }
    }
    render.into_iter().collect()
}

/// Text as canonical XML writes it: `&`, `<`, `>` and carriage returns escaped, nothing else.
pub(super) fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exclusive(xml: &str) -> String {
        let document = parse(xml.as_bytes()).unwrap();
        String::from_utf8(canonical_document(&document, Mode::Exclusive, None)).unwrap()
    }

    #[test]
    fn canonical_form_follows_the_w3c_rules_for_text_attributes_and_namespaces() {
        let xml = "<?xml version=\"1.0\"?>\n<?xml-stylesheet   href=\"a.xsl\"?>\n<a:doc xmlns:a=\"urn:a\" xmlns:unused=\"urn:u\" z=\"1\" b='x\"y'>\r\n<e/><!-- gone --><t>&lt;&#65;&amp;'\"</t><c><![CDATA[1 < 2]]></c><d xmlns=\"urn:d\"><f/></d></a:doc>";

        assert_eq!(
            exclusive(xml),
            "<?xml-stylesheet href=\"a.xsl\"?>\n<a:doc xmlns:a=\"urn:a\" b=\"x&quot;y\" z=\"1\">\n<e></e><t>&lt;A&amp;'\"</t><c>1 &lt; 2</c><d xmlns=\"urn:d\"><f></f></d></a:doc>"
        );
    }
}
