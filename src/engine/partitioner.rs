//! The producer's built-in partitioners, with librdkafka 2.12.1's placement bit for bit.
//!
//! librdkafka (topic property `partitioner`, default `consistent_random`) places a record that
//! has no explicit partition in two steps (`rd_kafka_msg_partitioner`):
//!
//! 1. **Sticky rule.** If `sticky.partitioning.linger.ms > 0`, the partitioner is one of the
//!    "random-style" ones (`random`, `consistent_random`, `murmur2_random`, `fnv1a_random`), and
//!    the key is NULL — or, for `consistent_random` only, the key is NULL *or empty* — the record
//!    goes to the topic's current sticky partition ([`StickyPartition`]). `consistent`, `murmur2`
//!    and `fnv1a` never use the sticky rule; with a linger of 0 nothing does.
//! 2. Otherwise the partitioner function itself ([`Partitioner::partition`]):
//!
//! | partitioner | NULL key | empty key | other keys |
//! | --- | --- | --- | --- |
//! | `random` | random | random | random |
//! | `consistent` | `crc32("") % n` = 0 | `crc32("") % n` = 0 | `crc32(key) % n` |
//! | `consistent_random` | random | random | `crc32(key) % n` |
//! | `murmur2` | `(murmur2("") & 0x7fffffff) % n` | same as NULL | `(murmur2(key) & 0x7fffffff) % n` |
//! | `murmur2_random` | random | `(murmur2("") & 0x7fffffff) % n` | `(murmur2(key) & 0x7fffffff) % n` |
//! | `fnv1a` | `fnv1a("") % n` | same as NULL | `fnv1a(key) % n` |
//! | `fnv1a_random` | random | `fnv1a("") % n` | `fnv1a(key) % n` |
//!
//! "random" is `rand() % n` (librdkafka's `rd_jitter(0, n - 1)`). All modulos are unsigned
//! (the hashes are `uint32_t`). `fnv1a` already returns a non-negative value (it takes the
//! absolute value of the signed hash, like Sarama); `murmur2` clears the sign bit like Java's
//! `Utils.toPositive`, so `murmur2_random` places keyed records exactly like the Java client's
//! default partitioner.
//!
//! Availability: librdkafka's `random` draws a second time if the first pick has no leader,
//! and re-picks the sticky partition as soon as it has none; the hash partitioners ignore
//! availability. This module assumes every partition is available: the engine calls
//! [`StickyPartition::invalidate`] when the sticky partition loses its leader.
//!
//! Everything here is allocation-free and lock-free: the engine calls it for every record.

use std::time::{Duration, Instant};

/// librdkafka's `RD_KAFKA_PARTITION_UA`: no partition yet (the topic has no partitions known).
pub const PARTITION_UA: i32 = -1;

/// One of librdkafka's built-in partitioners (topic property `partitioner`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Partitioner {
    /// `random`: every record to a random partition (NULL keys: sticky).
    Random,
    /// `consistent`: CRC32 of the key; NULL and empty keys both go to partition 0.
    Consistent,
    /// `consistent_random` (librdkafka's default): CRC32 of the key; NULL and empty keys random.
    #[default]
    ConsistentRandom,
    /// `murmur2`: Java-compatible murmur2 of the key; NULL hashes like the empty key.
    Murmur2,
    /// `murmur2_random`: Java-compatible murmur2 of the key; NULL keys random (the Java
    /// client's default partitioner).
    Murmur2Random,
    /// `fnv1a`: FNV-1a of the key (Sarama-compatible); NULL hashes like the empty key.
    Fnv1a,
    /// `fnv1a_random`: FNV-1a of the key; NULL keys random.
    Fnv1aRandom,
}

impl Partitioner {
    /// Every partitioner, in librdkafka's documentation order.
    pub const ALL: [Partitioner; 7] = [
        Partitioner::Random,
        Partitioner::Consistent,
        Partitioner::ConsistentRandom,
        Partitioner::Murmur2,
        Partitioner::Murmur2Random,
        Partitioner::Fnv1a,
        Partitioner::Fnv1aRandom,
    ];

