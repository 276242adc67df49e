//! Framing: the 4-byte size prefix, request headers with correlation ids, and response headers.
//!
//! Requests are encoded straight into the connection's output buffer; responses are split off the
//! input buffer as `Bytes` frames without copying, so record data stays shared with the socket read.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{self as m, ApiKey, RequestHeader};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};

/// Why a frame could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer announced a frame larger than we accept.
    #[error("frame of {0} bytes exceeds the limit of {1} bytes")]
    TooLarge(usize, usize),
    /// A negative size prefix.
    #[error("invalid frame size {0}")]
    InvalidSize(i32),
    /// The message could not be encoded or decoded at the chosen version.
    #[error("protocol codec error: {0}")]
    Codec(String),
}

/// A request message this client sends, with its API key. (kafka-protocol's own `Request` trait
/// exists only when its broker side is compiled in as well.)
pub trait Request: Encodable + HeaderVersion {
    /// The API key of the request.
    const KEY: ApiKey;
}

macro_rules! requests {
    ($($ty:ident = $key:ident),* $(,)?) => {
        $(impl Request for m::$ty { const KEY: ApiKey = ApiKey::$key; })*
    };
}

requests! {
    ProduceRequest = Produce,
    FetchRequest = Fetch,
    ListOffsetsRequest = ListOffsets,
    MetadataRequest = Metadata,
    OffsetCommitRequest = OffsetCommit,
    OffsetFetchRequest = OffsetFetch,
    FindCoordinatorRequest = FindCoordinator,
    JoinGroupRequest = JoinGroup,
    HeartbeatRequest = Heartbeat,
    LeaveGroupRequest = LeaveGroup,
    SyncGroupRequest = SyncGroup,
    ApiVersionsRequest = ApiVersions,
    InitProducerIdRequest = InitProducerId,
    ListGroupsRequest = ListGroups,
    DescribeGroupsRequest = DescribeGroups,
    AddPartitionsToTxnRequest = AddPartitionsToTxn,
    EndTxnRequest = EndTxn,
    AddOffsetsToTxnRequest = AddOffsetsToTxn,
    TxnOffsetCommitRequest = TxnOffsetCommit,
}

/// Encodes `req` as a complete size-prefixed frame at `version` and appends it to `out`.
pub fn encode_request<R: Request>(
    req: &R,
    version: i16,
    correlation_id: i32,
    client_id: &StrBytes,
    out: &mut BytesMut,
) -> Result<(), FrameError> {
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(client_id.clone()));
    let header_version = R::header_version(version);
    let size = header
        .compute_size(header_version)
        .and_then(|h| Ok(h + req.compute_size(version)?))
        .map_err(|e| FrameError::Codec(e.to_string()))?;
    out.reserve(4 + size);
    out.put_i32(size as i32);
    let start = out.len();
    header
        .encode(out, header_version)
        .and_then(|_| req.encode(out, version))
        .map_err(|e| {
            out.truncate(start - 4);
            FrameError::Codec(e.to_string())
        })?;
    debug_assert_eq!(out.len() - start, size);
    Ok(())
}

/// Splits one complete frame (without its size prefix) off the front of `buf`, if it holds one.
/// `Ok(None)` means more bytes are needed; the buffer then has room reserved for the whole frame.
pub fn split_frame(buf: &mut BytesMut, max_size: usize) -> Result<Option<Bytes>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if size < 0 {
        return Err(FrameError::InvalidSize(size));
    }
    let size = size as usize;
    if size > max_size {
        return Err(FrameError::TooLarge(size, max_size));
    }
    if buf.len() < 4 + size {
        buf.reserve(4 + size - buf.len());
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(size).freeze()))
}

/// Reads the correlation id at the front of a response frame without consuming it.
pub fn peek_correlation_id(frame: &Bytes) -> Option<i32> {
    (frame.len() >= 4).then(|| i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]))
}

