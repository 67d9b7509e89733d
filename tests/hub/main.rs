//! Integration tests: the real hub, a real SQLite file, a real Mosquitto, real clients.

mod support;

mod accounts;
mod bad_input;
mod broker_acl;
mod cli;
mod crash;
mod feedback;
mod field;
mod follow_tokens;
mod http_intake;
mod http_refusals;
mod incidents;
mod lifecycle;
mod login_abuse;
mod metrics;
mod mqtt_backlog;
mod mqtt_intake;
mod notice_cancellation;
mod notices_cap;
mod notices_channels;
mod notices_workflow;
mod open311;
mod open311_privacy;
mod open_data;
mod overdue;
mod presence;
mod rate_limits;
mod roles;
mod tiles;
mod triage;
mod ui;
mod wide_area;
mod ws_intake;
mod ws_limits;
mod zones;
