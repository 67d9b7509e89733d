//! Checking the XML signature another authority put on a CAP document: its digest over the
//! document, its signature over `SignedInfo` with the certificate in `KeyInfo`, and whether the
//! office's trust store holds that certificate. The result is kept with the imported notice.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::xml_c14n::{Document, Mode, Scope, XmlElement, canonical, canonical_document, parse};

const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// What the office checked of a document's signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureCheck {
    /// The document carries no XML signature.
    Unsigned,
    /// Signed, unchanged since, with a certificate of the trust store (named by its file).
    Valid { signer: String },
    /// Signed and unchanged since, but with a certificate the trust store does not hold.
    Untrusted { reason: String },
    /// The signature does not hold: changed after signing, or not verifiable.
    Invalid { reason: String },
}

impl SignatureCheck {
    /// The check in a sentence for the operator and approver.
    pub fn said(&self) -> String {
        match self {
            SignatureCheck::Unsigned => {
                "the document is not signed: nothing vouches that it comes from its sender".into()
            }
            SignatureCheck::Valid { signer } => format!(
                "the sender's XML signature is valid, by the trusted certificate `{signer}`"
            ),
            SignatureCheck::Untrusted { reason } => {
                format!("the sender's XML signature is not trusted: {reason}")
            }
            SignatureCheck::Invalid { reason } => {
                format!("the sender's XML signature is INVALID: {reason}")
            }
        }
    }
}

/// The certificates whose signatures the office trusts: each PEM file of a directory, named by
/// its file name without extension (`arpae.pem` is "arpae"). A `<name>.senders` file beside one
/// lists, a line each, the CAP senders it may sign for; without it, it vouches for any sender.
#[derive(Debug, Default, Clone)]
pub struct TrustStore {
    certificates: Vec<Trusted>,
}

#[derive(Debug, Clone)]
struct Trusted {
    name: String,
    der: Vec<u8>,
    senders: Option<Vec<String>>,
}

impl TrustStore {
    pub fn load(dir: Option<&Path>) -> anyhow::Result<TrustStore> {
        let Some(dir) = dir else {
            return Ok(TrustStore::default());
        };
        let mut certificates = Vec::new();
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path
                .extension()
                .is_none_or(|ext| ext != "pem" && ext != "crt")
            {
                continue;
            }
            let text = std::fs::read(&path)?;
            let block = pem::parse(&text)
                .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
            let name = path
                .file_stem()
                .map_or_else(String::new, |stem| stem.to_string_lossy().into_owned());
            let senders = read_senders(&path.with_extension("senders"))?;
            certificates.push(Trusted {
                name,
                der: block.into_contents(),
                senders,
            });
        }
        Ok(TrustStore { certificates })
    }

    /// The trusted certificate whose key made a signature that names none (a sender may leave
    /// its certificate out when the receiver holds it). Without one, nothing shows the document
    /// is the signer's, so the signature is not verifiable: `invalid`, never `untrusted`.
    fn verifier_of(
        &self,
        method: Option<&str>,
        signed: &[u8],
        value: &[u8],
    ) -> Result<Vec<u8>, SignatureCheck> {
        self.certificates
            .iter()
            .find(|trusted| check_value(method, &trusted.der, signed, value).is_ok())
            .map(|trusted| trusted.der.clone())
            .ok_or_else(|| {
                invalid(
                    "the signature carries no certificate (KeyInfo/X509Data/X509Certificate) \
                     and no certificate of the trust store verifies it, so it cannot be checked",
                )
            })
    }

    /// Whether the certificate may sign for `sender`: its name, or why not.
    fn vouches(&self, der: &[u8], sender: &str) -> Result<&str, String> {
        let trusted = self
            .certificates
            .iter()
            .find(|trusted| trusted.der == der)
            .ok_or_else(|| {
                "signed and unchanged, but with a certificate the office's trust store \
                 (notices.trusted_cap_certificates) does not hold"
                    .to_owned()
            })?;
        match &trusted.senders {
            Some(senders) if !senders.iter().any(|s| s == sender) => Err(format!(
                "signed with the trusted certificate `{}`, which does not sign for the sender \
                 {sender} ({}.senders)",
                trusted.name, trusted.name
            )),
            _ => Ok(&trusted.name),
        }
    }
}

