//! One partition of a Fetch response: errors and offset resets, aborted transactions
//! (read_committed), batches cut by header and handed to the application or the decompression pool.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{apply_reset, FetchSinks, PartitionCursor};
use crate::engine::channel::{push_error, BatchData, ConsumerEvent, Delivery, FetchedBatch};
use crate::engine::settings::FetchSettings;
use crate::error::ErrorCode;
use crate::protocol::compression::Compression;
use crate::protocol::records::{decode_control_record, BatchIter, ControlType, RecordIter};

/// Largest decompressed batch accepted: a guard against decompression bombs.
const MAX_DECOMPRESSED: usize = 1 << 30;

/// Handles one partition of a Fetch response; returns true when metadata should be refreshed.
pub(super) fn handle_partition(
    c: &mut PartitionCursor,
    pd: kafka_protocol::messages::fetch_response::PartitionData,
    s: &FetchSettings,
    sinks: &mut FetchSinks<'_>,
    now: Instant,
) -> bool {
    let err = ErrorCode::from(pd.error_code);
    match err {
        ErrorCode::NONE => {}
        ErrorCode::OFFSET_OUT_OF_RANGE => {
            let why = format!(
                "offset {} out of range (log start {}, high watermark {})",
                c.fetch_offset, pd.log_start_offset, pd.high_watermark
            );
            apply_reset(c, s.auto_offset_reset, &why, sinks.out);
            return false;
        }
        ErrorCode::NOT_LEADER_FOR_PARTITION
        | ErrorCode::FENCED_LEADER_EPOCH
        | ErrorCode::UNKNOWN_LEADER_EPOCH
        | ErrorCode::LEADER_NOT_AVAILABLE
        | ErrorCode::UNKNOWN_TOPIC_OR_PART
        | ErrorCode::KAFKA_STORAGE_ERROR
        | ErrorCode::REPLICA_NOT_AVAILABLE
        | ErrorCode::OFFSET_NOT_AVAILABLE => {
            c.backoff_until = Some(now + s.retry_backoff);
            return true;
        }
        other => {
            c.backoff_until = Some(now + s.fetch_error_backoff);
            let msg = format!(
                "Fetch from {} [{}] at offset {} failed: {other}",
                c.topic, c.partition, c.fetch_offset
            );
            push_error(sinks.out, other, msg);
            return false;
        }
    }
    c.high_watermark = pd.high_watermark;
    c.last_stable_offset = pd.last_stable_offset;
    c.log_start_offset = pd.log_start_offset;
    c.shared
        .low_watermark
        .store(pd.log_start_offset, Ordering::Release);
    c.shared
        .high_watermark
        .store(pd.high_watermark, Ordering::Release);
    let mut aborted: Vec<(i64, i64)> = pd
        .aborted_transactions
        .unwrap_or_default()
        .iter()
        .map(|a| (a.first_offset, a.producer_id.0))
        .collect();
    aborted.sort_unstable();
    let mut aborted = aborted.into_iter().peekable();
    let mut aborting: HashSet<i64> = HashSet::new();
    let version = c.shared.version();
    for batch in BatchIter::new(pd.records.unwrap_or_default()) {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                let msg = format!(
                    "{} [{}]: corrupt record batch at offset {}: {e}",
                    c.topic, c.partition, c.fetch_offset
                );
                push_error(sinks.out, ErrorCode::L_BAD_MSG, msg);
                c.backoff_until = Some(now + s.fetch_error_backoff);
                break;
            }
        };
        let h = batch.header;
        if h.next_offset() <= c.fetch_offset {
            continue;
        }
        if s.check_crcs {
            if let Err(e) = batch.verify_crc() {
                let msg = format!(
                    "{} [{}]: batch at offset {} failed its CRC check: {e}",
                    c.topic, c.partition, h.base_offset
                );
                push_error(sinks.out, ErrorCode::L_BAD_MSG, msg);
                c.fetch_offset = h.next_offset();
                continue;
            }
        }
        if s.read_committed {
            while let Some(&(first, pid)) = aborted.peek() {
                if first > h.last_offset() {
                    break;
                }
                aborting.insert(pid);
                aborted.next();
            }
            if h.is_control() {
                if aborting.contains(&h.producer_id)
                    && control_type(&batch) == Some(ControlType::Abort)
                {
                    aborting.remove(&h.producer_id);
                }
                c.fetch_offset = h.next_offset();
                continue;
            }
            if h.is_transactional() && aborting.contains(&h.producer_id) {
                c.fetch_offset = h.next_offset();
                continue;
            }
        } else if h.is_control() {
            c.fetch_offset = h.next_offset();
            continue;
        }
        let codec = match h.compression() {
            Ok(codec) => codec,
            Err(e) => {
                let msg = format!(
                    "{} [{}]: batch at offset {}: {e}",
                    c.topic, c.partition, h.base_offset
                );
                push_error(sinks.out, ErrorCode::L_BAD_COMPRESSION, msg);
                c.fetch_offset = h.next_offset();
                continue;
            }
        };
        let data = match codec {
            Compression::None => BatchData::Ready(batch.payload()),
            codec => {
                BatchData::Pending(sinks.pool.submit(codec, batch.payload(), MAX_DECOMPRESSED))
            }
        };
        let bytes = batch.bytes().len() as i64;
        c.shared
            .queued_msgs
            .fetch_add(h.records_count as i64, Ordering::Relaxed);
        c.shared.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        c.rx_msgs += h.records_count as u64;
        c.rx_bytes += bytes as u64;
        sinks
            .shared
            .queued_bytes
            .fetch_add(bytes, Ordering::Relaxed);
        sinks.out.push_back(Delivery::Batch(FetchedBatch {
            topic: c.topic.clone(),
            partition: c.partition,
            shared: c.shared.clone(),
            version,
            header: h,
            data,
            skip_before: c.fetch_offset,
            accounted_bytes: bytes,
        }));
        c.fetch_offset = h.next_offset();
    }
    let end = if s.read_committed && c.last_stable_offset >= 0 {
        c.last_stable_offset
    } else {
        c.high_watermark
    };
    if s.enable_partition_eof
        && end >= 0
        && c.fetch_offset >= end
        && c.eof_reported_at != c.fetch_offset
    {
        c.eof_reported_at = c.fetch_offset;
        sinks
            .out
            .push_back(Delivery::Event(ConsumerEvent::PartitionEof {
                topic: c.topic.to_string(),
                partition: c.partition,
                offset: c.fetch_offset,
            }));
    }
    false
}

/// The type of a control batch, read from its single record's key.
fn control_type(batch: &crate::protocol::records::RawBatch) -> Option<ControlType> {
    let codec = batch.header.compression().ok()?;
    if codec != Compression::None {
        return None;
    }
    let rec = RecordIter::new(&batch.header, batch.payload())
        .next()?
        .ok()?;
    decode_control_record(rec.key.as_deref()?)
}