/// Strips the response header (correlation id, and tagged fields for flexible versions) from `frame`,
/// leaving the response body.
pub fn strip_response_header(
    frame: &mut Bytes,
    api_key: ApiKey,
    version: i16,
) -> Result<(), FrameError> {
    let header_version = api_key.response_header_version(version);
    if frame.len() < 4 {
        return Err(FrameError::Codec("response shorter than its header".into()));
    }
    frame.advance(4);
    if header_version >= 1 {
        let n = read_uvarint(frame)?;
        for _ in 0..n {
            let _tag = read_uvarint(frame)?;
            let len = read_uvarint(frame)? as usize;
            if frame.len() < len {
                return Err(FrameError::Codec("truncated tagged field in header".into()));
            }
            frame.advance(len);
        }
    }
    Ok(())
}

fn read_uvarint(buf: &mut Bytes) -> Result<u32, FrameError> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        if buf.is_empty() {
            return Err(FrameError::Codec("truncated varint".into()));
        }
        let b = buf.get_u8();
        value |= ((b & 0x7f) as u32) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(FrameError::Codec("varint too long".into()))
}

/// Decodes a response body of type `R` at `version`, mapping codec errors to [`FrameError`].
pub fn decode_body<R: kafka_protocol::protocol::Decodable>(
    body: &mut Bytes,
    version: i16,
) -> Result<R, FrameError> {
    R::decode(body, version).map_err(|e| FrameError::Codec(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};

    #[test]
    fn request_frame_has_size_prefix_and_header() {
        let mut out = BytesMut::new();
        let req = MetadataRequest::default();
        encode_request(&req, 4, 7, &StrBytes::from_static_str("me"), &mut out).unwrap();
        let size = i32::from_be_bytes(out[0..4].try_into().unwrap()) as usize;
        assert_eq!(size + 4, out.len());
        assert_eq!(i16::from_be_bytes([out[4], out[5]]), 3); // Metadata api key
        assert_eq!(i16::from_be_bytes([out[6], out[7]]), 4);
        assert_eq!(i32::from_be_bytes(out[8..12].try_into().unwrap()), 7);
    }

    #[test]
    fn flexible_request_header_encodes() {
        let mut out = BytesMut::new();
        encode_request(
            &ApiVersionsRequest::default(),
            3,
            1,
            &StrBytes::from_static_str("c"),
            &mut out,
        )
        .unwrap();
        assert!(out.len() > 12);
    }

    #[test]
    fn split_frame_waits_for_whole_frame() {
        let mut buf = BytesMut::new();
        buf.put_i32(5);
        buf.put_slice(b"abc");
        assert!(split_frame(&mut buf, 100).unwrap().is_none());
        buf.put_slice(b"de\x00\x00");
        let f = split_frame(&mut buf, 100).unwrap().unwrap();
        assert_eq!(&f[..], b"abcde");
        assert_eq!(buf.len(), 2);
    }

    #[test]
    fn split_frame_rejects_bad_sizes() {
        let mut buf = BytesMut::new();
        buf.put_i32(-3);
        assert!(matches!(
            split_frame(&mut buf, 100),
            Err(FrameError::InvalidSize(-3))
        ));
        let mut buf = BytesMut::new();
        buf.put_i32(1000);
        assert!(matches!(
            split_frame(&mut buf, 100),
            Err(FrameError::TooLarge(1000, 100))
        ));
    }

    #[test]
    fn strips_flexible_header_tags() {
        let mut frame = BytesMut::new();
        frame.put_i32(9);
        frame.put_u8(1); // one tagged field
        frame.put_u8(0);
        frame.put_u8(2);
        frame.put_slice(b"xy");
        frame.put_slice(b"body");
        let mut frame = frame.freeze();
        assert_eq!(peek_correlation_id(&frame), Some(9));
        strip_response_header(&mut frame, ApiKey::Metadata, 12).unwrap();
        assert_eq!(&frame[..], b"body");
        let mut short = Bytes::from_static(&[0, 0, 0, 1, 0x80]);
        assert!(strip_response_header(&mut short, ApiKey::Metadata, 12).is_err());
    }
}
