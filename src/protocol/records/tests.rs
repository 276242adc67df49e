//! Cross-module tests: hand-built bytes, truncation, round trips through every codec, and a
//! batch encoded by a third party.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::protocol::compression::Compression;

const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// A batch written field by field from the KIP-98 layout, independent of `BatchWriter`:
/// two records, the first with a duplicated header key and a null header value, the second with
/// a null key and an empty value.
fn hand_built_batch() -> Vec<u8> {
    let records: Vec<u8> = [
        // Record 1: length 16, attrs, ts delta 0, offset delta 0, key "k", value "v1",
        // 2 headers: "h" -> null, "h" -> "x".
        &[0x20, 0x00, 0x00, 0x00, 0x02, b'k', 0x04, b'v', b'1', 0x04][..],
        &[0x02, b'h', 0x01, 0x02, b'h', 0x02, b'x'],
        // Record 2: length 6, attrs, ts delta 5, offset delta 1, null key, empty value, 0 headers.
        &[0x0c, 0x00, 0x0a, 0x02, 0x01, 0x00, 0x00],
    ]
    .concat();
    assert_eq!(records.len(), 24);
    let mut b = Vec::new();
    b.extend_from_slice(&100i64.to_be_bytes()); // base offset
    b.extend_from_slice(&(49 + 24i32).to_be_bytes()); // batch length
    b.extend_from_slice(&7i32.to_be_bytes()); // partition leader epoch
    b.push(2); // magic
    b.extend_from_slice(&[0; 4]); // crc, patched below
    b.extend_from_slice(&0x0010i16.to_be_bytes()); // attributes: transactional, no compression
    b.extend_from_slice(&1i32.to_be_bytes()); // last offset delta
    b.extend_from_slice(&1_000i64.to_be_bytes()); // base timestamp
    b.extend_from_slice(&1_005i64.to_be_bytes()); // max timestamp
    b.extend_from_slice(&42i64.to_be_bytes()); // producer id
    b.extend_from_slice(&3i16.to_be_bytes()); // producer epoch
    b.extend_from_slice(&9i32.to_be_bytes()); // base sequence
    b.extend_from_slice(&2i32.to_be_bytes()); // records count
    assert_eq!(b.len(), 61);
    b.extend_from_slice(&records);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

fn decode_all(buf: Bytes) -> Result<Vec<Record>, RecordError> {
    let mut out = Vec::new();
    for batch in BatchIter::new(buf) {
        let batch = batch?;
        batch.verify_crc()?;
        for record in batch.records(64 << 20)? {
            out.push(record?);
        }
    }
    Ok(out)
}

#[test]
fn hand_built_batch_decodes_every_field() {
    let buf = Bytes::from(hand_built_batch());
    let mut it = BatchIter::new(buf.clone());
    let batch = it.next().unwrap().unwrap();
    assert!(it.next().is_none());
    assert!(!it.truncated());
    let h = batch.header;
    assert_eq!(
        h,
        BatchHeader {
            base_offset: 100,
            batch_length: 73,
            partition_leader_epoch: 7,
            magic: 2,
            crc: h.crc,
            attributes: 0x10,
            last_offset_delta: 1,
            base_timestamp: 1_000,
            max_timestamp: 1_005,
            producer_id: 42,
            producer_epoch: 3,
            base_sequence: 9,
            records_count: 2,
        }
    );
    batch.verify_crc().unwrap();
    assert_eq!(h.compression().unwrap(), Compression::None);
    assert!(h.is_transactional());
    assert!(!h.is_control());
    assert!(!h.timestamp_type_is_log_append());
    assert_eq!(h.last_offset(), 101);
    assert_eq!(h.next_offset(), 102);
    assert_eq!(batch.bytes().len(), buf.len());
    assert_eq!(batch.payload().len(), 24);

    let records: Vec<Record> = RecordIter::new(&h, batch.payload())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        records,
        vec![
            Record {
                offset: 100,
                timestamp: 1_000,
                key: Some(Bytes::from_static(b"k")),
                value: Some(Bytes::from_static(b"v1")),
                headers: vec![
                    Header {
                        key: Bytes::from_static(b"h"),
                        value: None
                    },
                    Header {
                        key: Bytes::from_static(b"h"),
                        value: Some(Bytes::from_static(b"x"))
                    },
                ],
            },
            Record {
                offset: 101,
                timestamp: 1_005,
                key: None,
                value: Some(Bytes::new()),
                headers: vec![],
            },
        ]
    );
    // Zero copy: the value points into the fetch buffer itself.
    let value = records[0].value.as_ref().unwrap();
    let range = buf.as_ptr_range();
    assert!(range.contains(&value.as_ptr()));
}

