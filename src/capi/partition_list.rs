//! `rd_kafka_topic_partition_list_t`: a C-visible array of `rd_kafka_topic_partition_t`.
//!
//! Memory: the list header is a `Box`; `elems` is a `Vec` buffer whose capacity is `size`; each
//! element's `topic` and `metadata` are C allocations (`malloc`) owned by the list, so an
//! application may replace `metadata` with its own `malloc`ed buffer (confluent-kafka-python does)
//! and the list frees it. `_private` is a `Box<Private>` (leader epoch) owned by the element.
//! Lists returned to the application are freed with `rd_kafka_topic_partition_list_destroy`.

use std::os::raw::{c_char, c_int, c_void};

use crate::error::ErrorCode;
use crate::topic_partition::TopicPartition;

use super::ctypes::*;
use super::errcodes::*;
use super::types::*;
use super::{c_strdup, cstr, libc_free, libc_malloc};

/// What librdkafka keeps behind `_private`.
#[derive(Clone, Copy, Debug)]
struct Private {
    leader_epoch: i32,
}

fn empty_elem() -> rd_kafka_topic_partition_t {
    rd_kafka_topic_partition_t {
        topic: std::ptr::null_mut(),
        partition: 0,
        offset: RD_KAFKA_OFFSET_INVALID,
        metadata: std::ptr::null_mut(),
        metadata_size: 0,
        opaque: std::ptr::null_mut(),
        err: 0,
        _private: std::ptr::null_mut(),
    }
}

/// Frees what an element owns (not the element itself).
///
/// # Safety
/// The element's `topic`/`metadata` are NULL or `malloc`ed; `_private` is NULL or ours.
unsafe fn clear_elem(e: &mut rd_kafka_topic_partition_t) {
    // SAFETY: per the function contract; free(NULL) is a no-op.
    unsafe {
        libc_free(e.topic.cast());
        libc_free(e.metadata);
        if !e._private.is_null() {
            drop(Box::from_raw(e._private.cast::<Private>()));
        }
    }
    e.topic = std::ptr::null_mut();
    e.metadata = std::ptr::null_mut();
    e._private = std::ptr::null_mut();
}

/// Deep copy of an element.
///
/// # Safety
/// `e` is a valid element (see `clear_elem`).
unsafe fn copy_elem(e: &rd_kafka_topic_partition_t) -> rd_kafka_topic_partition_t {
    let mut c = empty_elem();
    // SAFETY: `topic` is NULL or a C string.
    c.topic = match unsafe { cstr(e.topic) } {
        Some(t) => c_strdup(t),
        None => std::ptr::null_mut(),
    };
    c.partition = e.partition;
    c.offset = e.offset;
    if !e.metadata.is_null() && e.metadata_size > 0 {
        // SAFETY: `metadata` has `metadata_size` bytes; the new buffer is checked for NULL.
        unsafe {
            let m = libc_malloc(e.metadata_size);
            if !m.is_null() {
                std::ptr::copy_nonoverlapping(
                    e.metadata.cast::<u8>(),
                    m.cast::<u8>(),
                    e.metadata_size,
                );
                c.metadata = m;
                c.metadata_size = e.metadata_size;
            }
        }
    }
    c.opaque = e.opaque;
    c.err = e.err;
    if !e._private.is_null() {
        // SAFETY: `_private` is a live `Box<Private>` of ours.
        let p = unsafe { *e._private.cast::<Private>() };
        c._private = Box::into_raw(Box::new(p)).cast();
    }
    c
}

/// Takes the element buffer out as a `Vec` (the list keeps a dangling empty buffer until
/// `put_vec`).
///
/// # Safety
/// `l` is a list created by this module.
unsafe fn take_vec(l: &mut rd_kafka_topic_partition_list_t) -> Vec<rd_kafka_topic_partition_t> {
    if l.elems.is_null() {
        return Vec::new();
    }
    let v = {
        // SAFETY: `elems` came from a Vec with capacity `size` and `cnt` initialised elements.
        unsafe { Vec::from_raw_parts(l.elems, l.cnt.max(0) as usize, l.size.max(0) as usize) }
    };
    l.elems = std::ptr::null_mut();
    l.cnt = 0;
    l.size = 0;
    v
}

