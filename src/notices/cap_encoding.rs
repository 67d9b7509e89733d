//! A CAP document in whatever encoding it declares, as UTF-8: the byte-order mark says UTF-16
//! or UTF-8, else the XML declaration's `encoding`, else UTF-8 (as XML itself decides).

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8};

use super::cap_tree::malformed;
use crate::problem::Problem;

/// The document as UTF-8, without its XML declaration when it named another encoding (the
/// text no longer is in it).
pub(super) fn as_utf8(xml: &[u8]) -> Result<Cow<'_, [u8]>, Problem> {
    let (encoding, body) = match Encoding::for_bom(xml) {
        Some((encoding, bom)) => (encoding, &xml[bom..]),
        None => (declared(xml)?.unwrap_or(UTF_8), xml),
    };
    if encoding == UTF_8 {
        return Ok(Cow::Borrowed(body));
    }
    let (text, malformed_bytes) = encoding.decode_without_bom_handling(body);
    if malformed_bytes {
        return Err(malformed(format!(
            "it is not valid {}, the encoding it declares",
            encoding.name()
        )));
    }
    Ok(Cow::Owned(without_declaration(&text).as_bytes().to_vec()))
}

/// The encoding an ASCII-compatible document names in `<?xml … encoding="…"?>`.
fn declared(xml: &[u8]) -> Result<Option<&'static Encoding>, Problem> {
    let Some(declaration) = xml
        .strip_prefix(b"<?xml")
        .and_then(|rest| rest.split(|&b| b == b'>').next())
    else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(declaration);
    let Some(after) = text.split_once("encoding").map(|(_, after)| after) else {
        return Ok(None);
    };
    let label = after
        .trim_start()
        .strip_prefix('=')
        .map(str::trim_start)
        .and_then(|value| {
            let quote = value.chars().next().filter(|&c| c == '"' || c == '\'')?;
            value[1..].split(quote).next()
        })
        .ok_or_else(|| malformed("its XML declaration names no encoding after encoding="))?;
    match Encoding::for_label(label.as_bytes()) {
        // A declaration read as ASCII cannot name UTF-16 truthfully: it would have had a BOM.
        Some(encoding) if encoding.is_ascii_compatible() => Ok(Some(encoding)),
        _ => Err(malformed(format!(
            "it declares the encoding {label:?}, which this hub cannot read (UTF-8, UTF-16 \
             with its byte-order mark, ISO-8859-1 and the other IANA encodings are read)"
        ))),
    }
}

fn without_declaration(text: &str) -> &str {
    match text.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(text, |(_, after)| after),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf_16_and_latin_1_documents_are_read_as_the_utf_8_they_mean() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><alert>Città</alert>";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(
            &*as_utf8(&utf16).unwrap(),
            "<alert>Città</alert>".as_bytes()
        );

        let mut latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><alert>Citt".to_vec();
        latin1.extend([0xE0]);
        latin1.extend(b"</alert>");
        assert_eq!(
            &*as_utf8(&latin1).unwrap(),
            "<alert>Città</alert>".as_bytes()
        );

        let plain = "<alert>Città</alert>";
        assert_eq!(&*as_utf8(plain.as_bytes()).unwrap(), plain.as_bytes());
        let unknown = b"<?xml version=\"1.0\" encoding=\"klingon\"?><alert/>";
        assert!(as_utf8(unknown).is_err());
    }
}
