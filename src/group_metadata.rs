//! A consumer's group membership as a transactional producer needs it
//! (`send_offsets_to_transaction`), and its serialized form for bindings that pass it between
//! objects (librdkafka's `rd_kafka_consumer_group_metadata_write`/`_read`).
//!
//! Serialized form (ours; like librdkafka's it is private to one build and process):
//! the 8 bytes `RSKCGM01`, the generation id as a big-endian i32, then the group id, member id
//! and group instance id, each as a big-endian i32 length (-1 for none) and that many UTF-8
//! bytes. Nothing may follow.

use crate::error::{ErrorCode, KafkaError, Result};

/// Group id, generation, member id and group instance id of a consumer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerGroupMetadata {
    /// The group id.
    pub group_id: String,
    /// The generation the member joined (-1 before joining).
    pub generation_id: i32,
    /// The member id the coordinator gave ("" before joining).
    pub member_id: String,
    /// The static membership id (`group.instance.id`), if any.
    pub group_instance_id: Option<String>,
}

const MAGIC: &[u8; 8] = b"RSKCGM01";

impl ConsumerGroupMetadata {
    /// Metadata for a group alone: generation -1, no member id (librdkafka's `_new`).
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }

    /// The serialized form (see the module documentation).
    pub fn write(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.group_id.len() + self.member_id.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.generation_id.to_be_bytes());
        for s in [
            Some(self.group_id.as_str()),
            Some(self.member_id.as_str()),
            self.group_instance_id.as_deref(),
        ] {
            match s {
                Some(s) => {
                    out.extend_from_slice(&(s.len() as i32).to_be_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        out
    }

    /// Parses what [`write`](Self::write) produced; `_BAD_MSG` for anything else.
    pub fn read(buf: &[u8]) -> Result<Self> {
        let bad = |why: &str| {
            KafkaError::new(
                ErrorCode::L_BAD_MSG,
                format!("Invalid serialized consumer group metadata: {why}"),
            )
        };
        let rest = buf
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(|| bad("unknown format"))?;
        let mut r = Reader { buf: rest };
        let generation_id = r.i32().ok_or_else(|| bad("too short"))?;
        let mut strings = [None, None, None];
        for s in &mut strings {
            *s = r.string().map_err(bad)?;
        }
        if !r.buf.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let [group_id, member_id, group_instance_id] = strings;
        Ok(ConsumerGroupMetadata {
            group_id: group_id.ok_or_else(|| bad("no group id"))?,
            generation_id,
            member_id: member_id.ok_or_else(|| bad("no member id"))?,
            group_instance_id,
        })
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl Reader<'_> {
    fn i32(&mut self) -> Option<i32> {
        let (head, rest) = self.buf.split_first_chunk::<4>()?;
        self.buf = rest;
        Some(i32::from_be_bytes(*head))
    }

    fn string(&mut self) -> std::result::Result<Option<String>, &'static str> {
        let len = self.i32().ok_or("too short")?;
        if len < 0 {
            return Ok(None);
        }
        let len = len as usize;
        if self.buf.len() < len {
            return Err("too short");
        }
        let (s, rest) = self.buf.split_at(len);
        self.buf = rest;
        String::from_utf8(s.to_vec())
            .map(Some)
            .map_err(|_| "not UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let full = ConsumerGroupMetadata {
            group_id: "g".into(),
            generation_id: 7,
            member_id: "m-1".into(),
            group_instance_id: Some("i".into()),
        };
        for m in [full, ConsumerGroupMetadata::new("only-group")] {
            assert_eq!(ConsumerGroupMetadata::read(&m.write()).unwrap(), m);
        }
    }

    #[test]
    fn refuses_other_bytes() {
        let w = ConsumerGroupMetadata::new("g").write();
        for bad in [
            &b""[..],
            &w[..w.len() - 1],
            b"RSKCGM02\0\0\0\0",
            &[w.as_slice(), b"x"].concat(),
        ] {
            let e = ConsumerGroupMetadata::read(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::L_BAD_MSG);
        }
    }
}