    /// Parses a value of librdkafka's `partitioner` property (exact, case-sensitive match, as
    /// librdkafka's validator does).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "random" => Partitioner::Random,
            "consistent" => Partitioner::Consistent,
            "consistent_random" => Partitioner::ConsistentRandom,
            "murmur2" => Partitioner::Murmur2,
            "murmur2_random" => Partitioner::Murmur2Random,
            "fnv1a" => Partitioner::Fnv1a,
            "fnv1a_random" => Partitioner::Fnv1aRandom,
            _ => return None,
        })
    }

    /// The `partitioner` property value of this partitioner.
    pub fn name(self) -> &'static str {
        match self {
            Partitioner::Random => "random",
            Partitioner::Consistent => "consistent",
            Partitioner::ConsistentRandom => "consistent_random",
            Partitioner::Murmur2 => "murmur2",
            Partitioner::Murmur2Random => "murmur2_random",
            Partitioner::Fnv1a => "fnv1a",
            Partitioner::Fnv1aRandom => "fnv1a_random",
        }
    }

    /// The partitioner function itself (librdkafka's `rd_kafka_msg_partitioner_<name>`), all
    /// partitions assumed available: the partition for `key` (`None` = NULL key) among
    /// `partition_count` partitions. Random choices draw once from `rng` (`rng() % count`).
    ///
    /// This does not apply the sticky rule; [`Partitioner::place`] does both steps.
    /// Returns [`PARTITION_UA`] if `partition_count <= 0`.
    #[inline]
    pub fn partition(
        self,
        key: Option<&[u8]>,
        partition_count: i32,
        rng: &mut impl FnMut() -> u32,
    ) -> i32 {
        if partition_count <= 0 {
            return PARTITION_UA;
        }
        let n = partition_count as u32;
        let hash = match (self, key) {
            (Partitioner::Random, _)
            | (Partitioner::ConsistentRandom, None)
            | (Partitioner::Murmur2Random | Partitioner::Fnv1aRandom, None) => rng(),
            (Partitioner::ConsistentRandom, Some([])) => rng(),
            (Partitioner::Consistent | Partitioner::ConsistentRandom, k) => {
                crc32(k.unwrap_or_default())
            }
            (Partitioner::Murmur2 | Partitioner::Murmur2Random, k) => {
                murmur2(k.unwrap_or_default()) & 0x7fff_ffff
            }
            (Partitioner::Fnv1a | Partitioner::Fnv1aRandom, k) => fnv1a(k.unwrap_or_default()),
        };
        (hash % n) as i32
    }

    /// Whether librdkafka places this record by the sticky rule rather than by
    /// [`Partitioner::partition`]: `sticky_linger > 0`, a random-style partitioner, and a NULL
    /// key (or, with `consistent_random`, a NULL or empty key).
    #[inline]
    pub fn uses_sticky(self, key: Option<&[u8]>, sticky_linger: Duration) -> bool {
        if sticky_linger.is_zero() {
            return false;
        }
        match self {
            Partitioner::Consistent | Partitioner::Murmur2 | Partitioner::Fnv1a => false,
            Partitioner::ConsistentRandom => key.is_none_or(<[u8]>::is_empty),
            Partitioner::Random | Partitioner::Murmur2Random | Partitioner::Fnv1aRandom => {
                key.is_none()
            }
        }
    }

    /// librdkafka's whole placement of a record without an explicit partition: the sticky rule
    /// (with `sticky`, the topic's sticky state) when [`Partitioner::uses_sticky`], otherwise
    /// [`Partitioner::partition`]. Returns [`PARTITION_UA`] if `partition_count <= 0` (librdkafka
    /// keeps such records unassigned until the topic has partitions).
    #[inline]
    pub fn place(
        self,
        key: Option<&[u8]>,
        partition_count: i32,
        sticky: &mut StickyPartition,
        now: Instant,
        sticky_linger: Duration,
        rng: &mut impl FnMut() -> u32,
    ) -> i32 {
        if self.uses_sticky(key, sticky_linger) {
            sticky.pick(partition_count, now, sticky_linger, rng)
        } else {
            self.partition(key, partition_count, rng)
        }
    }
}

/// librdkafka's default `sticky.partitioning.linger.ms` when the application did not set it:
/// twice `linger.ms` (truncated to whole milliseconds), at most 900 000 ms. With the default
/// `linger.ms` of 5 that is 10 ms; with `linger.ms=0` stickiness is off.
pub fn default_sticky_linger(linger_ms: f64) -> Duration {
    let ms = (2.0 * linger_ms).clamp(0.0, 900_000.0) as u64;
    Duration::from_millis(ms)
}

