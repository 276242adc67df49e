//! librdkafka's built-in partitioner functions (`rd_kafka_msg_partitioner_*`), for applications
//! that call them from their own partitioner callback or name them in bindings. The placement is
//! the producer's own (`crate::partitioner`), identical to librdkafka's.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::os::raw::c_void;

use crate::partitioner::Partitioner;

use super::topic::rd_kafka_topic_t;

/// A random number for the random partitioners (not for cryptography).
fn random() -> u32 {
    RandomState::new().build_hasher().finish() as u32
}

/// Runs `p` on the C arguments: a NULL `key` is a NULL key.
///
/// # Safety
/// `key` is NULL or points to `keylen` readable bytes.
unsafe fn place(p: Partitioner, key: *const c_void, keylen: usize, partition_cnt: i32) -> i32 {
    let key = if key.is_null() {
        None
    } else if keylen == 0 {
        Some(&[][..])
    } else {
        // SAFETY: per the contract.
        Some(unsafe { std::slice::from_raw_parts(key.cast::<u8>(), keylen) })
    };
    ffi_guard!(-1, { p.partition(key, partition_cnt, &mut random) })
}

macro_rules! partitioner_fn {
    ($(#[$doc:meta])* $name:ident, $variant:ident) => {
        $(#[$doc])*
        /// Returns -1 (`RD_KAFKA_PARTITION_UA`) when `partition_cnt <= 0`.
        ///
        /// # Safety
        /// `key` is NULL or points to `keylen` readable bytes; the other pointers are not read.
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            rkt: *const rd_kafka_topic_t,
            key: *const c_void,
            keylen: usize,
            partition_cnt: i32,
            rkt_opaque: *mut c_void,
            msg_opaque: *mut c_void,
        ) -> i32 {
            let _ = (rkt, rkt_opaque, msg_opaque);
            // SAFETY: forwarded.
            unsafe { place(Partitioner::$variant, key, keylen, partition_cnt) }
        }
    };
}

partitioner_fn!(
    /// `random`: a random partition.
    rd_kafka_msg_partitioner_random,
    Random
);
partitioner_fn!(
    /// `consistent`: CRC32 of the key (NULL and empty keys alike).
    rd_kafka_msg_partitioner_consistent,
    Consistent
);
partitioner_fn!(
    /// `consistent_random`: CRC32 of the key; NULL and empty keys at random.
    rd_kafka_msg_partitioner_consistent_random,
    ConsistentRandom
);
partitioner_fn!(
    /// `murmur2`: the Java client's murmur2 of the key.
    rd_kafka_msg_partitioner_murmur2,
    Murmur2
);
partitioner_fn!(
    /// `murmur2_random`: murmur2 of the key; NULL keys at random.
    rd_kafka_msg_partitioner_murmur2_random,
    Murmur2Random
);
partitioner_fn!(
    /// `fnv1a`: FNV-1a of the key.
    rd_kafka_msg_partitioner_fnv1a,
    Fnv1a
);
partitioner_fn!(
    /// `fnv1a_random`: FNV-1a of the key; NULL keys at random.
    rd_kafka_msg_partitioner_fnv1a_random,
    Fnv1aRandom
);
