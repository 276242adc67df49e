//! read_committed against transactional batches as the producer writes them: an aborted
//! transaction's batches and every control batch are skipped, a committed one is delivered;
//! read_uncommitted delivers both transactions' data and skips only the markers.

use kafka_protocol::messages::fetch_response::AbortedTransaction;
use kafka_protocol::messages::{ApiKey, ProducerId};

use super::harness::Harness;
use super::*;

/// A transactional batch of `n` records at `base` from producer `pid` (as the producer seals it).
fn txn_batch(base: i64, n: usize, pid: i64) -> Bytes {
    let mut w = BatchWriter::new(Compression::None, None);
    for i in 0..n {
        w.push(
            1,
            None,
            Some(format!("v{}", base + i as i64).as_bytes()),
            &[],
        );
    }
    w.finish(base, pid, 0, 0, true).unwrap()
}

/// A control batch (transaction marker) at `offset` for `pid`: commit or abort.
fn marker(offset: i64, pid: i64, commit: bool) -> Bytes {
    let mut w = BatchWriter::new(Compression::None, None);
    let key = [0u8, 0, 0, u8::from(commit)];
    w.push(1, Some(&key), Some(&[0, 0, 0, 0, 0, 0]), &[]);
    let b = w.finish(offset, pid, 0, -1, true).unwrap();
    let mut b = bytes::BytesMut::from(&b[..]);
    b[22] |= 0x20; // the control bit of the attributes
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b.freeze()
}

/// Delivered batches as (base offset, producer id) for a fetch of the log below at `isolation`.
fn delivered(isolation: &str) -> Vec<(i64, i64)> {
    let mut h = Harness::new(&[("isolation.level", isolation)]);
    let md = h.expect(ApiKey::Metadata);
    h.respond(&md, &metadata(&[1], &[("t", &[1])]));
    h.assign(Some(&[tp_at("t", 0, 0)]), None);
    let f = h.expect(ApiKey::Fetch);
    // pid 10 commits offsets 0-1 (marker at 5); pid 11 aborts 2-3 (marker at 4).
    let mut log = bytes::BytesMut::new();
    log.extend_from_slice(&txn_batch(0, 2, 10));
    log.extend_from_slice(&txn_batch(2, 2, 11));
    log.extend_from_slice(&marker(4, 11, false));
    log.extend_from_slice(&marker(5, 10, true));
    let (t, pd) = fetched("t", 0, 0, 6, Some(log.freeze()));
    let pd = pd.with_aborted_transactions(Some(vec![AbortedTransaction::default()
        .with_producer_id(ProducerId(11))
        .with_first_offset(2)]));
    h.respond(&f, &fetch_response(vec![(t, pd)]));
    h.batches
        .iter()
        .map(|b| (b.header.base_offset, b.header.producer_id))
        .collect()
}

#[test]
fn read_committed_skips_aborted_transactions_and_markers() {
    assert_eq!(delivered("read_committed"), [(0, 10)]);
    assert_eq!(delivered("read_uncommitted"), [(0, 10), (2, 11)]);
}