/// The senders listed in a `.senders` file, if there is one.
fn read_senders(path: &Path) -> anyhow::Result<Option<Vec<String>>> {
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_owned)
            .collect(),
    ))
}

/// Checks the enveloped signature of a UTF-8 CAP document, if it has one.
pub(super) fn check(xml: &[u8], trust: &TrustStore) -> SignatureCheck {
    let Ok(document) = parse(xml) else {
        return invalid("the document could not be read for its signature");
    };
    let root = &document.root;
    let scope: Scope = root.declared.iter().cloned().collect();
    let Some(signature) = root
        .elements()
        .find(|e| e.local_name() == "Signature" && namespace_of(e, &scope) == DSIG)
    else {
        return SignatureCheck::Unsigned;
    };
    match verify(&document, signature, &scope, trust) {
        Ok(check) | Err(check) => check,
    }
}

fn verify(
    document: &Document,
    signature: &XmlElement,
    root_scope: &Scope,
    trust: &TrustStore,
) -> Result<SignatureCheck, SignatureCheck> {
    let mut scope = root_scope.clone();
    scope.extend(signature.declared.iter().cloned());
    let signed_info = child(signature, "SignedInfo")?;
    let reference = child(signed_info, "Reference")?;
    if reference.attribute("URI") != Some("") {
        return Err(invalid(
            "only a signature of the whole document (Reference URI=\"\") is checked",
        ));
    }
    let document_mode = reference_mode(reference)?;
    let digest = digest(child(reference, "DigestMethod")?.attribute("Algorithm"))?;
    let expected = decode(&child(reference, "DigestValue")?.text())?;
    let actual = digest(&canonical_document(
        document,
        document_mode,
        Some(signature),
    ));
    if actual != expected {
        return Err(invalid(
            "the document was changed after it was signed (its digest differs)",
        ));
    }
    let info_mode =
        c14n_mode(child(signed_info, "CanonicalizationMethod")?.attribute("Algorithm"))?;
    let signed = canonical(signed_info, &scope, info_mode, None);
    let value = decode(&child(signature, "SignatureValue")?.text())?;
    let method = child(signed_info, "SignatureMethod")?.attribute("Algorithm");
    let certificate = match certificate_text(signature) {
        Some(text) => {
            let certificate = decode(&text)?;
            check_value(method, &certificate, &signed, &value)?;
            certificate
        }
        None => trust.verifier_of(method, &signed, &value)?,
    };
    let sender = document
        .root
        .elements()
        .find(|e| e.local_name() == "sender")
        .map(|e| e.text().trim().to_owned())
        .unwrap_or_default();
    Ok(match trust.vouches(&certificate, &sender) {
        Ok(name) => SignatureCheck::Valid {
            signer: name.to_owned(),
        },
        Err(reason) => SignatureCheck::Untrusted { reason },
    })
}

/// The certificate's key verifies `value` over `signed` with the named method.
fn check_value(
    method: Option<&str>,
    certificate: &[u8],
    signed: &[u8],
    value: &[u8],
) -> Result<(), SignatureCheck> {
    use webpki::ring as algs;
    let der = CertificateDer::from(certificate);
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|_| invalid("the certificate in KeyInfo cannot be read"))?;
    let ecdsa_der;
    let (alg, value) = match method.unwrap_or("") {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
            (algs::RSA_PKCS1_2048_8192_SHA256, value)
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            (algs::RSA_PKCS1_2048_8192_SHA512, value)
        }
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => {
            // XML-DSig writes r and s side by side; the verifier takes DER.
            let signature = p256::ecdsa::Signature::from_slice(value)
                .map_err(|_| invalid("the ECDSA signature value is not 64 bytes"))?;
            ecdsa_der = signature.to_der();
            (algs::ECDSA_P256_SHA256, ecdsa_der.as_bytes())
        }
        other => {
            return Err(invalid(&format!(
                "the signature method {other} is not supported (RSA-SHA256, RSA-SHA512, ECDSA-P256-SHA256 are)"
            )));
        }
    };
    cert.verify_signature(alg, signed, value)
        .map_err(|_| invalid("the signature does not verify with the certificate in KeyInfo"))
}

