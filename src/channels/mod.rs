//! The edges where reports come in and answers go out: WebSocket sessions and MQTT, the seam
//! (`outbound`) every live channel that sends notices plugs into, and the outbox's couriers
//! (webhooks, Web Push, e-mail, Telegram, WhatsApp) over their shared HTTP client.

pub mod cap_sources;
pub mod chat_text;
pub mod email;
pub mod feeds;
pub mod frames;
pub mod http_client;
pub mod mqtt;
pub mod outbound;
pub mod pacing;
pub mod service_api;
pub mod telegram;
pub mod webhook;
pub mod webpush;
pub mod whatsapp;
pub mod ws;
