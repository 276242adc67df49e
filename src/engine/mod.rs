//! Sans-IO client state machines: they take bytes, commands and `now`, and return bytes to send,
//! events for the application and their next deadline.

pub(crate) mod assignor;
