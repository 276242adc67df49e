//! A small JSON writer for the statistics document: objects, strings with JSON escaping, integers
//! and booleans, written straight into one `String` (no intermediate tree).

use std::fmt::Write;

/// Writes one JSON document; members are added in order and commas placed automatically.
pub(crate) struct JsonWriter {
    buf: String,
    /// True right after an opening brace: the next member needs no comma.
    first: bool,
}

impl JsonWriter {
    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        JsonWriter {
            buf: String::with_capacity(capacity),
            first: true,
        }
    }

    fn key(&mut self, key: Option<&str>) {
        if !self.first {
            self.buf.push(',');
        }
        self.first = false;
        if let Some(k) = key {
            self.string(k);
            self.buf.push(':');
        }
    }

    fn string(&mut self, s: &str) {
        self.buf.push('"');
        for c in s.chars() {
            match c {
                '"' => self.buf.push_str("\\\""),
                '\\' => self.buf.push_str("\\\\"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                '\t' => self.buf.push_str("\\t"),
                '\u{8}' => self.buf.push_str("\\b"),
                '\u{c}' => self.buf.push_str("\\f"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.buf, "\\u{:04x}", c as u32);
                }
                c => self.buf.push(c),
            }
        }
        self.buf.push('"');
    }

    /// Opens an object: the document itself (`key` None at the top) or a member.
    pub fn open(&mut self, key: Option<&str>) {
        self.key(key);
        self.buf.push('{');
        self.first = true;
    }

    /// Closes the innermost object.
    pub fn close(&mut self) {
        self.buf.push('}');
        self.first = false;
    }

    /// A string member.
    pub fn str(&mut self, key: &str, v: &str) {
        self.key(Some(key));
        self.string(v);
    }

    /// An integer member.
    pub fn int(&mut self, key: &str, v: i64) {
        self.key(Some(key));
        let _ = write!(self.buf, "{v}");
    }

    /// An unsigned integer member.
    pub fn uint(&mut self, key: &str, v: u64) {
        self.key(Some(key));
        let _ = write!(self.buf, "{v}");
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, v: bool) {
        self.key(Some(key));
        self.buf.push_str(if v { "true" } else { "false" });
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_objects_with_escaping() {
        let mut w = JsonWriter::with_capacity(64);
        w.open(None);
        w.str("name", "a\"b\\c\n\u{1}é");
        w.open(Some("inner"));
        w.close();
        w.open(Some("o"));
        w.int("i", -5);
        w.uint("u", 7);
        w.bool("b", true);
        w.close();
        w.close();
        assert_eq!(
            w.finish(),
            r#"{"name":"a\"b\\c\n\u0001é","inner":{},"o":{"i":-5,"u":7,"b":true}}"#
        );
    }
}
