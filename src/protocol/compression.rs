//! The compression codecs of Kafka record batches (attributes bits 0-2), with bounded
//! decompression: a hostile size field can never make us allocate more than the caller allows.
//!
//! Formats on the wire:
//! - gzip: RFC 1952 members (read as a multi-member stream, like `GZIPInputStream`);
//! - snappy: the Java client's xerial framing, `\x82SNAPPY\0`, version and compatible-version as
//!   i32 BE, then `[u32 BE length][raw snappy block]`... We also read bare raw snappy, which some
//!   clients write;
//! - lz4: the standard LZ4 frame format (v2 batches; the broken v0/v1 header checksum is not ours);
//! - zstd: standard zstd frames (KIP-110).
//!
//! Memory bound: the output never exceeds `max_size`; the decoders' working memory is bounded by
//! the formats (lz4: one block of at most 4 MiB; zstd: the window, at most zstd's default limit
//! of 128 MiB, which a hostile frame header can claim; lowering it would reject frames that
//! zstd-jni writes at high levels).

use std::io::{Read, Write};

use crate::protocol::records::RecordError;

/// A record-batch compression codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// No compression (id 0).
    None,
    /// gzip (id 1).
    Gzip,
    /// snappy, xerial-framed (id 2).
    Snappy,
    /// LZ4 frame (id 3).
    Lz4,
    /// zstd (id 4).
    Zstd,
}

/// Magic that opens a xerial (snappy-java) framed stream.
const XERIAL_MAGIC: &[u8; 8] = b"\x82SNAPPY\0";
/// Magic + version + compatible version.
const XERIAL_HEADER_LEN: usize = 16;
/// snappy-java's default block size, which the Java client and librdkafka also use.
const XERIAL_BLOCK_SIZE: usize = 32 * 1024;

fn bad(msg: impl std::fmt::Display) -> RecordError {
    RecordError::BadCompression(msg.to_string())
}

impl Compression {
    /// The codec in the low three bits of a batch's attributes.
    pub fn from_attributes(attrs: i16) -> Result<Self, RecordError> {
        match attrs & 0x07 {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(bad(format_args!("unknown compression codec id {other}"))),
        }
    }

    /// The codec's id as batch attribute bits.
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// Parses a `compression.codec` / `compression.type` value as librdkafka spells it
    /// ("none", "gzip", "snappy", "lz4", "zstd"). librdkafka's topic-level "inherit" is left
    /// to the configuration layer.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            "snappy" => Some(Compression::Snappy),
            "lz4" => Some(Compression::Lz4),
            "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The librdkafka name of the codec.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// Reads all of `reader` into a new vector, failing once more than `max_size` bytes come out.
fn read_bounded(
    reader: impl Read,
    input_len: usize,
    max_size: usize,
) -> Result<Vec<u8>, RecordError> {
    // Guess a typical ratio for the first allocation, but never past the limit.
    let mut out = Vec::with_capacity(input_len.saturating_mul(4).min(max_size));
    let limit = u64::try_from(max_size)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    reader.take(limit).read_to_end(&mut out).map_err(bad)?;
    if out.len() > max_size {
        return Err(RecordError::TooLarge);
    }
    Ok(out)
}

fn snappy_raw_into(block: &[u8], out: &mut Vec<u8>, max_size: usize) -> Result<(), RecordError> {
    let len = snap::raw::decompress_len(block).map_err(bad)?;
    if len > max_size - out.len() {
        return Err(RecordError::TooLarge);
    }
    let start = out.len();
    out.resize(start + len, 0);
    let n = snap::raw::Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(bad)?;
    out.truncate(start + n);
    Ok(())
}

fn snappy_decompress(input: &[u8], max_size: usize) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::new();
    if !input.starts_with(XERIAL_MAGIC) {
        snappy_raw_into(input, &mut out, max_size)?;
        return Ok(out);
    }
    if input.len() < XERIAL_HEADER_LEN {
        return Err(bad("truncated xerial snappy header"));
    }
    // The version fields are not checked: snappy-java itself only requires the magic.
    let mut rest = &input[XERIAL_HEADER_LEN..];
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(bad("truncated xerial snappy block length"));
        }
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        rest = &rest[4..];
        if len > rest.len() {
            return Err(bad("xerial snappy block runs past the input"));
        }
        snappy_raw_into(&rest[..len], &mut out, max_size)?;
        rest = &rest[len..];
    }
    Ok(out)
}

