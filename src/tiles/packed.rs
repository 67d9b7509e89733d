//! A cut tile as it is sent: compressed once with gzip and brotli when it is cut, so a cached
//! tile is answered without compressing it again.

use std::io::Write;

use bytes::Bytes;

/// Tiles smaller than this are sent as they are: compressing would save nothing.
const WORTH_COMPRESSING: usize = 256;
/// Brotli quality: close to the best ratio at a fraction of the time of 11; a tile is
/// compressed once.
const BROTLI_QUALITY: u32 = 9;
const BROTLI_WINDOW: u32 = 22;

/// How a body is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` value, if any.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    /// The best encoding an `Accept-Encoding` header allows (brotli, then gzip).
    pub fn preferred(accept: &str) -> Encoding {
        let accepted = |name: &str| {
            accept.split(',').any(|offer| {
                let mut parts = offer.split(';');
                let coding = parts.next().unwrap_or("").trim();
                let refused =
                    parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                coding.eq_ignore_ascii_case(name) && !refused
            })
        };
        if accepted("br") {
            Encoding::Brotli
        } else if accepted("gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }
}

/// One tile in every encoding it is sent in.
pub struct PackedTile {
    raw: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

impl PackedTile {
    pub fn new(raw: Vec<u8>) -> PackedTile {
        let worth = raw.len() >= WORTH_COMPRESSING;
        PackedTile {
            gzip: worth.then(|| gzip(&raw)),
            brotli: worth.then(|| brotli(&raw)),
            raw: Bytes::from(raw),
        }
    }

    /// The body for a client that accepts `wanted`, and the encoding it is in.
    pub fn body(&self, wanted: Encoding) -> (Bytes, Encoding) {
        match (wanted, &self.brotli, &self.gzip) {
            (Encoding::Brotli, Some(brotli), _) => (brotli.clone(), Encoding::Brotli),
            (Encoding::Brotli | Encoding::Gzip, _, Some(gzip)) => (gzip.clone(), Encoding::Gzip),
            _ => (self.raw.clone(), Encoding::Identity),
        }
    }

    /// A tile with nothing in it.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Bytes held, for the cache's budget.
    pub fn bytes(&self) -> usize {
        self.raw.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.brotli.as_ref().map_or(0, Bytes::len)
    }
}

fn gzip(raw: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(raw).expect("writing to memory");
    Bytes::from(encoder.finish().expect("writing to memory"))
}

fn brotli(raw: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(raw.len() / 2);
    let mut writer = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
    writer.write_all(raw).expect("writing to memory");
    drop(writer);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_accepted_encoding_is_chosen_and_a_refused_one_never() {
        assert_eq!(
            Encoding::preferred("gzip, deflate, br, zstd"),
            Encoding::Brotli
        );
        assert_eq!(Encoding::preferred("gzip"), Encoding::Gzip);
        assert_eq!(Encoding::preferred("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(Encoding::preferred(""), Encoding::Identity);
    }

    #[test]
    fn a_packed_tile_decompresses_to_the_tile_as_cut() {
        let raw: Vec<u8> = (0..4000u32).map(|n| (n % 7) as u8).collect();
        let tile = PackedTile::new(raw.clone());

        let (brotli, encoding) = tile.body(Encoding::Brotli);
        let mut unpacked = Vec::new();
        brotli::BrotliDecompress(&mut &brotli[..], &mut unpacked).unwrap();

        assert_eq!(encoding, Encoding::Brotli);
        assert_eq!(unpacked, raw);
        assert!(brotli.len() < raw.len());
        let (small, plain) = PackedTile::new(vec![1, 2, 3]).body(Encoding::Brotli);
        assert_eq!((small.len(), plain), (3, Encoding::Identity));
    }
}
