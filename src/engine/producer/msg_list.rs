//! The messages of a batch, in chunks of fixed size: a batch of any length wastes at most one
//! partly filled chunk, where a growing `Vec` would keep up to half its capacity unused and
//! copy everything at each doubling.

use super::accumulator::PendingMsg;

/// Messages per chunk: 256 x 112 bytes stays below glibc's 64 KiB consolidation threshold.
const CHUNK: usize = 256;

/// An append-only list of a batch's messages.
#[derive(Default)]
pub(crate) struct MsgList {
    chunks: Vec<Vec<PendingMsg>>,
    len: usize,
}

impl MsgList {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn first(&self) -> Option<&PendingMsg> {
        self.chunks.first().and_then(|c| c.first())
    }

    pub fn push(&mut self, m: PendingMsg) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(m),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(m);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut PendingMsg> {
        self.chunks.iter_mut().flatten()
    }
}

impl IntoIterator for MsgList {
    type Item = PendingMsg;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<PendingMsg>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(i: usize) -> PendingMsg {
        PendingMsg {
            key: None,
            value: None,
            headers: Vec::new(),
            timestamp: i as i64,
            opaque: i,
            reply: None,
        }
    }

    #[test]
    fn keeps_order_across_chunks() {
        let mut l = MsgList::default();
        assert!(l.is_empty() && l.first().is_none());
        for i in 0..(CHUNK * 2 + 3) {
            l.push(msg(i));
        }
        assert_eq!(l.len(), CHUNK * 2 + 3);
        assert_eq!(l.chunks.len(), 3);
        assert_eq!(l.first().map(|m| m.opaque), Some(0));
        for m in l.iter_mut() {
            m.timestamp += 1;
        }
        let got: Vec<(usize, i64)> = l.into_iter().map(|m| (m.opaque, m.timestamp)).collect();
        let want: Vec<(usize, i64)> = (0..(CHUNK * 2 + 3)).map(|i| (i, i as i64 + 1)).collect();
        assert_eq!(got, want);
    }
}