/// Decompresses `input` (a batch's records section) with `codec`. Fails with
/// [`RecordError::TooLarge`] rather than produce more than `max_size` bytes.
pub fn decompress(
    codec: Compression,
    input: &[u8],
    max_size: usize,
) -> Result<Vec<u8>, RecordError> {
    match codec {
        Compression::None => {
            if input.len() > max_size {
                return Err(RecordError::TooLarge);
            }
            Ok(input.to_vec())
        }
        Compression::Gzip => read_bounded(
            flate2::read::MultiGzDecoder::new(input),
            input.len(),
            max_size,
        ),
        Compression::Snappy => snappy_decompress(input, max_size),
        Compression::Lz4 => {
            let mut decoder = lz4::Decoder::new(input).map_err(bad)?;
            let out = read_bounded(&mut decoder, input.len(), max_size)?;
            // The decoder reports a frame cut short only here.
            decoder.finish().1.map_err(|_| bad("truncated lz4 frame"))?;
            Ok(out)
        }
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(input).map_err(bad)?;
            read_bounded(decoder, input.len(), max_size)
        }
    }
}

/// Appends `input` compressed with `codec` to `out`. `level` is the codec's own scale
/// (gzip 0-9, lz4 0-12, zstd 1-22), clamped to it; `None` or a negative level picks the codec's
/// default, like librdkafka's `compression.level = -1`.
pub fn compress(
    codec: Compression,
    input: &[u8],
    level: Option<i32>,
    out: &mut Vec<u8>,
) -> Result<(), RecordError> {
    let level = level.filter(|l| *l >= 0);
    match codec {
        Compression::None => out.extend_from_slice(input),
        Compression::Gzip => {
            let level = level.map_or(flate2::Compression::default(), |l| {
                flate2::Compression::new(l.clamp(0, 9) as u32)
            });
            let mut enc = flate2::write::GzEncoder::new(out, level);
            enc.write_all(input).map_err(bad)?;
            enc.finish().map_err(bad)?;
        }
        Compression::Snappy => {
            out.extend_from_slice(XERIAL_MAGIC);
            out.extend_from_slice(&1i32.to_be_bytes()); // version
            out.extend_from_slice(&1i32.to_be_bytes()); // minimum compatible version
            let mut encoder = snap::raw::Encoder::new();
            for block in input.chunks(XERIAL_BLOCK_SIZE) {
                let len_at = out.len();
                out.extend_from_slice(&[0; 4]);
                let start = out.len();
                out.resize(start + snap::raw::max_compress_len(block.len()), 0);
                let n = encoder.compress(block, &mut out[start..]).map_err(bad)?;
                out.truncate(start + n);
                out[len_at..start].copy_from_slice(&(n as u32).to_be_bytes());
            }
        }
        Compression::Lz4 => {
            // Independent 64 KiB blocks: the Java client's KafkaLZ4BlockInputStream reads no
            // other kind.
            let mut enc = lz4::EncoderBuilder::new()
                .block_size(lz4::BlockSize::Max64KB)
                .block_mode(lz4::BlockMode::Independent)
                .checksum(lz4::ContentChecksum::NoChecksum)
                .level(level.map_or(0, |l| l.clamp(0, 12) as u32))
                .build(out)
                .map_err(bad)?;
            enc.write_all(input).map_err(bad)?;
            enc.finish().1.map_err(bad)?;
        }
        Compression::Zstd => {
            let level = level.map_or(zstd::DEFAULT_COMPRESSION_LEVEL, |l| l.clamp(1, 22));
            let mut enc = zstd::stream::write::Encoder::new(out, level).map_err(bad)?;
            enc.write_all(input).map_err(bad)?;
            enc.finish().map_err(bad)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i % 251) as u8 ^ (i / 1000) as u8)
            .collect()
    }

    #[test]
    fn names_and_attribute_bits_round_trip() {
        for c in ALL {
            assert_eq!(Compression::from_name(c.name()), Some(c));
            assert_eq!(
                Compression::from_attributes(c.attribute_bits() | 0x30).unwrap(),
                c
            );
        }
        assert_eq!(Compression::from_name("inherit"), None);
        assert!(Compression::from_attributes(5).is_err());
        assert!(Compression::from_attributes(7).is_err());
    }

    #[test]
    fn every_codec_round_trips_across_block_boundaries() {
        for c in ALL {
            for len in [
                0,
                1,
                100,
                XERIAL_BLOCK_SIZE,
                XERIAL_BLOCK_SIZE * 3 + 7,
                200_000,
            ] {
                let input = sample(len);
                let mut out = b"prefix".to_vec();
                compress(c, &input, None, &mut out).unwrap();
                assert!(out.starts_with(b"prefix"), "compress appends");
                let back = decompress(c, &out[6..], len).unwrap();
                assert_eq!(back, input, "{c:?} len {len}");
            }
        }
    }

    #[test]
    fn levels_are_clamped_not_rejected() {
        for c in ALL {
            for level in [Some(-1), Some(0), Some(1), Some(100), None] {
                let mut out = Vec::new();
                compress(c, b"hello hello hello", level, &mut out).unwrap();
                assert_eq!(decompress(c, &out, 100).unwrap(), b"hello hello hello");
            }
        }
    }

    #[test]
    fn output_is_bounded_by_max_size() {
        let input = vec![0u8; 1 << 20];
        for c in ALL {
            let mut out = Vec::new();
            compress(c, &input, None, &mut out).unwrap();
            assert!(
                matches!(
                    decompress(c, &out, (1 << 20) - 1),
                    Err(RecordError::TooLarge)
                ),
                "{c:?}"
            );
            assert_eq!(decompress(c, &out, 1 << 20).unwrap().len(), 1 << 20);
        }
    }

    #[test]
    fn raw_snappy_is_accepted() {
        let input = sample(5000);
        let raw = snap::raw::Encoder::new().compress_vec(&input).unwrap();
        assert_eq!(decompress(Compression::Snappy, &raw, 5000).unwrap(), input);
    }

    #[test]
    fn xerial_framing_matches_snappy_java_layout() {
        let mut out = Vec::new();
        compress(
            Compression::Snappy,
            &sample(XERIAL_BLOCK_SIZE + 1),
            None,
            &mut out,
        )
        .unwrap();
        assert_eq!(&out[..16], b"\x82SNAPPY\0\0\0\0\x01\0\0\0\x01");
        let first = u32::from_be_bytes(out[16..20].try_into().unwrap()) as usize;
        let block = &out[20..20 + first];
        assert_eq!(snap::raw::decompress_len(block).unwrap(), XERIAL_BLOCK_SIZE);
    }

    #[test]
    fn truncated_or_garbage_input_is_an_error() {
        let input = sample(100_000);
        for c in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut out = Vec::new();
            compress(c, &input, None, &mut out).unwrap();
            for cut in [0, 1, out.len() / 2, out.len() - 1] {
                assert!(
                    decompress(c, &out[..cut], 1 << 20).is_err(),
                    "{c:?} cut at {cut}"
                );
            }
            assert!(decompress(c, &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5], 1 << 20).is_err());
        }
    }

    #[test]
    fn hostile_snappy_length_does_not_allocate() {
        // A raw snappy preamble claiming ~4 GiB of output.
        let hostile = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert!(matches!(
            decompress(Compression::Snappy, &hostile, 1 << 20),
            Err(RecordError::TooLarge)
        ));
    }
}
