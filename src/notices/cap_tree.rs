//! Reading CAP XML into a tree of CAP elements, safely: no DOCTYPE (so no DTD or entity
//! declaration), no entity but XML's own, nothing ever fetched, one root, bounded depth and
//! size. Elements in other namespaces are set aside whole and named, never read as CAP.

use quick_xml::NsReader;
use quick_xml::events::{BytesRef, Event};
use quick_xml::name::ResolveResult;

use super::cap_element::{Element, check_and_order};
use super::cap_xml::{CAP_1_1_NAMESPACE, CAP_NAMESPACE};
use crate::problem::{ErrorCode, Problem};

const MAX_DEPTH: usize = 16;
const MAX_ELEMENTS: usize = 20_000;
/// Foreign elements named in an answer at most; the count says how many more.
const MAX_NAMED_FOREIGN: usize = 20;

/// The `<alert>` tree, and the elements of other namespaces that were set aside.
#[derive(Debug)]
pub(super) struct CapTree {
    pub(super) alert: Element,
    /// `{namespace}name` of each foreign element (its content went with it).
    pub(super) foreign: Vec<String>,
}

pub(super) fn unsafe_xml(why: &str) -> Problem {
    Problem::new(
        ErrorCode::UnsafeXml,
        format!("the document was refused: {why}"),
    )
}

pub(super) fn malformed(why: impl std::fmt::Display) -> Problem {
    Problem::new(
        ErrorCode::MalformedXml,
        format!("the document is not well-formed XML: {why}"),
    )
}