fn put_vec(l: &mut rd_kafka_topic_partition_list_t, v: Vec<rd_kafka_topic_partition_t>) {
    let mut v = std::mem::ManuallyDrop::new(v);
    l.cnt = v.len() as c_int;
    l.size = v.capacity() as c_int;
    l.elems = if v.capacity() == 0 {
        std::ptr::null_mut()
    } else {
        v.as_mut_ptr()
    };
}

fn new_list(size: usize) -> *mut rd_kafka_topic_partition_list_t {
    let mut l = Box::new(rd_kafka_topic_partition_list_t {
        cnt: 0,
        size: 0,
        elems: std::ptr::null_mut(),
    });
    put_vec(&mut l, Vec::with_capacity(size));
    Box::into_raw(l)
}

/// Appends an element, returning a pointer to it in the list.
///
/// # Safety
/// `l` is a list created by this module.
unsafe fn push(
    l: &mut rd_kafka_topic_partition_list_t,
    e: rd_kafka_topic_partition_t,
) -> *mut rd_kafka_topic_partition_t {
    // SAFETY: forwarded contract.
    let mut v = unsafe { take_vec(l) };
    v.push(e);
    let i = v.len() - 1;
    put_vec(l, v);
    // SAFETY: `i < cnt`.
    unsafe { l.elems.add(i) }
}

/// The elements as a slice.
///
/// # Safety
/// `l` is a valid list.
pub(crate) unsafe fn elems(l: &rd_kafka_topic_partition_list_t) -> &[rd_kafka_topic_partition_t] {
    if l.elems.is_null() || l.cnt <= 0 {
        &[]
    } else {
        // SAFETY: `elems` has `cnt` initialised elements.
        unsafe { std::slice::from_raw_parts(l.elems, l.cnt as usize) }
    }
}

/// The elements as a mutable slice.
///
/// # Safety
/// `l` is a valid list.
pub(crate) unsafe fn elems_mut(
    l: &mut rd_kafka_topic_partition_list_t,
) -> &mut [rd_kafka_topic_partition_t] {
    if l.elems.is_null() || l.cnt <= 0 {
        &mut []
    } else {
        // SAFETY: `elems` has `cnt` initialised elements, borrowed exclusively with `l`.
        unsafe { std::slice::from_raw_parts_mut(l.elems, l.cnt as usize) }
    }
}

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
/// Converts a C list to Rust values (for the client handle). NULL gives an empty vector.
///
/// # Safety
/// `l` is NULL or a valid list.
pub(crate) unsafe fn to_vec(l: *const rd_kafka_topic_partition_list_t) -> Vec<TopicPartition> {
    // SAFETY: forwarded contract.
    let Some(l) = (unsafe { l.as_ref() }) else {
        return Vec::new();
    };
    // SAFETY: forwarded contract.
    unsafe { elems(l) }
        .iter()
        .map(|e| {
            // SAFETY: element strings/buffers are valid per the list invariants.
            let topic = unsafe { cstr(e.topic) }.unwrap_or("").to_string();
            let metadata = (!e.metadata.is_null()).then(|| {
                // SAFETY: `metadata` has `metadata_size` bytes.
                let b =
                    unsafe { std::slice::from_raw_parts(e.metadata.cast::<u8>(), e.metadata_size) };
                String::from_utf8_lossy(b).into_owned()
            });
            TopicPartition {
                topic,
                partition: e.partition,
                offset: e.offset,
                metadata,
                // SAFETY: as above.
                leader_epoch: unsafe { leader_epoch(e) },
                error: ErrorCode(e.err),
            }
        })
        .collect()
}

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
/// Builds a new C list from Rust values; the receiver frees it with
/// `rd_kafka_topic_partition_list_destroy`.
pub(crate) fn from_slice(tps: &[TopicPartition]) -> *mut rd_kafka_topic_partition_list_t {
    let l = new_list(tps.len());
    // SAFETY: just created, exclusively ours.
    let lr = unsafe { &mut *l };
    for tp in tps {
        let mut e = empty_elem();
        e.topic = c_strdup(&tp.topic);
        e.partition = tp.partition;
        e.offset = tp.offset;
        e.err = tp.error.0;
        if let Some(m) = &tp.metadata {
            // SAFETY: buffer of m.len() bytes (at least 1), checked for NULL.
            unsafe {
                let p = libc_malloc(m.len().max(1));
                if !p.is_null() {
                    std::ptr::copy_nonoverlapping(m.as_ptr(), p.cast::<u8>(), m.len());
                    e.metadata = p;
                    e.metadata_size = m.len();
                }
            }
        }
        // SAFETY: `e` is a fresh element.
        unsafe { set_leader_epoch(&mut e, tp.leader_epoch) };
        // SAFETY: `lr` is a list of ours.
        unsafe { push(lr, e) };
    }
    l
}

