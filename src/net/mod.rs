//! TCP connections below HTTP and WebSocket: their limits, and the socket as hyper and an
//! upgraded WebSocket session share it.

mod io;
mod limits;

pub use io::{ServerIo, timeout_answer};
pub use limits::{ConnectionLimits, ConnectionSlot, Refused};