#[test]
fn log_append_time_uses_max_timestamp() {
    let mut b = hand_built_batch();
    b[22] |= 0x08;
    let batch = BatchIter::new(Bytes::from(b)).next().unwrap().unwrap();
    assert!(batch.header.timestamp_type_is_log_append());
    for r in batch.records(1 << 20).unwrap() {
        assert_eq!(r.unwrap().timestamp, 1_005);
    }
}

#[test]
fn crc_mismatch_is_detected() {
    let good = hand_built_batch();
    for at in [21, 40, 61, good.len() - 1] {
        let mut b = good.clone();
        b[at] ^= 0x01;
        let batch = BatchIter::new(Bytes::from(b)).next().unwrap().unwrap();
        assert!(matches!(
            batch.verify_crc(),
            Err(RecordError::CrcMismatch { expected, actual }) if expected != actual
        ));
    }
    // The CRC field itself.
    let mut b = good.clone();
    b[18] ^= 0x80;
    let batch = BatchIter::new(Bytes::from(b)).next().unwrap().unwrap();
    assert!(batch.verify_crc().is_err());
}

fn two_batches() -> (Vec<u8>, usize) {
    let mut w = BatchWriter::new(Compression::None, None);
    w.push(5, Some(b"a"), Some(b"first"), &[]);
    w.push(6, Some(b"b"), Some(b"second"), &[(b"h", Some(b"v"))]);
    let first = w.finish(0, -1, -1, -1, false).unwrap();
    w.push(7, None, Some(b"third"), &[]);
    let second = w.finish(2, -1, -1, -1, false).unwrap();
    let mut buf = first.to_vec();
    buf.extend_from_slice(&second);
    (buf, first.len())
}

#[test]
fn truncated_tail_is_tolerated_at_every_cut() {
    let (buf, first_len) = two_batches();
    let full = Bytes::from(buf);
    for cut in 0..=full.len() {
        let mut it = BatchIter::new(full.slice(..cut));
        let batches: Vec<RawBatch> = it.by_ref().map(|b| b.unwrap()).collect();
        let expected = if cut == full.len() {
            2
        } else if cut >= first_len {
            1
        } else {
            0
        };
        assert_eq!(batches.len(), expected, "cut at {cut}");
        assert_eq!(
            it.truncated(),
            cut != full.len() && cut != first_len && cut != 0
        );
        for b in &batches {
            b.verify_crc().unwrap();
        }
    }
    assert_eq!(decode_all(full).unwrap().len(), 3);
}

#[test]
fn bad_batch_length_is_an_error_and_stops() {
    let (buf, first_len) = two_batches();
    for bad_len in [-1i32, i32::MIN, 0, 4, 48] {
        let mut b = buf.clone();
        b[first_len + 8..first_len + 12].copy_from_slice(&bad_len.to_be_bytes());
        let mut it = BatchIter::new(Bytes::from(b));
        assert!(it.next().unwrap().is_ok());
        assert!(
            matches!(it.next(), Some(Err(RecordError::Corrupt(_)))),
            "length {bad_len}"
        );
        assert!(it.next().is_none());
    }
}

#[test]
fn legacy_message_sets_are_skipped_with_an_error() {
    // A magic-1 message: offset, size, crc, magic, attributes, timestamp, key -1, value "x".
    let mut legacy = Vec::new();
    legacy.extend_from_slice(&5i64.to_be_bytes());
    let body: Vec<u8> = [
        &[0, 0, 0, 0][..],      // crc (not checked by us)
        &[1, 0],                // magic 1, attributes
        &0i64.to_be_bytes(),    // timestamp
        &(-1i32).to_be_bytes(), // null key
        &1i32.to_be_bytes(),    // value length
        b"x",
    ]
    .concat();
    legacy.extend_from_slice(&(body.len() as i32).to_be_bytes());
    legacy.extend_from_slice(&body);
    let mut buf = legacy.clone();
    buf.extend_from_slice(&hand_built_batch());

    let mut it = BatchIter::new(Bytes::from(buf));
    assert!(matches!(
        it.next(),
        Some(Err(RecordError::UnsupportedMagic(1)))
    ));
    assert_eq!(it.next().unwrap().unwrap().header.base_offset, 100);
    assert!(it.next().is_none());

    // Cut inside the legacy message: a clean, truncated end.
    let mut it = BatchIter::new(Bytes::from(legacy[..legacy.len() - 1].to_vec()));
    assert!(it.next().is_none());
    assert!(it.truncated());
}