/// A topic's sticky partition for keyless records (librdkafka's `rkt_sticky_partition` and
/// `rkt_sticky_intvl`; one per topic).
///
/// librdkafka applies it to records without an explicit partition whose key is NULL (and, with
/// `consistent_random`, also empty), when the partitioner is `random`, `consistent_random`,
/// `murmur2_random` or `fnv1a_random` and `sticky.partitioning.linger.ms > 0` (default: twice
/// `linger.ms`, i.e. 10 ms; see [`default_sticky_linger`]). Those records all go to one random
/// partition; a new random partition is drawn for the first such record that comes more than
/// the linger after the previous draw (time-based only: unlike the Java client, librdkafka does
/// not switch when a batch is sent), or as soon as the current one is unavailable: librdkafka
/// checks on every keyless record that the partition has a leader broker attached, which is
/// not yet the case for a few milliseconds after the first metadata, so at start-up it can hop
/// several times (the engine reproduces that by calling [`Self::invalidate`]).
///
/// Not reproduced: librdkafka's interval starts at monotonic time 0 and its initial sticky
/// partition is 0, so on a host whose monotonic clock (uptime) is below the linger, keyless
/// records go to partition 0 until the linger has passed since boot or partition 0 becomes
/// unavailable; we draw at the first keyless record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StickyPartition {
    /// The current sticky partition; `None` until the first draw or after [`Self::invalidate`].
    pub current: Option<i32>,
    /// When the current partition was drawn plus the linger: a record that comes strictly
    /// after this instant draws a new one.
    pub until: Instant,
}

impl StickyPartition {
    /// No sticky partition yet: the first keyless record draws one.
    pub fn new(now: Instant) -> Self {
        StickyPartition {
            current: None,
            until: now,
        }
    }

    /// The sticky partition for a keyless record at `now`, drawing a new one (`rng() % count`)
    /// if there is none, the linger has passed since the last draw, or the current one is no
    /// longer below `partition_count`. Returns [`PARTITION_UA`] if `partition_count <= 0`.
    #[inline]
    pub fn pick(
        &mut self,
        partition_count: i32,
        now: Instant,
        linger: Duration,
        rng: &mut impl FnMut() -> u32,
    ) -> i32 {
        if partition_count <= 0 {
            return PARTITION_UA;
        }
        match self.current {
            Some(p) if p < partition_count && now <= self.until => p,
            _ => {
                let p = (rng() % partition_count as u32) as i32;
                self.current = Some(p);
                self.until = now + linger;
                p
            }
        }
    }

    /// Forgets the current partition (it became unavailable): the next keyless record draws a
    /// new one, as librdkafka does when the sticky partition has no leader.
    pub fn invalidate(&mut self) {
        self.current = None;
    }
}

/// Kafka's murmur2 (Java client `Utils.murmur2`, librdkafka's `rd_murmur2`): MurmurHash2,
/// seed `0x9747b28c`, little-endian words. Take `& 0x7fff_ffff` for the positive value.
#[inline]
pub fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h = SEED ^ data.len() as u32;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        let mut k = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        if tail.len() >= 3 {
            h ^= u32::from(tail[2]) << 16;
        }
        if tail.len() >= 2 {
            h ^= u32::from(tail[1]) << 8;
        }
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// librdkafka's `rd_fnv1a`: 32-bit FNV-1a computed as a signed integer, then its absolute value
/// (like Sarama's hash partitioner; `i32::MIN` stays `0x8000_0000`).
#[inline]
pub fn fnv1a(data: &[u8]) -> u32 {
    const PRIME: u32 = 0x0100_0193;
    const OFFSET: u32 = 0x811c_9dc5;
    let mut h = OFFSET;
    for &b in data {
        h ^= u32::from(b);
        h = h.wrapping_mul(PRIME);
    }
    (h as i32).wrapping_abs() as u32
}

