//! The edges where reports come in and answers go out: WebSocket sessions and MQTT.

pub mod feeds;
pub mod frames;
pub mod mqtt;
pub mod ws;
