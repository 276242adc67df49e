//! The mio driver around the engine, and the decompression pool.

pub(crate) mod decompress;