/// CRC-32 (IEEE 802.3 / zlib's `crc32`: reflected polynomial `0xedb88320`, initial and final
/// XOR `0xffffffff`), the hash of librdkafka's `consistent` partitioners (`rd_crc32`).
#[inline]
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC32_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of librdkafka's murmur2/fnv1a unit tests (also Kafka's Java client vectors).
    const KEYS: [&[u8]; 11] = [
        b"kafka",
        b"giberish123456789",
        b"1234",
        b"234",
        b"34",
        b"4",
        b"PreAmbleWillBeRemoved,ThePrePartThatIs",
        b"reAmbleWillBeRemoved,ThePrePartThatIs",
        b"eAmbleWillBeRemoved,ThePrePartThatIs",
        b"AmbleWillBeRemoved,ThePrePartThatIs",
        b"",
    ];

    #[test]
    fn murmur2_vectors() {
        let expected: [u32; 11] = [
            0xd067cf64, 0x8f552b0c, 0x9fc97b14, 0xe7c009ca, 0x873930da, 0x5a4b5ca1, 0x78424f1c,
            0x4a62b377, 0xe0e4e09e, 0x62b8b43f, 0x106e08d9,
        ];
        for (k, e) in KEYS.iter().zip(expected) {
            assert_eq!(murmur2(k), e, "murmur2({:?})", String::from_utf8_lossy(k));
        }
        // Kafka's Java client test vectors (UtilsTest.testMurmur2), as signed ints.
        let java: [(&[u8], i32); 7] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
            (b"", 275646681),
        ];
        for (k, e) in java {
            assert_eq!(murmur2(k) as i32, e, "{:?}", String::from_utf8_lossy(k));
        }
    }

    #[test]
    fn fnv1a_vectors() {
        let expected: [u32; 11] = [
            0xd33c4e1, 0x77a58295, 0x23bdd03, 0x2dea3cd2, 0x740fa83e, 0x310ca263, 0x65cbd69c,
            0x6e49c79a, 0x69eed356, 0x6abcc023, 0x7ee3623b,
        ];
        for (k, e) in KEYS.iter().zip(expected) {
            assert_eq!(fnv1a(k), e, "fnv1a({:?})", String::from_utf8_lossy(k));
        }
        // Plain FNV-1a 32 of "a" is 0xe40c292c (negative as i32): the absolute value is taken.
        assert_eq!(fnv1a(b"a"), (0xe40c292cu32 as i32).unsigned_abs());
        assert!(fnv1a(b"foobar") <= 0x8000_0000);
    }

    #[test]
    fn crc32_vectors() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf43926); // the CRC-32/ISO-HDLC check value
        assert_eq!(crc32(b"a"), 0xe8b7be43);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414fa339
        );
        // Same as flate2's (zlib-compatible) CRC.
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut z = flate2::Crc::new();
        z.update(&data);
        assert_eq!(crc32(&data), z.sum());
    }

    #[test]
    fn names_round_trip() {
        for p in Partitioner::ALL {
            assert_eq!(Partitioner::from_name(p.name()), Some(p));
        }
        assert_eq!(Partitioner::from_name("Murmur2"), None);
        assert_eq!(Partitioner::from_name(""), None);
        assert_eq!(Partitioner::default(), Partitioner::ConsistentRandom);
    }

    /// An rng that must not be called.
    fn no_rng() -> u32 {
        panic!("rng called for a deterministic placement")
    }

    #[test]
    fn null_and_empty_keys() {
        let n = 8;
        let e: &[u8] = b"";
        // consistent: crc32("") = 0, for NULL too.
        assert_eq!(Partitioner::Consistent.partition(None, n, &mut no_rng), 0);
        assert_eq!(
            Partitioner::Consistent.partition(Some(e), n, &mut no_rng),
            0
        );
        // murmur2 / fnv1a: NULL hashes as empty.
        let m = ((0x106e08d9u32 & 0x7fff_ffff) % 8) as i32;
        let f = (0x7ee3623bu32 % 8) as i32;
        assert_eq!(Partitioner::Murmur2.partition(None, n, &mut no_rng), m);
        assert_eq!(Partitioner::Murmur2.partition(Some(e), n, &mut no_rng), m);
        assert_eq!(
            Partitioner::Murmur2Random.partition(Some(e), n, &mut no_rng),
            m
        );
        assert_eq!(Partitioner::Fnv1a.partition(None, n, &mut no_rng), f);
        assert_eq!(Partitioner::Fnv1a.partition(Some(e), n, &mut no_rng), f);
        assert_eq!(
            Partitioner::Fnv1aRandom.partition(Some(e), n, &mut no_rng),
            f
        );
        // Random ones: rng() % n.
        let mut r = || 13u32;
        assert_eq!(Partitioner::Random.partition(Some(b"k"), n, &mut r), 5);
        assert_eq!(Partitioner::ConsistentRandom.partition(None, n, &mut r), 5);
        assert_eq!(
            Partitioner::ConsistentRandom.partition(Some(e), n, &mut r),
            5
        );
        assert_eq!(Partitioner::Murmur2Random.partition(None, n, &mut r), 5);
        assert_eq!(Partitioner::Fnv1aRandom.partition(None, n, &mut r), 5);
        // No partitions: unassigned.
        for p in Partitioner::ALL {
            assert_eq!(p.partition(Some(b"k"), 0, &mut r), PARTITION_UA);
        }
    }

    #[test]
    fn keyed_placement_formulas() {
        let k: &[u8] = b"key-42";
        for n in [1, 3, 8, 100] {
            let c = (crc32(k) % n as u32) as i32;
            let m = ((murmur2(k) & 0x7fff_ffff) % n as u32) as i32;
            let f = (fnv1a(k) % n as u32) as i32;
            assert_eq!(
                Partitioner::Consistent.partition(Some(k), n, &mut no_rng),
                c
            );
            assert_eq!(
                Partitioner::ConsistentRandom.partition(Some(k), n, &mut no_rng),
                c
            );
            assert_eq!(Partitioner::Murmur2.partition(Some(k), n, &mut no_rng), m);
            assert_eq!(
                Partitioner::Murmur2Random.partition(Some(k), n, &mut no_rng),
                m
            );
            assert_eq!(Partitioner::Fnv1a.partition(Some(k), n, &mut no_rng), f);
            assert_eq!(
                Partitioner::Fnv1aRandom.partition(Some(k), n, &mut no_rng),
                f
            );
        }
        // The Java client's default partitioner: toPositive(murmur2("abc")) % 3.
        assert_eq!(
            Partitioner::Murmur2Random.partition(Some(b"abc"), 3, &mut no_rng),
            479470107 % 3
        );
    }

    #[test]
    fn sticky_rule() {
        let l = Duration::from_millis(10);
        let e: &[u8] = b"";
        use Partitioner::*;
        for p in [Consistent, Murmur2, Fnv1a] {
            assert!(!p.uses_sticky(None, l));
            assert!(!p.uses_sticky(Some(e), l));
        }
        for p in [Random, ConsistentRandom, Murmur2Random, Fnv1aRandom] {
            assert!(p.uses_sticky(None, l));
            assert!(!p.uses_sticky(Some(b"k"), l));
            assert!(!p.uses_sticky(None, Duration::ZERO));
        }
        assert!(ConsistentRandom.uses_sticky(Some(e), l));
        assert!(!Random.uses_sticky(Some(e), l));
        assert!(!Murmur2Random.uses_sticky(Some(e), l));
        assert!(!Fnv1aRandom.uses_sticky(Some(e), l));
    }

    #[test]
    fn sticky_partition_lingers_then_redraws() {
        let t0 = Instant::now();
        let l = Duration::from_millis(10);
        let mut draws = [3u32, 6, 1, 2].into_iter();
        let mut rng = || draws.next().unwrap();
        let mut s = StickyPartition::new(t0);
        assert_eq!(s.pick(8, t0, l, &mut rng), 3);
        assert_eq!(s.pick(8, t0 + Duration::from_millis(5), l, &mut rng), 3);
        // Exactly at the linger: still the same (librdkafka redraws when strictly past it).
        assert_eq!(s.pick(8, t0 + l, l, &mut rng), 3);
        let t1 = t0 + Duration::from_millis(11);
        assert_eq!(s.pick(8, t1, l, &mut rng), 6);
        assert_eq!(s.pick(8, t1 + Duration::from_millis(2), l, &mut rng), 6);
        // Fewer partitions than the sticky one: redraw.
        assert_eq!(s.pick(4, t1 + Duration::from_millis(3), l, &mut rng), 1);
        s.invalidate();
        assert_eq!(s.pick(4, t1 + Duration::from_millis(4), l, &mut rng), 2);
        assert_eq!(s.pick(0, t1, l, &mut rng), PARTITION_UA);

        // Through `place`: keyed records do not disturb the sticky partition.
        let mut s = StickyPartition::new(t0);
        let mut r = || 5u32;
        let p = Partitioner::Murmur2Random;
        assert_eq!(p.place(None, 8, &mut s, t0, l, &mut r), 5);
        let keyed = p.place(Some(b"key-1"), 8, &mut s, t0, l, &mut no_rng);
        assert_eq!(keyed, ((murmur2(b"key-1") & 0x7fff_ffff) % 8) as i32);
        assert_eq!(p.place(None, 8, &mut s, t0, l, &mut no_rng), 5);
        // Linger 0: random per record, no sticky state.
        let mut r = || 7u32;
        assert_eq!(p.place(None, 8, &mut s, t0, Duration::ZERO, &mut r), 7);
        assert_eq!(s.current, Some(5));
    }

    #[test]
    fn default_linger() {
        assert_eq!(default_sticky_linger(5.0), Duration::from_millis(10));
        assert_eq!(default_sticky_linger(0.0), Duration::ZERO);
        assert_eq!(default_sticky_linger(2.7), Duration::from_millis(5));
        assert_eq!(default_sticky_linger(1e9), Duration::from_millis(900_000));
    }
}
