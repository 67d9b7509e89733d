//! Vedetta: an emergency communication and reporting hub for civil-protection offices.
//!
//! How the modules fit together (data flows left to right):
//!
//! ```text
//! channels::ws ──┐   reports::Intake ──┐                          ┌─► ws sessions (notices,
//! channels::mqtt ┼─► notices (4 eyes) ─┼─► store (writer) ─► bus ─┤   followed reports, queue)
//! http (+Open311,│   triage, auth      ┘        │                 ├─► channels::mqtt
//!  ui pages)    ─┘        │                     └─► audit         └─► overdue alerts, expiry
//!                         └─► zones (R-tree lookup)
//! ```
//!
//! The edges (`http`, `channels`) call the domain (`reports`, `notices`, `triage`, `auth`),
//! never the store; `tests/hub/layering.rs` checks it. `ARCHITECTURE.md` is the longer map.
//!
//! - [`cli`]: the command line (`serve`, `zones import`), thin over the rest.
//! - [`config`]: defaults, TOML file, `VEDETTA_*` variables, flags; validated at start.
//! - [`addr`]: how limits count a peer address (IPv6 by its /64).
//! - [`app`]: builds the [`hub::Hub`], binds the listener, shuts down in order.
//! - [`hub`]: the bundle of services every channel holds.
//! - [`store`]: SQLite; one writer thread with group commit, read pool, migrations.
//! - [`bus`]: broadcast of events, published by the writer only after COMMIT.
//! - [`model`]: the value types every layer shares (reports, incidents, teams, notices,
//!   events, filters); it imports only errors, zones and the CAP vocabulary.
//! - [`reports`]: what a valid report is, and [`reports::Intake`], the one way in.
//! - [`zones`]: zone sets, GeoJSON import, the point-in-zone index and the place search.
//! - [`tiles`]: the zones as vector tiles, and the office's offline basemap.
//! - [`channels`]: WebSocket sessions and the MQTT client; shared frames.
//! - [`http`]: axum routes for `/api/v1`, Open311, health, the WebSocket upgrade, and the
//!   pages (the citizens' page and the console, bundled from `ui/` at build time).
//! - [`net`]: TCP connections under HTTP and WebSocket: limits, timeouts, the shared socket.
//! - [`problem`]: the error vocabulary every channel answers with.
//! - [`metrics`]: what the hub counts for Prometheus, with labels that carry no personal data.
//! - [`secret`]: bearer secrets (login and follow tokens), stored only as hashes.
//! - [`schemas`]: the JSON Schemas of the wire, embedded, and the OpenAPI document.
//! - [`cap`]: the CAP 1.2 vocabularies (status, message type, category, urgency, severity,
//!   certainty), spelled as CAP spells them.
//! - [`outbox`]: the durable outbox: deliveries written with their events, per-channel
//!   workers, retries, supersession, subscriptions (webhooks, Web Push, e-mail).
//! - [`notices`]: drafting, four-eyes approval, signing, CAP import and export, expiry.
//! - [`auth`]: accounts, sessions, the roles table (who may do and see what), the audit log.
//! - [`triage`]: statuses, reporter feedback, incidents, targets, field teams, presence,
//!   statistics, open data.
//! - [`chat`]: conversations with citizens in chats (Telegram, WhatsApp): reports in, notices and
//!   answers out, through intake and the outbox.
//! - [`clock`]: the system clock, or a hand-driven one for tests; the periodic-work loop.

#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
// Pedantic lints kept because they catch something real or keep the code uniform; the rest of
// clippy::pedantic (doc sections, must_use on every getter, casts checked at their sites) is
// left off deliberately.
#![warn(
    clippy::semicolon_if_nothing_returned,
    clippy::redundant_closure_for_method_calls,
    clippy::manual_let_else
)]

pub mod addr;
pub mod app;
pub mod auth;
pub mod bus;
pub mod cap;
pub mod channels;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod hub;
pub mod metrics;
pub mod model;
pub mod net;
pub mod notices;
pub mod outbox;
pub mod problem;
pub mod reports;
pub mod schemas;
pub mod secret;
pub(crate) mod store;

pub use store::DATABASE_FILE;

/// What the benchmarks' floors share with the hub: the same database file and the same report
/// insert, so that a floor measures exactly the work the hub does around it. Not an API.
#[doc(hidden)]
pub mod bench_floor {
    pub use crate::store::open_for_tool;
    pub use crate::store::reports::{Inserted, NewReport, insert};
}
pub mod tiles;
pub mod triage;
pub mod zones;
