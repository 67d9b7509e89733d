//! Integration tests: the real hub, a real SQLite file, a real Mosquitto, real clients.

mod support;

mod accounts;
mod bad_input;
mod broker_acl;
mod cli;
mod crash;
mod feedback;
mod field;
mod http_intake;
mod incidents;
mod lifecycle;
mod mqtt_backlog;
mod mqtt_intake;
mod notices_cap;
mod notices_channels;
mod notices_workflow;
mod open311;
mod open_data;
mod overdue;
mod rate_limits;
mod triage;
mod ui;
mod ws_intake;
mod zones;
