//! The embedded "consumer" protocol: JoinGroup member metadata (`ConsumerProtocolSubscription`)
//! and SyncGroup member state (`ConsumerProtocolAssignment`), KIP-429 / KIP-341 / KIP-881.
//!
//! On the wire each is an i16 version followed by the struct at that version (classic,
//! non-flexible encoding):
//! ```text
//! Subscription => Version Topics UserData [OwnedPartitions (v1+)] [GenerationId (v2+)] [RackId (v3+)]
//! Assignment   => Version AssignedPartitions UserData
//! ```
//! We encode by hand instead of through `kafka-protocol`'s structs because its decoder
//! pre-allocates arrays from the untrusted length prefix (a corrupt length could abort the
//! process); the tests check both directions against `kafka-protocol`.

use bytes::{BufMut, Bytes, BytesMut};

use super::{MemberSubscription, TopicPartitions};

/// Highest subscription version we write and fully understand.
const SUBSCRIPTION_MAX_VERSION: i16 = 3;
/// The assignment version librdkafka writes; v0..v3 are identical on the wire.
const ASSIGNMENT_VERSION: i16 = 0;

/// Encode our JoinGroup protocol metadata.
///
/// Topics are written sorted and without repeats. `owned` is written from v1, `generation` from
/// v2 and `rack` from v3; `version` is clamped to 0..=3. UserData is written as empty bytes
/// rather than null, as librdkafka does, because very old brokers/clients cannot parse null.
pub(crate) fn encode_subscription(
    topics: &[String],
    owned: &TopicPartitions,
    generation: i32,
    rack: Option<&str>,
    version: i16,
) -> Bytes {
    let version = version.clamp(0, SUBSCRIPTION_MAX_VERSION);
    let mut sorted: Vec<&str> = topics.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut buf = BytesMut::with_capacity(64 + sorted.iter().map(|t| t.len() + 2).sum::<usize>());
    buf.put_i16(version);
    put_len(&mut buf, sorted.len());
    for t in sorted {
        put_string(&mut buf, Some(t));
    }
    buf.put_i32(0); // UserData: empty
    if version >= 1 {
        put_topic_partitions(&mut buf, owned);
    }
    if version >= 2 {
        buf.put_i32(generation);
    }
    if version >= 3 {
        put_string(&mut buf, rack);
    }
    buf.freeze()
}

/// Decode one member's JoinGroup protocol metadata (as the leader).
///
/// Versions above 3 are read as v3 and trailing bytes ignored (forward compatibility, as the
/// Java client and librdkafka do). Owned partitions are normalised (sorted, repeats merged).
pub(crate) fn decode_subscription(
    member_id: &str,
    instance_id: Option<&str>,
    metadata: &[u8],
) -> Result<MemberSubscription, String> {
    let mut r = Reader::new(metadata);
    let version = r.i16()?;
    if version < 0 {
        return Err(format!("invalid consumer subscription version {version}"));
    }
    let n = r.array_len("topics")?;
    let mut topics = Vec::new();
    for _ in 0..n {
        topics.push(r.string("topic")?);
    }
    let user_data = r.nullable_bytes()?;
    let owned = if version >= 1 {
        r.topic_partitions()?
    } else {
        TopicPartitions::new()
    };
    let generation = if version >= 2 { r.i32()? } else { -1 };
    let rack_id = if version >= 3 {
        r.nullable_string()?
    } else {
        None
    };
    Ok(MemberSubscription {
        member_id: member_id.to_string(),
        group_instance_id: instance_id.map(str::to_string),
        topics,
        owned,
        generation,
        rack_id,
        user_data,
    })
}

/// Encode a member's assignment for SyncGroup (version 0, empty UserData).
pub(crate) fn encode_assignment(assigned: &TopicPartitions) -> Bytes {
    let mut buf = BytesMut::with_capacity(16 + assigned.len() * 32);
    buf.put_i16(ASSIGNMENT_VERSION);
    put_topic_partitions(&mut buf, assigned);
    buf.put_i32(0); // UserData: empty
    buf.freeze()
}

/// Decode the assignment from a SyncGroup response. Empty input means an empty assignment (the
/// leader sends nothing for a member that gets no partitions). UserData is not returned: none
/// of the built-in assignors uses it.
pub(crate) fn decode_assignment(bytes: &[u8]) -> Result<TopicPartitions, String> {
    if bytes.is_empty() {
        return Ok(TopicPartitions::new());
    }
    let mut r = Reader::new(bytes);
    let version = r.i16()?;
    if version < 0 {
        return Err(format!("invalid consumer assignment version {version}"));
    }
    let assigned = r.topic_partitions()?;
    r.nullable_bytes()?;
    Ok(assigned)
}

fn put_len(buf: &mut BytesMut, len: usize) {
    buf.put_i32(i32::try_from(len).unwrap_or(i32::MAX));
}

/// Kafka STRING / NULLABLE_STRING. Longer than i16::MAX bytes cannot be represented; such a value
/// (never a valid topic or rack) is cut at a char boundary rather than written corrupt.
fn put_string(buf: &mut BytesMut, s: Option<&str>) {
    match s {
        None => buf.put_i16(-1),
        Some(s) => {
            let mut end = s.len().min(i16::MAX as usize);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            buf.put_i16(end as i16);
            buf.put_slice(&s.as_bytes()[..end]);
        }
    }
}

fn put_topic_partitions(buf: &mut BytesMut, tps: &TopicPartitions) {
    put_len(buf, tps.len());
    for (topic, partitions) in tps {
        put_string(buf, Some(topic));
        put_len(buf, partitions.len());
        for &p in partitions {
            buf.put_i32(p);
        }
    }
}

/// A bounds-checked reader: every read checks what remains, so a corrupt length fails at the
/// first missing byte instead of allocating.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() < n {
            return Err(format!(
                "truncated consumer protocol data: need {n} bytes, have {}",
                self.buf.len()
            ));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn i16(&mut self) -> Result<i16, String> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, String> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A non-null array length.
    fn array_len(&mut self, what: &str) -> Result<usize, String> {
        let n = self.i32()?;
        usize::try_from(n).map_err(|_| format!("invalid {what} array length {n}"))
    }

    fn nullable_string(&mut self) -> Result<Option<String>, String> {
        let n = self.i16()?;
        if n == -1 {
            return Ok(None);
        }
        let n = usize::try_from(n).map_err(|_| format!("invalid string length {n}"))?;
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(|s| Some(s.to_string()))
            .map_err(|_| "string is not UTF-8".to_string())
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        self.nullable_string()?
            .ok_or_else(|| format!("null {what} name"))
    }

    fn nullable_bytes(&mut self) -> Result<Option<Bytes>, String> {
        let n = self.i32()?;
        if n == -1 {
            return Ok(None);
        }
        let n = usize::try_from(n).map_err(|_| format!("invalid bytes length {n}"))?;
        Ok(Some(Bytes::copy_from_slice(self.take(n)?)))
    }

    /// `[Topic [Partition]]`, normalised into sorted, repeat-free lists.
    fn topic_partitions(&mut self) -> Result<TopicPartitions, String> {
        let topics = self.array_len("topic")?;
        let mut out = TopicPartitions::new();
        for _ in 0..topics {
            let topic = self.string("topic")?;
            let n = self.array_len("partition")?;
            let mut partitions = Vec::new();
            for _ in 0..n {
                partitions.push(self.i32()?);
            }
            out.entry(topic).or_default().extend(partitions);
        }
        for ps in out.values_mut() {
            ps.sort_unstable();
            ps.dedup();
        }
        Ok(out)
    }
}