#[allow(dead_code)] // For the client handle (pending.rs), which does not exist yet.
/// Allocates a standalone partition (as returned by `rd_kafka_event_topic_partition`), freed with
/// `rd_kafka_topic_partition_destroy`.
pub(crate) fn new_standalone(tp: &TopicPartition) -> *mut rd_kafka_topic_partition_t {
    let mut e = empty_elem();
    e.topic = c_strdup(&tp.topic);
    e.partition = tp.partition;
    e.offset = tp.offset;
    e.err = tp.error.0;
    // SAFETY: fresh element.
    unsafe { set_leader_epoch(&mut e, tp.leader_epoch) };
    Box::into_raw(Box::new(e))
}

unsafe fn leader_epoch(e: &rd_kafka_topic_partition_t) -> i32 {
    if e._private.is_null() {
        -1
    } else {
        // SAFETY: `_private` is a live `Box<Private>` of ours.
        unsafe { (*e._private.cast::<Private>()).leader_epoch }
    }
}

unsafe fn set_leader_epoch(e: &mut rd_kafka_topic_partition_t, epoch: i32) {
    if e._private.is_null() {
        e._private = Box::into_raw(Box::new(Private {
            leader_epoch: epoch,
        }))
        .cast();
    } else {
        // SAFETY: `_private` is a live `Box<Private>` of ours.
        unsafe { (*e._private.cast::<Private>()).leader_epoch = epoch };
    }
}

/// Creates an empty list with room for `size` elements. Owned by the caller; freed with
/// `rd_kafka_topic_partition_list_destroy`.
#[no_mangle]
pub extern "C" fn rd_kafka_topic_partition_list_new(
    size: c_int,
) -> *mut rd_kafka_topic_partition_list_t {
    ffi_guard!(std::ptr::null_mut(), { new_list(size.max(0) as usize) })
}

/// Frees a list with its topics, metadata and private data. NULL is ignored.
///
/// # Safety
/// `rkparlist` is NULL or a list from librskafka owned by the caller, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_destroy(
    rkparlist: *mut rd_kafka_topic_partition_list_t,
) {
    ffi_guard!((), {
        if rkparlist.is_null() {
            return;
        }
        // SAFETY: allocated with Box::into_raw in `new_list`.
        let mut l = unsafe { Box::from_raw(rkparlist) };
        // SAFETY: a list of ours.
        let mut v = unsafe { take_vec(&mut l) };
        for e in &mut v {
            // SAFETY: list elements own their fields.
            unsafe { clear_elem(e) };
        }
    })
}

/// Frees a standalone partition (from `rd_kafka_event_topic_partition`). NULL is ignored.
///
/// # Safety
/// `rktpar` is NULL or a standalone partition owned by the caller (never an element of a list).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_destroy(rktpar: *mut rd_kafka_topic_partition_t) {
    ffi_guard!((), {
        if rktpar.is_null() {
            return;
        }
        // SAFETY: allocated with Box::into_raw in `new_standalone`.
        let mut e = unsafe { Box::from_raw(rktpar) };
        // SAFETY: the element owns its fields.
        unsafe { clear_elem(&mut e) };
    })
}