#[test]
fn corrupt_varints_in_records_are_errors() {
    let good = hand_built_batch();
    let batch = BatchIter::new(Bytes::from(good)).next().unwrap().unwrap();
    let payload = batch.payload().to_vec();
    let h = batch.header;
    let first_err = |records: Vec<u8>| {
        RecordIter::new(&h, Bytes::from(records))
            .find_map(Result::err)
            .expect("an error")
    };
    // Record length varint that never ends.
    assert!(matches!(first_err(vec![0xff; 8]), RecordError::Corrupt(_)));
    // Timestamp delta varlong running past the record's length.
    let mut p = payload.clone();
    p[2] = 0x80;
    p[3] = 0x80;
    p[4] = 0x80;
    assert!(matches!(first_err(p), RecordError::Corrupt(_)));
    // Negative record length.
    let mut p = payload.clone();
    p[0] = 0x01;
    assert!(matches!(first_err(p), RecordError::Corrupt(_)));
    // Key length larger than the record.
    let mut p = payload.clone();
    p[4] = 0x7e;
    assert!(matches!(first_err(p), RecordError::Corrupt(_)));
    // Key length -2.
    let mut p = payload.clone();
    p[4] = 0x03;
    assert!(matches!(first_err(p), RecordError::Corrupt(_)));
    // A huge header count: refused before any allocation.
    let mut p = payload.clone();
    p[9] = 0xfe; // needs 5 bytes; the record is then shorter than its fields
    assert!(first_err(p).to_string().contains("corrupt"));
    // Records section shorter than the count says.
    assert!(matches!(
        first_err(payload[..17].to_vec()),
        RecordError::Truncated
    ));
    // Bytes after the last record.
    let mut p = payload.clone();
    p.push(0);
    let results: Vec<_> = RecordIter::new(&h, Bytes::from(p)).collect();
    assert_eq!(results.len(), 3);
    assert!(results[2].is_err());
    // A negative count.
    let mut neg = h;
    neg.records_count = -1;
    assert!(RecordIter::new(&neg, batch.payload())
        .next()
        .unwrap()
        .is_err());
}

#[test]
fn control_records_decode() {
    assert_eq!(
        decode_control_record(&[0, 0, 0, 0]),
        Some(ControlType::Abort)
    );
    assert_eq!(
        decode_control_record(&[0, 0, 0, 1]),
        Some(ControlType::Commit)
    );
    assert_eq!(
        decode_control_record(&[0, 1, 0, 1, 9]),
        Some(ControlType::Commit)
    );
    assert_eq!(decode_control_record(&[0, 0, 0, 2]), None);
    assert_eq!(decode_control_record(&[0xff, 0xff, 0, 0]), None);
    assert_eq!(decode_control_record(&[0, 0, 0]), None);
}

#[test]
fn writer_header_fields_and_reuse() {
    let mut w = BatchWriter::new(Compression::Lz4, Some(1));
    assert!(matches!(
        w.finish(0, -1, -1, -1, false),
        Err(RecordError::EmptyBatch)
    ));
    w.push(50, Some(b"k"), None, &[]);
    w.push(40, Some(b"k"), None, &[]);
    w.push(70, Some(b"k"), None, &[]);
    assert_eq!(w.record_count(), 3);
    assert!(w.len_bytes() > BATCH_HEADER_LEN);
    let out = w.finish(1000, 77, 2, 30, true).unwrap();
    assert!(w.is_empty());
    assert_eq!(w.len_bytes(), BATCH_HEADER_LEN);
    let batch = BatchIter::new(out).next().unwrap().unwrap();
    batch.verify_crc().unwrap();
    let h = batch.header;
    assert_eq!(h.compression().unwrap(), Compression::Lz4);
    assert!(h.is_transactional());
    assert_eq!((h.base_timestamp, h.max_timestamp), (50, 70));
    assert_eq!(
        (h.producer_id, h.producer_epoch, h.base_sequence),
        (77, 2, 30)
    );
    assert_eq!((h.partition_leader_epoch, h.records_count), (-1, 3));
    assert_eq!(h.next_offset(), 1003);
    let ts: Vec<i64> = batch
        .records(1 << 20)
        .unwrap()
        .map(|r| r.unwrap().timestamp)
        .collect();
    assert_eq!(ts, [50, 40, 70]);
}

