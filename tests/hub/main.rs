//! Integration tests: the real hub, a real SQLite file, a real Mosquitto, real clients.

mod support;

mod bad_input;
mod cli;
mod http_intake;
mod lifecycle;
mod mqtt_intake;
mod open311;
mod rate_limits;
mod ws_intake;
mod zones;