/// Appends `topic`/`partition` (offset `RD_KAFKA_OFFSET_INVALID`) and returns the new element,
/// which the list owns; the pointer is valid until the list is next modified. NULL on bad
/// arguments.
///
/// # Safety
/// `rktparlist` is NULL or a live list; `topic` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_add(
    rktparlist: *mut rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    partition: i32,
) -> *mut rd_kafka_topic_partition_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the caller's contract.
        let (Some(l), Some(topic)) = (unsafe { rktparlist.as_mut() }, unsafe { cstr(topic) })
        else {
            return std::ptr::null_mut();
        };
        let mut e = empty_elem();
        e.topic = c_strdup(topic);
        e.partition = partition;
        // SAFETY: a list of ours.
        unsafe { push(l, e) }
    })
}

/// Appends partitions `start..=stop` of `topic`.
///
/// # Safety
/// As `rd_kafka_topic_partition_list_add`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_add_range(
    rktparlist: *mut rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    start: i32,
    stop: i32,
) {
    ffi_guard!((), {
        for p in start..=stop {
            // SAFETY: forwarded contract.
            unsafe { rd_kafka_topic_partition_list_add(rktparlist, topic, p) };
        }
    })
}

fn remove_at(l: &mut rd_kafka_topic_partition_list_t, idx: usize) -> c_int {
    // SAFETY: a list of ours.
    let mut v = unsafe { take_vec(l) };
    let r = if idx < v.len() {
        let mut e = v.remove(idx);
        // SAFETY: the removed element owns its fields.
        unsafe { clear_elem(&mut e) };
        1
    } else {
        0
    };
    put_vec(l, v);
    r
}

fn position(l: &rd_kafka_topic_partition_list_t, topic: &str, partition: i32) -> Option<usize> {
    // SAFETY: a valid list.
    unsafe { elems(l) }.iter().position(|e| {
        // SAFETY: element topics are NULL or C strings.
        e.partition == partition && unsafe { cstr(e.topic) } == Some(topic)
    })
}

/// Removes the first element with `topic`/`partition`: 1 if removed, 0 if not found.
///
/// # Safety
/// As `rd_kafka_topic_partition_list_add`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_del(
    rktparlist: *mut rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    partition: i32,
) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the caller's contract.
        let (Some(l), Some(topic)) = (unsafe { rktparlist.as_mut() }, unsafe { cstr(topic) })
        else {
            return 0;
        };
        match position(l, topic, partition) {
            Some(i) => remove_at(l, i),
            None => 0,
        }
    })
}

/// Removes the element at `idx`: 1 if removed, 0 if out of range.
///
/// # Safety
/// `rktparlist` is NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_del_by_idx(
    rktparlist: *mut rd_kafka_topic_partition_list_t,
    idx: c_int,
) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the caller's contract.
        match unsafe { rktparlist.as_mut() } {
            Some(l) if idx >= 0 => remove_at(l, idx as usize),
            _ => 0,
        }
    })
}

/// Deep copy of a list, owned by the caller (`rd_kafka_topic_partition_list_destroy`).
///
/// # Safety
/// `src` is NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_copy(
    src: *const rd_kafka_topic_partition_list_t,
) -> *mut rd_kafka_topic_partition_list_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the caller's contract.
        let Some(s) = (unsafe { src.as_ref() }) else {
            return std::ptr::null_mut();
        };
        // SAFETY: valid list.
        let src_elems = unsafe { elems(s) };
        let l = new_list(s.size.max(0) as usize);
        // SAFETY: just created.
        let lr = unsafe { &mut *l };
        for e in src_elems {
            // SAFETY: valid elements; `lr` is ours.
            unsafe { push(lr, copy_elem(e)) };
        }
        l
    })
}

/// Sets the offset of `topic`/`partition`: `RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION` if it is not in
/// the list.
///
/// # Safety
/// As `rd_kafka_topic_partition_list_add`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_set_offset(
    rktparlist: *mut rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    partition: i32,
    offset: i64,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the caller's contract.
        let (Some(l), Some(topic)) = (unsafe { rktparlist.as_mut() }, unsafe { cstr(topic) })
        else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        match position(l, topic, partition) {
            Some(i) => {
                // SAFETY: `i < cnt`.
                unsafe { (*l.elems.add(i)).offset = offset };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
        }
    })
}

