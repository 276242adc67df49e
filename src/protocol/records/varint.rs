//! Zigzag varints as used inside v2 records (protobuf encoding: 7 bits per byte, low group first,
//! high bit = more bytes follow; signed values zigzag-mapped so that small negatives stay short).

use super::RecordError;

/// Longest encoding of a 32-bit varint.
const MAX_VARINT_LEN: usize = 5;
/// Longest encoding of a 64-bit varlong.
const MAX_VARLONG_LEN: usize = 10;

/// Reads an unsigned LEB128 value of at most `max_len` bytes from `buf[*pos..]`, advancing `pos`.
#[inline]
fn read_unsigned(buf: &[u8], pos: &mut usize, max_len: usize) -> Result<u64, RecordError> {
    let mut value: u64 = 0;
    let mut shift = 0u32;
    for i in 0..max_len {
        let Some(&byte) = buf.get(*pos + i) else {
            return Err(RecordError::Corrupt(
                "varint runs past the end of the record",
            ));
        };
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            *pos += i + 1;
            return Ok(value);
        }
        shift += 7;
    }
    Err(RecordError::Corrupt("varint longer than its type allows"))
}

/// Reads a zigzag-encoded 32-bit varint.
#[inline]
pub(super) fn read_varint(buf: &[u8], pos: &mut usize) -> Result<i32, RecordError> {
    let mut end = *pos;
    let raw = read_unsigned(buf, &mut end, MAX_VARINT_LEN)?;
    // A 5-byte varint carries 35 bits; the Java client rejects anything past 32, and so do we.
    let raw = u32::try_from(raw).map_err(|_| RecordError::Corrupt("varint overflows 32 bits"))?;
    *pos = end;
    Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
}

/// Reads a zigzag-encoded 64-bit varlong.
#[inline]
pub(super) fn read_varlong(buf: &[u8], pos: &mut usize) -> Result<i64, RecordError> {
    let mut end = *pos;
    let raw = read_unsigned(buf, &mut end, MAX_VARLONG_LEN)?;
    // The tenth byte may only carry the single remaining bit.
    if end - *pos == MAX_VARLONG_LEN && buf[end - 1] > 1 {
        return Err(RecordError::Corrupt("varlong overflows 64 bits"));
    }
    *pos = end;
    Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
}

#[inline]
fn zigzag32(v: i32) -> u64 {
    u64::from(((v << 1) ^ (v >> 31)) as u32)
}

#[inline]
fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
fn write_unsigned(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
fn unsigned_len(v: u64) -> usize {
    // Bits needed, rounded up to groups of 7; zero still takes one byte.
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends a zigzag-encoded 32-bit varint.
#[inline]
pub(super) fn write_varint(out: &mut Vec<u8>, v: i32) {
    write_unsigned(out, zigzag32(v));
}

/// Appends a zigzag-encoded 64-bit varlong.
#[inline]
pub(super) fn write_varlong(out: &mut Vec<u8>, v: i64) {
    write_unsigned(out, zigzag64(v));
}

/// Encoded size of [`write_varint`]`(v)`.
#[inline]
pub(super) fn varint_len(v: i32) -> usize {
    unsigned_len(zigzag32(v))
}

/// Encoded size of [`write_varlong`]`(v)`.
#[inline]
pub(super) fn varlong_len(v: i64) -> usize {
    unsigned_len(zigzag64(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        // Values from the protobuf zigzag table.
        for (v, bytes) in [
            (0i32, &[0x00u8][..]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (-2, &[0x03]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (i32::MAX, &[0xfe, 0xff, 0xff, 0xff, 0x0f]),
            (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            assert_eq!(out, bytes, "encoding {v}");
            assert_eq!(varint_len(v), bytes.len());
            let mut pos = 0;
            assert_eq!(read_varint(bytes, &mut pos).unwrap(), v);
            assert_eq!(pos, bytes.len());
        }
    }

    #[test]
    fn varlong_extremes_round_trip() {
        for v in [0i64, -1, 1, i64::MAX, i64::MIN, 1 << 40, -(1 << 50)] {
            let mut out = Vec::new();
            write_varlong(&mut out, v);
            assert_eq!(out.len(), varlong_len(v));
            let mut pos = 0;
            assert_eq!(read_varlong(&out, &mut pos).unwrap(), v);
            assert_eq!(pos, out.len());
        }
    }

    #[test]
    fn corrupt_varints_are_errors() {
        let mut pos = 0;
        // Continuation bit set on the last available byte.
        assert!(read_varint(&[0x80, 0x80], &mut pos).is_err());
        // Empty input.
        assert!(read_varint(&[], &mut pos).is_err());
        // Six bytes for a 32-bit varint.
        assert!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01], &mut pos).is_err());
        // Five bytes whose value needs more than 32 bits.
        assert!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0x7f], &mut pos).is_err());
        // Eleven bytes for a varlong, and a tenth byte with too many bits.
        assert!(read_varlong(&[0xff; 11], &mut pos).is_err());
        let mut ten = [0xffu8; 10];
        ten[9] = 0x02;
        assert!(read_varlong(&ten, &mut pos).is_err());
        assert_eq!(pos, 0, "failed reads must not advance");
    }
}
