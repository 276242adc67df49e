//! The broker side of the wire format: the API versions the mock serves, request headers in,
//! size-prefixed responses with their headers out.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable};

/// The APIs and version ranges the mock cluster serves (what its ApiVersions response lists).
/// Bounded by what `kafka-protocol` decodes and by features the mock leaves out (topic ids,
/// multi-group OffsetFetch, KIP-848 groups).
pub const SERVED_VERSIONS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 9),
    (ApiKey::Fetch, 4, 11),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 0, 9),
    (ApiKey::OffsetCommit, 2, 8),
    (ApiKey::OffsetFetch, 1, 7),
    (ApiKey::FindCoordinator, 0, 3),
    (ApiKey::JoinGroup, 0, 6),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 4),
    (ApiKey::SyncGroup, 0, 4),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::ListGroups, 0, 4),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::CreateTopics, 2, 5),
    (ApiKey::InitProducerId, 0, 4),
];

/// Whether the mock serves `key` at `version`.
pub fn serves(key: ApiKey, version: i16) -> bool {
    SERVED_VERSIONS
        .iter()
        .any(|&(k, lo, hi)| k == key && (lo..=hi).contains(&version))
}

/// A request taken apart: its header fields and its body, decoded when the version is served.
#[derive(Debug)]
pub struct Incoming {
    /// The request's API (`None`: a key this crate does not know).
    pub api: Option<ApiKey>,
    /// The version the client used.
    pub version: i16,
    /// Echoed in the response.
    pub correlation_id: i32,
    /// The client's id from the header.
    pub client_id: String,
    /// The body; `None` when the API or version is not served or the body does not decode.
    pub body: Option<RequestKind>,
}

/// Decodes a request frame (without its size prefix). `None` when not even the fixed header
/// fields are there.
pub fn decode_request(mut frame: Bytes) -> Option<Incoming> {
    if frame.len() < 8 {
        return None;
    }
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let api = ApiKey::try_from(key).ok();
    let mut incoming = Incoming {
        api,
        version,
        correlation_id,
        client_id: String::new(),
        body: None,
    };
    let Some(api) = api else {
        return Some(incoming);
    };
    // ApiVersions requests newer than served still carry a v1/v2 header we can read; librdkafka
    // and the Java client rely on an answer to fall back.
    let header_version = if api == ApiKey::ApiVersions {
        api.request_header_version(version.min(3))
    } else {
        api.request_header_version(version)
    };
    let Ok(header) = RequestHeader::decode(&mut frame, header_version) else {
        return Some(incoming);
    };
    incoming.client_id = header.client_id.map(|s| s.to_string()).unwrap_or_default();
    if serves(api, version) {
        incoming.body = RequestKind::decode(api, &mut frame, version).ok();
    }
    Some(incoming)
}

/// Encodes `body` as a size-prefixed response frame for a request of `api` at `version`.
/// A body the version cannot carry is a mock bug: it is logged and an empty frame returned,
/// which makes the cluster close the connection instead of sending garbage.
pub fn encode_response<R: Encodable>(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &R,
) -> Bytes {
    let header_version = api.response_header_version(version);
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let mut out = BytesMut::with_capacity(64);
    out.put_i32(0);
    header
        .encode(&mut out, header_version)
        .expect("response header encodes");
    if let Err(e) = body.encode(&mut out, version) {
        eprintln!(
            "%3|MOCK|librskafka mock cluster: {api:?} v{version} response does not encode: {e}"
        );
        return Bytes::new();
    }
    let size = (out.len() - 4) as i32;
    out[0..4].copy_from_slice(&size.to_be_bytes());
    out.freeze()
}

/// [`encode_response`] for a response held as a `ResponseKind`.
pub fn encode_response_kind(version: i16, correlation_id: i32, body: &ResponseKind) -> Bytes {
    let header_version = body.header_version(version);
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let mut out = BytesMut::with_capacity(64);
    out.put_i32(0);
    header
        .encode(&mut out, header_version)
        .expect("response header encodes");
    if let Err(e) = body.encode(&mut out, version) {
        eprintln!(
            "%3|MOCK|librskafka mock cluster: v{version} error response does not encode: {e}"
        );
        return Bytes::new();
    }
    let size = (out.len() - 4) as i32;
    out[0..4].copy_from_slice(&size.to_be_bytes());
    out.freeze()
}

/// Reads the size prefix of the frame at the front of `buf`: `Some(len)` once it is complete.
pub fn frame_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < 4 {
        return None;
    }
    let size = (&buf[..4]).get_i32();
    let size = usize::try_from(size).ok()?;
    (buf.len() >= 4 + size).then_some(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiVersionsResponse, MetadataRequest};
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn decodes_what_our_client_encodes() {
        let mut out = BytesMut::new();
        crate::protocol::frame::encode_request(
            &MetadataRequest::default(),
            9,
            42,
            &StrBytes::from_static_str("me"),
            &mut out,
        )
        .unwrap();
        let frame = Bytes::from(out).slice(4..);
        let inc = decode_request(frame).unwrap();
        assert_eq!(inc.api, Some(ApiKey::Metadata));
        assert_eq!((inc.version, inc.correlation_id), (9, 42));
        assert_eq!(inc.client_id, "me");
        assert!(matches!(inc.body, Some(RequestKind::Metadata(_))));
    }

    #[test]
    fn unserved_version_has_no_body() {
        let mut out = BytesMut::new();
        crate::protocol::frame::encode_request(
            &MetadataRequest::default(),
            12,
            1,
            &StrBytes::from_static_str("me"),
            &mut out,
        )
        .unwrap();
        let inc = decode_request(Bytes::from(out).slice(4..)).unwrap();
        assert!(inc.body.is_none());
    }

    #[test]
    fn api_versions_response_keeps_header_v0() {
        let frame = encode_response(ApiKey::ApiVersions, 3, 7, &ApiVersionsResponse::default());
        assert_eq!(frame_len(&frame), Some(frame.len() - 4));
        assert_eq!(i32::from_be_bytes(frame[4..8].try_into().unwrap()), 7);
        // v3 body starts right after the correlation id: error code 0.
        assert_eq!(&frame[8..10], &[0, 0]);
    }
}
