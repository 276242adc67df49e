//! Arbitrary bytes as the `records` field of a Fetch response: batch framing, CRC, every
//! decompressor (bounded) and the record decoder must return errors, never panic, hang or
//! allocate without bound. Run with `cargo +nightly fuzz run batch_decode`.
#![no_main]

use bytes::Bytes;
use kafka::protocol::records::{decode_control_record, BatchIter, RecordIter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let buf = Bytes::copy_from_slice(data);
    let mut batches = BatchIter::new(buf.clone());
    for batch in batches.by_ref() {
        let Ok(batch) = batch else { continue };
        // Decode regardless of the CRC so the fuzzer can reach the record decoder.
        let _ = batch.verify_crc();
        let _ = batch.header.next_offset();
        let Ok(records) = batch.records(1 << 20) else { continue };
        for record in records {
            let Ok(record) = record else { break };
            if batch.header.is_control() {
                if let Some(key) = &record.key {
                    let _ = decode_control_record(key);
                }
            }
        }
    }
    let _ = batches.truncated();

    // The same bytes as an uncompressed records section under a header taken from the input.
    if data.len() >= 61 {
        if let Ok(header) = kafka::protocol::records::BatchHeader::decode(data) {
            for record in RecordIter::new(&header, buf.slice(61..)) {
                if record.is_err() {
                    break;
                }
            }
        }
    }
});
