//! `rd_kafka_messages_t`: the batch of messages librdkafka 2.15's share consumer returns
//! (`rd_kafka_share_poll`), and its accessors `rd_kafka_messages_count/_get/_destroy`.
//!
//! Ownership: the container owns its messages. Pointers from `rd_kafka_messages_get` stay valid
//! until `rd_kafka_messages_destroy`, which frees the container and every message in it; the
//! application must not pass them to `rd_kafka_message_destroy`. Nothing produces a container
//! yet: [`into_raw`] is for the share consumer (`rd_kafka_share_poll`, not implemented).

use super::ctypes::*;
use super::message::OwnedMessage;
use super::types::*;

/// What a `rd_kafka_messages_t *` points to: the messages, each an [`OwnedMessage`] handed out
/// as a raw pointer so that C may modify it (headers) through what `get` returns.
struct MessagesList {
    messages: Vec<*mut rd_kafka_message_t>,
}

impl Drop for MessagesList {
    fn drop(&mut self) {
        for &m in &self.messages {
            // SAFETY: each pointer came from OwnedMessage::into_raw and is freed only here.
            drop(unsafe { OwnedMessage::from_raw(m) });
        }
    }
}

/// Hands `messages` to C as a container (freed with `rd_kafka_messages_destroy`). Boxed as the
/// `OwnedMessage` constructors return them: each keeps its address, nothing is moved.
#[allow(dead_code)] // For rd_kafka_share_poll, which does not exist yet.
#[allow(clippy::vec_box)]
pub(crate) fn into_raw(messages: Vec<Box<OwnedMessage>>) -> *mut rd_kafka_messages_t {
    let list = MessagesList {
        messages: messages.into_iter().map(OwnedMessage::into_raw).collect(),
    };
    Box::into_raw(Box::new(list)).cast()
}

/// # Safety
/// `p` is NULL or from [`into_raw`], not destroyed.
unsafe fn get<'a>(p: *const rd_kafka_messages_t) -> Option<&'a MessagesList> {
    // SAFETY: per the contract.
    unsafe { p.cast::<MessagesList>().as_ref() }
}

/// The number of messages in `messages`; 0 for NULL.
///
/// # Safety
/// `messages` is NULL or a live container.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_messages_count(messages: *const rd_kafka_messages_t) -> usize {
    ffi_guard!(0, {
        // SAFETY: per the caller's contract.
        unsafe { get(messages) }.map_or(0, |l| l.messages.len())
    })
}

/// The message at `index`, owned by the container (valid until `rd_kafka_messages_destroy`);
/// NULL for a NULL container or an index out of range (undefined in librdkafka).
///
/// # Safety
/// `messages` is NULL or a live container.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_messages_get(
    messages: *const rd_kafka_messages_t,
    index: usize,
) -> *mut rd_kafka_message_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the caller's contract.
        unsafe { get(messages) }
            .and_then(|l| l.messages.get(index).copied())
            .unwrap_or(std::ptr::null_mut())
    })
}

/// Frees `messages` and every message in it. NULL is ignored.
///
/// # Safety
/// `messages` is NULL or a live container, not used afterwards (nor the messages it held).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_messages_destroy(messages: *mut rd_kafka_messages_t) {
    ffi_guard!((), {
        if !messages.is_null() {
            // SAFETY: from into_raw (Box), per the caller's contract.
            drop(unsafe { Box::from_raw(messages.cast::<MessagesList>()) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::errcodes::*;
    use crate::capi::message::rd_kafka_message_headers;
    use crate::message::{Message, TimestampType};
    use crate::protocol::records::Header;
    use bytes::Bytes;
    use std::sync::Arc;

    fn consumed(offset: i64, headers: Vec<Header>) -> Message {
        Message {
            topic: "t".into(),
            partition: 2,
            offset,
            timestamp: 1_700_000_000_000 + offset,
            timestamp_type: TimestampType::CreateTime,
            key: Some(Bytes::from(format!("k{offset}"))),
            value: Some(Bytes::from(format!("v{offset}"))),
            headers,
            leader_epoch: 0,
        }
    }

    fn bytes_of(p: *mut std::os::raw::c_void, len: usize) -> Vec<u8> {
        // SAFETY: the message is live and `p` points to `len` bytes.
        unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }.to_vec()
    }

    #[test]
    fn counts_gets_and_destroys_every_message() {
        let alive: Arc<dyn std::any::Any + Send + Sync> = Arc::new(());
        let header = Header {
            key: Bytes::from_static(b"h"),
            value: Some(Bytes::from_static(b"x")),
        };
        let mut msgs = vec![
            OwnedMessage::from_message(&consumed(10, vec![header]), std::ptr::null_mut()),
            OwnedMessage::from_message(&consumed(11, vec![]), std::ptr::null_mut()),
            OwnedMessage::error(
                RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                "gone",
                std::ptr::null_mut(),
                3,
                7,
            ),
        ];
        for m in &mut msgs {
            m.keep_alive = Some(alive.clone());
        }
        assert_eq!(Arc::strong_count(&alive), 4);
        let list = into_raw(msgs);
        // SAFETY: `list` is live until destroyed at the end.
        unsafe {
            assert_eq!(rd_kafka_messages_count(list), 3);
            let m0 = &*rd_kafka_messages_get(list, 0);
            assert_eq!((m0.err, m0.partition, m0.offset), (0, 2, 10));
            assert_eq!(bytes_of(m0.key, m0.key_len), b"k10");
            assert_eq!(bytes_of(m0.payload, m0.len), b"v10");
            let mut hdrs = std::ptr::null_mut();
            assert_eq!(
                rd_kafka_message_headers(m0, &mut hdrs),
                RD_KAFKA_RESP_ERR_NO_ERROR
            );
            assert!(!hdrs.is_null());
            let m1 = &*rd_kafka_messages_get(list, 1);
            assert_eq!(bytes_of(m1.payload, m1.len), b"v11");
            let m2 = &*rd_kafka_messages_get(list, 2);
            assert_eq!((m2.err, m2.partition, m2.offset), (3, 3, 7));
            assert_eq!(bytes_of(m2.payload, m2.len), b"gone");
            assert!(rd_kafka_messages_get(list, 3).is_null());
            assert!(rd_kafka_messages_get(list, usize::MAX).is_null());
            // The same pointer every time: the container owns one message per index.
            assert_eq!(
                rd_kafka_messages_get(list, 1),
                rd_kafka_messages_get(list, 1)
            );
            rd_kafka_messages_destroy(list);
        }
        assert_eq!(
            Arc::strong_count(&alive),
            1,
            "a message outlived its container"
        );
    }

    #[test]
    fn empty_and_null_containers() {
        let list = into_raw(Vec::new());
        // SAFETY: NULL is allowed everywhere; `list` is live until destroyed.
        unsafe {
            assert_eq!(rd_kafka_messages_count(list), 0);
            assert!(rd_kafka_messages_get(list, 0).is_null());
            rd_kafka_messages_destroy(list);
            assert_eq!(rd_kafka_messages_count(std::ptr::null()), 0);
            assert!(rd_kafka_messages_get(std::ptr::null(), 0).is_null());
            rd_kafka_messages_destroy(std::ptr::null_mut());
        }
    }
}
