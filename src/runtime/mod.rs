//! The mio driver around the engine, and the decompression pool.

pub(crate) mod decompress;
pub(crate) mod event_loop;
