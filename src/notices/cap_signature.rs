//! The office's XML signature on the CAP documents it publishes: an enveloped XML-DSig over the
//! whole alert (exclusive canonicalization, SHA-256 digest, ECDSA-P256-SHA256), with the office
//! certificate in `KeyInfo`, so any XML-DSig verifier (`xmlsec1 --verify`) can check it.
//!
//! The documents are written so that their bytes inside `<alert>` are already their canonical
//! form (`cap_element::write_document`): the digest is taken over exactly what is sent, minus
//! the signature, as the enveloped-signature transform says.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use chrono::Datelike;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256};

/// The P-256 key, PKCS#8 PEM, in the data dir.
pub const CAP_KEY_FILE: &str = "cap-signing-key.pem";
/// The certificate of that key: self-signed on first start, or one the office had issued.
pub const CAP_CERT_FILE: &str = "cap-signing-cert.pem";

const DSIG_NAMESPACE: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// Years a self-signed certificate is valid.
const SELF_SIGNED_YEARS: i32 = 10;

pub struct CapSigner {
    /// Signs deterministically (RFC 6979), so a document is the same bytes at every request
    /// and its `ETag` holds.
    key: SigningKey,
    certificate_der: Vec<u8>,
}

impl CapSigner {
    /// Loads the key and certificate from `data_dir`, or makes a self-signed pair there for
    /// `office` (the CAP `senderName`) if it has none yet.
    pub fn load_or_create(data_dir: &Path, office: &str) -> anyhow::Result<CapSigner> {
        let (key_path, cert_path) = (data_dir.join(CAP_KEY_FILE), data_dir.join(CAP_CERT_FILE));
        if !key_path.exists() {
            let (key_pem, cert_pem) = self_signed(office)?;
            crate::secret::write_private_file(&key_path, key_pem.as_bytes())?;
            std::fs::write(&cert_path, cert_pem)
                .with_context(|| format!("cannot write {}", cert_path.display()))?;
            tracing::info!(path = %key_path.display(), "created the CAP signing key and a self-signed certificate; back them up with the database");
        }
        let key_der = read_pem(&key_path, "PRIVATE KEY")?;
        let certificate_der = read_pem(&cert_path, "CERTIFICATE")?;
        let key = SigningKey::from_pkcs8_der(&key_der)
            .map_err(|_| anyhow::anyhow!("{} is not a P-256 PKCS#8 key", key_path.display()))?;
        Ok(CapSigner {
            key,
            certificate_der,
        })
    }

    /// The certificate that verifies the documents, PEM, for `GET /api/v1/keys`.
    pub fn certificate_pem(&self) -> String {
        pem::encode(&pem::Pem::new("CERTIFICATE", self.certificate_der.clone()))
    }

    /// The `<Signature>` element for a document whose canonical form is `canonical`.
    pub(super) fn signature(&self, canonical: &[u8]) -> String {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let signed_info = signed_info(&b64(&Sha256::digest(canonical)));
        // XML-DSig's ECDSA value is r and s side by side, not DER.
        let value: Signature = self.key.sign(signed_info.canonical.as_bytes());
        format!(
            "<Signature xmlns=\"{DSIG_NAMESPACE}\">{}<SignatureValue>{}</SignatureValue>\
             <KeyInfo><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></Signature>",
            signed_info.in_document,
            b64(&value.to_bytes()),
            b64(&self.certificate_der)
        )
    }
}

impl super::Notices {
    /// The office's CAP signing key and certificate.
    pub fn cap_signer(&self) -> &CapSigner {
        &self.inner.cap_signer
    }
}

struct SignedInfo {
    /// As it stands in the document, inheriting its namespace from `<Signature>`.
    in_document: String,
    /// Its exclusive canonical form, which is what is signed: the same, declaring the namespace.
    canonical: String,
}

fn signed_info(digest: &str) -> SignedInfo {
    let inner = format!(
        "<CanonicalizationMethod Algorithm=\"{EXC_C14N}\"></CanonicalizationMethod>\
         <SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"></SignatureMethod>\
         <Reference URI=\"\"><Transforms>\
         <Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"></Transform>\
         <Transform Algorithm=\"{EXC_C14N}\"></Transform></Transforms>\
         <DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"></DigestMethod>\
         <DigestValue>{digest}</DigestValue></Reference>"
    );
    SignedInfo {
        in_document: format!("<SignedInfo>{inner}</SignedInfo>"),
        canonical: format!("<SignedInfo xmlns=\"{DSIG_NAMESPACE}\">{inner}</SignedInfo>"),
    }
}

/// A new P-256 key and a certificate for it naming the office, both PEM.
fn self_signed(office: &str) -> anyhow::Result<(String, String)> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .context("making the CAP signing key")?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, office);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationalUnitName, "CAP signing");
    let today = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    let (year, month, day) = (today.year(), today.month() as u8, today.day() as u8);
    params.not_before = rcgen::date_time_ymd(year, month, day);
    params.not_after = rcgen::date_time_ymd(year + SELF_SIGNED_YEARS, month, day.min(28));
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let certificate = params
        .self_signed(&key)
        .context("making the CAP signing certificate")?;
    Ok((key.serialize_pem(), certificate.pem()))
}

fn read_pem(path: &Path, tag: &str) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let block = pem::parse(&text).with_context(|| format!("{} is not PEM", path.display()))?;
    anyhow::ensure!(
        block.tag() == tag,
        "{} holds a {}, not a {tag}",
        path.display(),
        block.tag()
    );
    Ok(block.into_contents())
}
