//! What handling one message from the broker comes to: settled (with a reply to publish
//! first, perhaps), or to be tried again.

/// What became of one attempt at a message.
pub(super) enum Handled {
    /// Done (stored, or refused): publish the reply, if any, then acknowledge it.
    Settled(Option<Reply>),
    /// The hub failed (the database, say): try again, then acknowledge.
    Retry,
}

/// A QoS 1 publish a handler asks for (an answer to a device, a correction of a retained
/// notice). It is queued after the handler's permit is given back, and before the PUBACK.
pub(super) struct Reply {
    pub(super) topic: String,
    pub(super) retain: bool,
    pub(super) payload: Vec<u8>,
}