/// Finds `topic`/`partition`; the element is owned by the list. NULL if not found.
///
/// # Safety
/// `rktparlist` is NULL or a live list; `topic` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_find(
    rktparlist: *const rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    partition: i32,
) -> *mut rd_kafka_topic_partition_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the caller's contract.
        let (Some(l), Some(topic)) = (unsafe { rktparlist.as_ref() }, unsafe { cstr(topic) })
        else {
            return std::ptr::null_mut();
        };
        match position(l, topic, partition) {
            // SAFETY: `i < cnt`.
            Some(i) => unsafe { l.elems.add(i) },
            None => std::ptr::null_mut(),
        }
    })
}

/// Comparator type of `rd_kafka_topic_partition_list_sort`.
pub type PartitionCmp = unsafe extern "C" fn(*const c_void, *const c_void, *mut c_void) -> c_int;

/// Sorts the list with `cmp` (called with two element pointers and `cmp_opaque`), or by topic
/// name and partition when `cmp` is NULL.
///
/// # Safety
/// `rktparlist` is NULL or a live list; `cmp` is NULL or a comparator safe to call on elements.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_sort(
    rktparlist: *mut rd_kafka_topic_partition_list_t,
    cmp: Option<unsafe extern "C" fn(*const c_void, *const c_void, *mut c_void) -> c_int>,
    cmp_opaque: *mut c_void,
) {
    extern "C" {
        fn qsort_r(base: *mut c_void, n: usize, size: usize, cmp: PartitionCmp, arg: *mut c_void);
    }
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        let Some(l) = (unsafe { rktparlist.as_mut() }) else {
            return;
        };
        if l.elems.is_null() || l.cnt <= 1 {
            return;
        }
        match cmp {
            // SAFETY: `elems` has `cnt` elements of the given size; the comparator is the
            // application's (glibc's qsort_r has this argument order).
            Some(f) => unsafe {
                qsort_r(
                    l.elems.cast(),
                    l.cnt as usize,
                    std::mem::size_of::<rd_kafka_topic_partition_t>(),
                    f,
                    cmp_opaque,
                )
            },
            None => {
                // SAFETY: `elems` has `cnt` initialised elements, exclusively borrowed here.
                let s = unsafe { std::slice::from_raw_parts_mut(l.elems, l.cnt as usize) };
                s.sort_by(|a, b| {
                    // SAFETY: element topics are NULL or C strings.
                    let (ta, tb) = unsafe { (cstr_bytes(a.topic), cstr_bytes(b.topic)) };
                    ta.cmp(tb).then(a.partition.cmp(&b.partition))
                });
            }
        }
    })
}

unsafe fn cstr_bytes<'a>(s: *const c_char) -> &'a [u8] {
    if s.is_null() {
        b""
    } else {
        // SAFETY: NUL-terminated per the caller.
        unsafe { std::ffi::CStr::from_ptr(s) }.to_bytes()
    }
}

/// The leader epoch stored with a partition, -1 if none.
///
/// # Safety
/// `rktpar` is NULL or a live element.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_get_leader_epoch(
    rktpar: *const rd_kafka_topic_partition_t,
) -> i32 {
    ffi_guard!(-1, {
        // SAFETY: per the caller's contract.
        match unsafe { rktpar.as_ref() } {
            // SAFETY: a valid element.
            Some(e) => unsafe { leader_epoch(e) },
            None => -1,
        }
    })
}

/// Stores a leader epoch with a partition (used by `rd_kafka_seek_partitions` / commits).
///
/// # Safety
/// `rktpar` is NULL or a live element.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_set_leader_epoch(
    rktpar: *mut rd_kafka_topic_partition_t,
    leader_epoch: i32,
) {
    ffi_guard!((), {
        // SAFETY: per the caller's contract.
        if let Some(e) = unsafe { rktpar.as_mut() } {
            // SAFETY: a valid element.
            unsafe { set_leader_epoch(e, leader_epoch) };
        }
    })
}