/// Reads the document's `<alert>`, in the encoding it declares, enforcing every safety rule on
/// the way.
pub(super) fn read_tree(xml: &[u8]) -> Result<CapTree, Problem> {
    let xml = super::cap_encoding::as_utf8(xml)?;
    let mut reader = NsReader::from_reader(&*xml);
    // Text is trimmed when read, not per event: an entity splits text into several events.
    reader.config_mut().trim_text(false);
    let mut tree = TreeReader::default();
    let mut buf = Vec::new();
    loop {
        let (namespace, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(malformed)?;
        if let Some(done) = tree.step(namespace, event)? {
            return Ok(done);
        }
        buf.clear();
    }
}

#[derive(Default)]
struct TreeReader {
    /// The CAP namespace of the root (1.2 or 1.1), once read; other elements must share it.
    namespace: Option<&'static str>,
    /// Open CAP elements, the root first.
    stack: Vec<Element>,
    elements: usize,
    /// Depth inside a foreign element being skipped (0: not skipping).
    skipping: usize,
    foreign: Vec<String>,
    foreign_count: usize,
    /// The closed root, once read: only comments and whitespace may follow it.
    root: Option<Element>,
}

impl TreeReader {
    /// Takes one event; the tree once the document has ended.
    fn step(
        &mut self,
        namespace: ResolveResult<'_>,
        event: Event<'_>,
    ) -> Result<Option<CapTree>, Problem> {
        match event {
            Event::DocType(_) => Err(unsafe_xml(
                "it has a DOCTYPE; DTDs and entity declarations are not accepted",
            )),
            Event::Start(start) => {
                self.open(&namespace, start.local_name().as_ref(), false)?;
                Ok(None)
            }
            Event::Empty(start) => {
                self.open(&namespace, start.local_name().as_ref(), true)?;
                Ok(None)
            }
            Event::End(_) => {
                self.close()?;
                Ok(None)
            }
            Event::Text(content) => {
                let text = content.decode().map_err(malformed)?;
                let text = quick_xml::escape::unescape(&text).map_err(|err| {
                    unsafe_xml(&format!(
                        "it uses an entity this hub does not expand ({err})"
                    ))
                })?;
                self.text(&text)?;
                Ok(None)
            }
            Event::CData(content) => {
                self.text(&String::from_utf8_lossy(&content))?;
                Ok(None)
            }
            Event::GeneralRef(reference) => {
                self.text(&resolve_reference(&reference)?)?;
                Ok(None)
            }
            Event::Eof => self.finish().map(Some),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => Ok(None),
        }
    }

    fn open(
        &mut self,
        namespace: &ResolveResult<'_>,
        name: &[u8],
        empty: bool,
    ) -> Result<(), Problem> {
        if self.root.is_some() {
            return Err(malformed(format!(
                "a second root element <{}> after </alert>; send one alert per document",
                String::from_utf8_lossy(name)
            )));
        }
        self.elements += 1;
        let depth = self.stack.len() + self.skipping;
        if depth >= MAX_DEPTH || self.elements > MAX_ELEMENTS {
            return Err(unsafe_xml(
                "it nests too deep or has too many elements for a CAP alert",
            ));
        }
        if self.skipping > 0 {
            self.skipping += usize::from(!empty);
            return Ok(());
        }
        let in_cap = match namespace {
            ResolveResult::Bound(ns) => {
                let root_namespace = [CAP_NAMESPACE, CAP_1_1_NAMESPACE]
                    .into_iter()
                    .find(|cap| ns.as_ref() == cap.as_bytes());
                let namespace = *self
                    .namespace
                    .get_or_insert_with(|| root_namespace.unwrap_or(""));
                root_namespace.is_some_and(|found| found == namespace)
            }
            ResolveResult::Unbound => false,
            ResolveResult::Unknown(prefix) => {
                return Err(malformed(format!(
                    "the prefix `{}` is used but never declared",
                    String::from_utf8_lossy(prefix)
                )));
            }
        };
        if self.stack.is_empty() && !in_cap {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "alert",
                format!(
                    "this is not CAP 1.2 or 1.1: the root must be <alert xmlns=\"{CAP_NAMESPACE}\"> \
                     (or the 1.1 namespace)"
                ),
            ));
        }
        if !in_cap {
            self.set_aside(namespace, name);
            self.skipping = usize::from(!empty);
            return Ok(());
        }
        let element = Element {
            name: String::from_utf8_lossy(name).into_owned(),
            ..Element::default()
        };
        match empty {
            true => self.attach(element),
            false => {
                self.stack.push(element);
                Ok(())
            }
        }
    }

    fn set_aside(&mut self, namespace: &ResolveResult<'_>, name: &[u8]) {
        self.foreign_count += 1;
        if self.foreign.len() < MAX_NAMED_FOREIGN {
            let space = match namespace {
                ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
                _ => String::new(),
            };
            self.foreign
                .push(format!("{{{space}}}{}", String::from_utf8_lossy(name)));
        }
    }

    fn close(&mut self) -> Result<(), Problem> {
        if self.skipping > 0 {
            self.skipping -= 1;
            return Ok(());
        }
        let mut closed = self
            .stack
            .pop()
            .ok_or_else(|| malformed("an end tag without a start"))?;
        if !closed.children.is_empty() {
            // Only the indentation between children: CAP never mixes text and elements.
            closed.text.clear();
        }
        if !self.stack.is_empty() {
            return self.attach(closed);
        }
        if closed.name != "alert" {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "alert",
                format!("the root element is <{}>, not <alert>", closed.name),
            ));
        }
        self.root = Some(closed);
        Ok(())
    }

    fn attach(&mut self, element: Element) -> Result<(), Problem> {
        let parent = self
            .stack
            .last_mut()
            .ok_or_else(|| malformed("content outside the root element"))?;
        parent.children.push(element);
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), Problem> {
        if self.skipping > 0 {
            return Ok(());
        }
        if let Some(forbidden) = crate::model::xml_forbidden_char(text) {
            let code = u32::from(forbidden);
            return Err(malformed(format!(
                "it contains the character U+{code:04X}, which XML 1.0 does not allow"
            )));
        }
        match self.stack.last_mut() {
            Some(open) => open.text.push_str(text),
            None if text.trim().is_empty() => {}
            None => return Err(malformed("text outside the root element")),
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<CapTree, Problem> {
        let mut alert = self
            .root
            .take()
            .ok_or_else(|| malformed("the document ends before </alert>"))?;
        if self.namespace == Some(CAP_1_1_NAMESPACE) {
            upgrade_from_cap_1_1(&mut alert);
        }
        check_and_order(&mut alert)?;
        let mut foreign = std::mem::take(&mut self.foreign);
        if self.foreign_count > foreign.len() {
            foreign.push(format!("and {} more", self.foreign_count - foreign.len()));
        }
        Ok(CapTree { alert, foreign })
    }
}

/// CAP 1.2's changes to 1.1 that touch what 1.1 could say: the deprecated certainty
/// `Very Likely` is to be treated as `Likely`, and 1.2 no longer has it. Everything else a 1.1
/// alert may hold is valid 1.2 as it is.
fn upgrade_from_cap_1_1(alert: &mut Element) {
    let certainties = alert
        .children
        .iter_mut()
        .filter(|child| child.name == "info")
        .flat_map(|info| info.children.iter_mut())
        .filter(|child| child.name == "certainty");
    for certainty in certainties {
        if certainty.text.trim() == "Very Likely" {
            certainty.text = "Likely".into();
        }
    }
}

/// `&amp;` and the other four predefined entities, and character references, are plain text.
/// Any other entity would need a DTD to mean something, and DTDs are refused.
fn resolve_reference(reference: &BytesRef<'_>) -> Result<String, Problem> {
    if reference.is_char_ref() {
        let resolved = reference.resolve_char_ref().map_err(malformed)?;
        return resolved
            .map(String::from)
            .ok_or_else(|| malformed("an empty character reference"));
    }
    let name = reference.decode().map_err(malformed)?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| unsafe_xml(&format!("it uses the entity &{name}; which is not XML's own; entities need a DTD, and DTDs are not accepted")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: &str = r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">"#;

    #[test]
    fn a_second_root_element_is_malformed() {
        let xml = format!("{OPEN}<identifier>a</identifier></alert><alert/>");

        let problem = read_tree(xml.as_bytes()).unwrap_err();

        assert_eq!(problem.code, ErrorCode::MalformedXml);
        assert!(
            problem.message.contains("second root"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn a_character_xml_1_0_forbids_is_malformed_whether_raw_or_a_character_reference() {
        for text in ["&#1;ctl", "&#xFFFE;", "raw \u{1} byte", "<![CDATA[\u{8}]]>"] {
            let xml = format!("{OPEN}<identifier>{text}</identifier></alert>");

            let problem = read_tree(xml.as_bytes()).unwrap_err();

            assert_eq!(problem.code, ErrorCode::MalformedXml, "{text}");
            assert!(problem.message.contains("U+"), "{}", problem.message);
        }
    }

    #[test]
    fn text_after_the_root_is_malformed_but_comments_and_whitespace_are_fine() {
        let fine = format!("{OPEN}</alert>\n<!-- signed elsewhere -->\n");
        let trailing = format!("{OPEN}</alert>trailing words");

        assert!(read_tree(fine.as_bytes()).is_ok());
        assert_eq!(
            read_tree(trailing.as_bytes()).unwrap_err().code,
            ErrorCode::MalformedXml
        );
    }

    #[test]
    fn foreign_elements_are_set_aside_whole_and_named_never_read_as_cap() {
        let xml = format!(
            r#"{OPEN}<identifier>real</identifier><x:identifier xmlns:x="urn:evil">forged</x:identifier><x:extra xmlns:x="urn:evil"><identifier>nested</identifier></x:extra></alert>"#
        );

        let tree = read_tree(xml.as_bytes()).unwrap();

        assert_eq!(tree.alert.text_of("identifier").as_deref(), Some("real"));
        assert_eq!(tree.alert.children.len(), 1);
        assert_eq!(tree.foreign, ["{urn:evil}identifier", "{urn:evil}extra"]);
    }
}
