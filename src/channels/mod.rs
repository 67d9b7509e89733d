//! The edges where reports come in and answers go out: WebSocket sessions and MQTT, and the
//! seam (`outbound`) every channel that sends notices plugs into.

pub mod feeds;
pub mod frames;
pub mod mqtt;
pub mod outbound;
pub mod ws;