#[test]
fn decompressed_size_limit_is_enforced_per_batch() {
    let mut w = BatchWriter::new(Compression::Zstd, None);
    w.push(0, None, Some(&[0u8; 100_000]), &[]);
    let batch = BatchIter::new(w.finish(0, -1, -1, -1, false).unwrap())
        .next()
        .unwrap()
        .unwrap();
    assert!(matches!(batch.records(50_000), Err(RecordError::TooLarge)));
    assert_eq!(batch.records(200_000).unwrap().count(), 1);
}

/// Compatibility: batches ENCODED by a third party, the `kafka-protocol` crate (dev-dependency
/// with its compression features), decoded by us; one per codec. Its snappy writes xerial
/// framing like the Java client.
#[test]
fn decodes_batches_encoded_by_kafka_protocol_crate() {
    use bytes::BytesMut;
    use kafka_protocol::indexmap::IndexMap;
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records as kp;

    let mut kp_records = Vec::new();
    for i in 0..20i64 {
        let mut headers = IndexMap::new();
        if i % 3 == 0 {
            headers.insert(
                StrBytes::from_static_str("trace"),
                Some(Bytes::from(format!("t{i}"))),
            );
            headers.insert(StrBytes::from_static_str("null"), None);
        }
        kp_records.push(kp::Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: 900,
            producer_epoch: 1,
            timestamp_type: kp::TimestampType::Creation,
            offset: 500 + i,
            sequence: 10 + i as i32,
            timestamp: 1_700_000_000_000 + i * 7,
            key: (i % 4 != 1).then(|| Bytes::from(format!("key-{i}"))),
            value: (i % 5 != 2).then(|| Bytes::from(format!("value-{i}-").repeat(i as usize))),
            headers,
        });
    }
    for (codec, kp_codec) in [
        (Compression::None, kp::Compression::None),
        (Compression::Gzip, kp::Compression::Gzip),
        (Compression::Snappy, kp::Compression::Snappy),
        (Compression::Lz4, kp::Compression::Lz4),
        (Compression::Zstd, kp::Compression::Zstd),
    ] {
        let mut buf = BytesMut::new();
        kp::RecordBatchEncoder::encode(
            &mut buf,
            &kp_records,
            &kp::RecordEncodeOptions {
                version: 2,
                compression: kp_codec,
            },
        )
        .unwrap();
        let mut batches = BatchIter::new(buf.freeze());
        let batch = batches.next().unwrap().unwrap();
        assert!(batches.next().is_none());
        batch.verify_crc().unwrap();
        let h = batch.header;
        assert_eq!(h.compression().unwrap(), codec);
        assert_eq!(
            (h.base_offset, h.records_count, h.next_offset()),
            (500, 20, 520)
        );
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (900, 1, 10)
        );
        let ours: Vec<Record> = batch
            .records(1 << 20)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(ours.len(), kp_records.len());
        for (a, b) in ours.iter().zip(&kp_records) {
            assert_eq!(
                (a.offset, a.timestamp),
                (b.offset, b.timestamp),
                "{codec:?}"
            );
            assert_eq!((&a.key, &a.value), (&b.key, &b.value));
            let theirs: Vec<(&[u8], Option<&[u8]>)> = b
                .headers
                .iter()
                .map(|(k, v)| (k.as_bytes(), v.as_deref()))
                .collect();
            let mine: Vec<(&[u8], Option<&[u8]>)> = a
                .headers
                .iter()
                .map(|h| (&h.key[..], h.value.as_deref()))
                .collect();
            assert_eq!(mine, theirs);
        }
    }
}

/// The other direction: the third-party decoder reads what our writer produced.
#[test]
fn kafka_protocol_crate_decodes_our_batches() {
    use kafka_protocol::records as kp;
    for codec in CODECS {
        let mut w = BatchWriter::new(codec, None);
        for i in 0..10u8 {
            w.push(
                1000 + i64::from(i),
                Some(&[i]),
                Some(&[i; 300]),
                &[(b"h", Some(b"v"))],
            );
        }
        let mut bytes = w.finish(77, -1, -1, -1, false).unwrap();
        let sets = kp::RecordBatchDecoder::decode_all(&mut bytes).unwrap();
        let recs = &sets[0].records;
        assert_eq!(recs.len(), 10, "{codec:?}");
        assert_eq!(recs[9].offset, 86);
        assert_eq!(recs[9].timestamp, 1009);
        assert_eq!(recs[3].value.as_deref(), Some(&[3u8; 300][..]));
    }
}