fn reference_mode(reference: &XmlElement) -> Result<Mode, SignatureCheck> {
    let transforms: Vec<&str> = child(reference, "Transforms")
        .map(|t| {
            t.elements()
                .filter_map(|e| e.attribute("Algorithm"))
                .collect()
        })
        .unwrap_or_default();
    if !transforms.contains(&"http://www.w3.org/2000/09/xmldsig#enveloped-signature") {
        return Err(invalid(
            "the signature is not enveloped (no enveloped-signature transform)",
        ));
    }
    match transforms
        .iter()
        .find(|t| !t.ends_with("#enveloped-signature"))
    {
        Some(other) => c14n_mode(Some(other)),
        // Without one, a node-set becomes octets by inclusive canonicalization.
        None => Ok(Mode::Inclusive),
    }
}

fn c14n_mode(algorithm: Option<&str>) -> Result<Mode, SignatureCheck> {
    match algorithm.unwrap_or("") {
        "http://www.w3.org/2001/10/xml-exc-c14n#" => Ok(Mode::Exclusive),
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315" => Ok(Mode::Inclusive),
        other => Err(invalid(&format!(
            "the canonicalization {other} is not supported"
        ))),
    }
}

/// A digest function over canonical bytes.
type DigestOf = fn(&[u8]) -> Vec<u8>;

fn digest(algorithm: Option<&str>) -> Result<DigestOf, SignatureCheck> {
    match algorithm.unwrap_or("") {
        "http://www.w3.org/2001/04/xmlenc#sha256" => {
            Ok(|bytes| sha2::Sha256::digest(bytes).to_vec())
        }
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => {
            Ok(|bytes| sha2::Sha384::digest(bytes).to_vec())
        }
        "http://www.w3.org/2001/04/xmlenc#sha512" => {
            Ok(|bytes| sha2::Sha512::digest(bytes).to_vec())
        }
        other => Err(invalid(&format!(
            "the digest {other} is not supported (SHA-256, 384 and 512 are)"
        ))),
    }
}

/// The certificate in `KeyInfo/X509Data/X509Certificate`, if the signer sent one.
fn certificate_text(signature: &XmlElement) -> Option<String> {
    child(signature, "KeyInfo")
        .and_then(|info| child(info, "X509Data"))
        .and_then(|data| child(data, "X509Certificate"))
        .map(XmlElement::text)
        .ok()
}

fn child<'a>(parent: &'a XmlElement, name: &str) -> Result<&'a XmlElement, SignatureCheck> {
    parent
        .elements()
        .find(|e| e.local_name() == name)
        .ok_or_else(|| invalid(&format!("the signature has no {name}")))
}

fn namespace_of(element: &XmlElement, scope: &Scope) -> String {
    let prefix = element.prefix();
    element
        .declared
        .iter()
        .find(|(p, _)| p == prefix)
        .map(|(_, uri)| uri.clone())
        .or_else(|| scope.get(prefix).cloned())
        .unwrap_or_default()
}

fn decode(text: &str) -> Result<Vec<u8>, SignatureCheck> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| invalid("a base64 value of the signature cannot be read"))
}

fn invalid(reason: &str) -> SignatureCheck {
    SignatureCheck::Invalid {
        reason: reason.to_owned(),
    }
}