#[derive(Clone, Debug)]
struct TestRecord {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => proptest::collection::vec(any::<u8>(), 0..max),
        // Compressible runs, so codecs see long matches too.
        1 => (any::<u8>(), 0..max).prop_map(|(b, n)| vec![b; n]),
    ]
}

fn arb_record() -> impl Strategy<Value = TestRecord> {
    let header_key = prop_oneof![
        Just(b"dup".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8)
    ];
    (
        any::<i64>(),
        proptest::option::of(arb_bytes(4096)),
        proptest::option::of(arb_bytes(4096)),
        proptest::collection::vec((header_key, proptest::option::of(arb_bytes(64))), 0..5),
    )
        .prop_map(|(timestamp, key, value, headers)| TestRecord {
            timestamp,
            key,
            value,
            headers,
        })
}

fn arb_codec() -> impl Strategy<Value = Compression> {
    proptest::sample::select(CODECS.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_through_writer_and_iterators(
        records in proptest::collection::vec(arb_record(), 1..40),
        codec in arb_codec(),
        base_offset in 0i64..i64::MAX / 2,
    ) {
        let mut w = BatchWriter::new(codec, None);
        for r in &records {
            let headers: Vec<(&[u8], Option<&[u8]>)> =
                r.headers.iter().map(|(k, v)| (&k[..], v.as_deref())).collect();
            w.push(r.timestamp, r.key.as_deref(), r.value.as_deref(), &headers);
        }
        let out = w.finish(base_offset, -1, -1, -1, false).unwrap();
        let decoded = decode_all(out).unwrap();
        prop_assert_eq!(decoded.len(), records.len());
        for (i, (d, r)) in decoded.iter().zip(&records).enumerate() {
            prop_assert_eq!(d.offset, base_offset + i as i64);
            prop_assert_eq!(d.timestamp, r.timestamp);
            prop_assert_eq!(d.key.as_deref(), r.key.as_deref());
            prop_assert_eq!(d.value.as_deref(), r.value.as_deref());
            let hs: Vec<(&[u8], Option<&[u8]>)> =
                d.headers.iter().map(|h| (&h.key[..], h.value.as_deref())).collect();
            let expected: Vec<(&[u8], Option<&[u8]>)> =
                r.headers.iter().map(|(k, v)| (&k[..], v.as_deref())).collect();
            prop_assert_eq!(hs, expected);
        }
    }

    #[test]
    fn random_bytes_never_panic(
        mut data in proptest::collection::vec(any::<u8>(), 0..512),
        shape in any::<bool>(),
    ) {
        // Half the time, make the bytes look like one v2 batch with random contents so that the
        // record decoder and the decompressors see garbage too, not only the length check.
        if shape && data.len() >= BATCH_HEADER_LEN {
            let len = (data.len() - 12) as i32;
            data[8..12].copy_from_slice(&len.to_be_bytes());
            data[16] = 2;
            let count = i32::from(data[60] % 8);
            data[57..61].copy_from_slice(&count.to_be_bytes());
        }
        let buf = Bytes::from(data);
        for batch in BatchIter::new(buf.clone()).take(16).flatten() {
            let _ = batch.verify_crc();
            if let Ok(records) = batch.records(1 << 16) {
                for r in records.take(1000) {
                    let _ = r;
                }
            }
        }
        // The same bytes as a records section under a plausible header.
        let mut header = BatchHeader::decode(&[0u8; BATCH_HEADER_LEN]).unwrap();
        header.records_count = 1000;
        for r in RecordIter::new(&header, buf) {
            let _ = r;
        }
    }

    #[test]
    fn mutated_batches_never_panic(
        records in proptest::collection::vec(arb_record(), 1..5),
        codec in arb_codec(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut w = BatchWriter::new(codec, None);
        for r in &records {
            w.push(r.timestamp, r.key.as_deref(), r.value.as_deref(), &[]);
        }
        let mut out = w.finish(0, -1, -1, -1, false).unwrap().to_vec();
        for (at, x) in flips {
            let i = at.index(out.len());
            out[i] ^= x;
        }
        // Skip the CRC check on purpose: the decoders must cope with anything.
        for batch in BatchIter::new(Bytes::from(out)).flatten() {
            if let Ok(it) = batch.records(1 << 20) {
                for r in it {
                    let _ = r;
                }
            }
        }
    }
}
