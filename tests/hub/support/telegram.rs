//! A local stand-in for the Telegram Bot API: it owns the bot's side of Telegram (updates
//! queued for getUpdates or a webhook, messages accepted or refused with Telegram's answers and
//! rate limits, files to download), so the hub's bot is tested end to end without the internet.
#![allow(
    dead_code,
    reason = "shared by the hub's tests and a bench, each using part of it"
)]

#[path = "telegram_checks.rs"]
mod checks;
#[path = "telegram_server.rs"]
mod server;
#[path = "telegram_updates.rs"]
mod updates;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Telegram's limits: messages per second overall, per second to one private chat, per minute
/// to one group or channel.
const TELEGRAM_LIMITS: Limits = Limits {
    global_per_sec: 30,
    per_chat_per_sec: 1,
    per_group_per_min: 20,
};

/// The Bot API as the hub sees it, on 127.0.0.1; stopped when dropped (new connections are
/// refused, open ones break at their next use, long polls end).
pub struct BotApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

/// A message Telegram accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    /// 1 for the first message accepted, then one more for each.
    pub seq: u64,
    pub at: Instant,
    pub chat_id: i64,
    /// The text as sent (HTML or Markdown not parsed); a photo's caption.
    pub text: String,
    pub reply_markup: Option<Value>,
    /// `sendMessage` or `sendPhoto`.
    pub method: String,
    pub parse_mode: Option<String>,
    /// The id Telegram gave the message.
    pub message_id: i64,
}

/// One call to the API, answered or refused.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The parameters, from the query string and the body.
    pub params: Value,
    pub status: u16,
    /// Why it was refused (Telegram's description), if it was.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    global_per_sec: u32,
    per_chat_per_sec: u32,
    per_group_per_min: u32,
}

struct Shared {
    token: String,
    state: Mutex<State>,
    /// Bumped whenever the update queue, the webhook or the long polls change.
    changed: watch::Sender<u64>,
    /// How many messages were accepted.
    sent_count: watch::Sender<usize>,
    /// Posts updates to the webhook.
    http: reqwest::Client,
    /// Set when the stand-in is dropped: its connections break and its long polls end.
    stopped: AtomicBool,
}

impl super::standin_listener::Stoppable for Shared {
    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

struct Queued {
    /// Tells this entry from a redelivery of the same update.
    key: u64,
    update_id: i64,
    update: Value,
    /// Re-queued by `redeliver` and not returned since: kept although an offset confirmed it.
    redelivered: bool,
}

#[derive(Clone, PartialEq)]
struct Webhook {
    url: String,
    secret: Option<String>,
}

struct StoredFile {
    bytes: bytes::Bytes,
    path: String,
    unique_id: String,
}

struct State {
    next_update_id: i64,
    next_key: u64,
    queue: VecDeque<Queued>,
    /// Every update pushed, by id, for redelivery.
    history: HashMap<i64, Value>,
    /// Update kinds the bot asked for (getUpdates or setWebhook `allowed_updates`).
    allowed_updates: Option<Vec<String>>,
    webhook: Option<Webhook>,
    /// The last failed webhook delivery: unix time and why.
    webhook_error: Option<(u64, String)>,
    /// Each webhook delivery attempt: the update and the HTTP status or the connection error.
    webhook_attempts: Vec<(i64, Result<u16, String>)>,
    /// Counts getUpdates requests; a poll that sees a newer one ends with 409.
    poll_generation: u64,
    polls_waiting: usize,
    files: HashMap<String, StoredFile>,
    blocked: HashSet<i64>,
    limits: Limits,
    /// When accepted messages were sent, overall and by chat, within their windows.
    global_window: VecDeque<Instant>,
    chat_windows: HashMap<i64, VecDeque<Instant>>,
    /// `@channelname` chat ids, as the negative ids this stand-in gave them.
    channels: HashMap<String, i64>,
    sent: Vec<Sent>,
    refused_429: u64,
    /// How many messages to each chat `next_message_to` has returned.
    cursors: HashMap<i64, usize>,
    calls: Vec<Call>,
    next_message_id: i64,
    /// Keep of each accepted message only when and to whom (a benchmark's long run).
    lean: bool,
}

impl BotApi {
    /// Starts on 127.0.0.1:0 with this bot token. Limits default to Telegram's: 30 messages/s
    /// overall, 1 message/s per private chat (positive ids), 20 messages/min per group or
    /// channel (negative ids).
    pub async fn start(token: &str) -> BotApi {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client for webhooks");
        let state = State {
            next_update_id: 1000,
            next_key: 0,
            queue: VecDeque::new(),
            history: HashMap::new(),
            allowed_updates: None,
            webhook: None,
            webhook_error: None,
            webhook_attempts: Vec::new(),
            poll_generation: 0,
            polls_waiting: 0,
            files: HashMap::new(),
            blocked: HashSet::new(),
            limits: TELEGRAM_LIMITS,
            global_window: VecDeque::new(),
            chat_windows: HashMap::new(),
            channels: HashMap::new(),
            sent: Vec::new(),
            refused_429: 0,
            cursors: HashMap::new(),
            calls: Vec::new(),
            next_message_id: 1,
            lean: false,
        };
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            state: Mutex::new(state),
            changed: watch::Sender::new(0),
            sent_count: watch::Sender::new(0),
            http,
            stopped: AtomicBool::new(false),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("the bound address");
        let app = server::router(shared.clone());
        let listener = super::standin_listener::Listener {
            listener,
            shared: shared.clone(),
        };
        let serve = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the Bot API stand-in serves");
        });
        let deliver = tokio::spawn(updates::deliver_to_webhook(shared.clone()));
        BotApi {
            shared,
            addr,
            tasks: vec![serve, deliver],
        }
    }

    /// `http://127.0.0.1:PORT`, the hub's `api_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Queues an update (an object without `update_id`, e.g. `{"message": {...}}`) for
    /// getUpdates, or for the webhook when one is set; returns its update_id (from 1000 on).
    pub fn push_update(&self, update: Value) -> i64 {
        let Value::Object(mut update) = update else {
            panic!("an update is a JSON object, not {update}");
        };
        let kind = update.keys().next().cloned().unwrap_or_default();
        let mut state = self.shared.lock();
        let update_id = state.next_update_id;
        state.next_update_id += 1;
        update.insert("update_id".into(), json!(update_id));
        let update = Value::Object(update);
        state.history.insert(update_id, update.clone());
        let wanted = match &state.allowed_updates {
            Some(kinds) => kinds.contains(&kind),
            None => !matches!(
                kind.as_str(),
                "chat_member" | "message_reaction" | "message_reaction_count"
            ),
        };
        if wanted {
            state.enqueue(update_id, update, false);
            drop(state);
            self.shared.changed.send_modify(|n| *n += 1);
        }
        update_id
    }

    /// Queues an update already pushed again, with the same update_id, as Telegram does when it
    /// did not learn that the bot took it; getUpdates returns it once even below the offset.
    pub fn redeliver(&self, update_id: i64) {
        let mut state = self.shared.lock();
        let update = state.history.get(&update_id).cloned();
        let update = update.unwrap_or_else(|| panic!("no update {update_id} was pushed"));
        state.enqueue(update_id, update, true);
        drop(state);
        self.shared.changed.send_modify(|n| *n += 1);
    }

    /// Makes a file downloadable through getFile and `/file/bot<token>/<path>`.
    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>) {
        let mut state = self.shared.lock();
        let n = state.files.len() + 1;
        let file = StoredFile {
            bytes: bytes.into(),
            path: format!("photos/file_{n}.jpg"),
            unique_id: format!("AQAD{n}"),
        };
        state.files.insert(file_id.to_owned(), file);
    }

    /// From now on, messages to this chat answer 403 "Forbidden: bot was blocked by the user".
    pub fn block(&self, chat_id: i64) {
        self.shared.lock().blocked.insert(chat_id);
    }

    pub fn unblock(&self, chat_id: i64) {
        self.shared.lock().blocked.remove(&chat_id);
    }

    /// Messages per second overall, per second to a private chat, per minute to a group.
    pub fn set_limits(&self, global_per_sec: u32, per_chat_per_sec: u32, per_group_per_min: u32) {
        self.shared.lock().limits = Limits {
            global_per_sec,
            per_chat_per_sec,
            per_group_per_min,
        };
    }

    /// From now on keeps of each accepted message only its time and chat, and of each call only
    /// refusals, so that a long benchmark measures the hub's memory rather than this log.
    pub fn keep_only_times(&self) {
        self.shared.lock().lean = true;
    }

    /// Every message accepted so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    /// Messages refused with 429 so far.
    pub fn refused_429(&self) -> u64 {
        self.shared.lock().refused_429
    }

    /// Every call so far, answered or refused, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Updates queued and not yet confirmed (getUpdates) or delivered (webhook).
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// The webhook currently set: its url and secret token.
    pub fn webhook(&self) -> Option<(String, Option<String>)> {
        self.shared
            .lock()
            .webhook
            .clone()
            .map(|hook| (hook.url, hook.secret))
    }

    /// Each webhook delivery attempt so far: the update_id and the HTTP status or the error.
    pub fn webhook_attempts(&self) -> Vec<(i64, Result<u16, String>)> {
        self.shared.lock().webhook_attempts.clone()
    }

    /// Waits (up to `timeout`) for the next accepted message to `chat_id` not returned yet: the
    /// Nth call for a chat returns the Nth message sent to it.
    pub async fn next_message_to(&self, chat_id: i64, timeout: Duration) -> Sent {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut count = self.shared.sent_count.subscribe();
        loop {
            {
                let mut state = self.shared.lock();
                let cursor = state.cursors.get(&chat_id).copied().unwrap_or(0);
                let next = state
                    .sent
                    .iter()
                    .filter(|sent| sent.chat_id == chat_id)
                    .nth(cursor)
                    .cloned();
                if let Some(sent) = next {
                    state.cursors.insert(chat_id, cursor + 1);
                    return sent;
                }
            }
            if tokio::time::timeout_at(deadline, count.changed())
                .await
                .is_err()
            {
                let state = self.shared.lock();
                let cursor = state.cursors.get(&chat_id).copied().unwrap_or(0);
                panic!(
                    "no message {} to chat {chat_id} within {timeout:?}; sent to it:\n{}\n\
                     refused calls about it:\n{}",
                    cursor + 1,
                    describe(state.sent.iter().filter(|sent| sent.chat_id == chat_id)),
                    state.refusals(Some(chat_id)),
                );
            }
        }
    }

    /// Waits (up to `timeout`) until `n` messages in total were accepted; returns them all.
    pub async fn wait_for_sent(&self, n: usize, timeout: Duration) -> Vec<Sent> {
        let mut count = self.shared.sent_count.subscribe();
        let reached = tokio::time::timeout(timeout, count.wait_for(|&sent| sent >= n)).await;
        let state = self.shared.lock();
        if reached.is_err() {
            panic!(
                "{} messages accepted within {timeout:?}, not {n}:\n{}\nrefused calls:\n{}",
                state.sent.len(),
                describe(state.sent.iter()),
                state.refusals(None),
            );
        }
        state.sent.clone()
    }

    /// Waits (up to `timeout`) until a getUpdates long poll is waiting for news.
    pub async fn wait_for_long_poll(&self, timeout: Duration) {
        let mut changed = self.shared.changed.subscribe();
        let waiting = changed.wait_for(|_| self.shared.lock().polls_waiting > 0);
        let waiting = tokio::time::timeout(timeout, waiting).await;
        assert!(
            waiting.is_ok(),
            "no getUpdates long poll within {timeout:?}"
        );
    }

    /// Waits (up to `timeout`) until no update is queued: all confirmed or delivered.
    pub async fn wait_for_no_pending_updates(&self, timeout: Duration) {
        let mut changed = self.shared.changed.subscribe();
        let drained = changed.wait_for(|_| self.shared.lock().queue.is_empty());
        if tokio::time::timeout(timeout, drained).await.is_err() {
            let state = self.shared.lock();
            let ids: Vec<i64> = state.queue.iter().map(|queued| queued.update_id).collect();
            panic!(
                "updates {ids:?} still pending after {timeout:?}; webhook attempts: {:?}",
                state.webhook_attempts
            );
        }
    }
}

impl Drop for BotApi {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.changed.send_modify(|n| *n += 1);
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn enqueue(&mut self, update_id: i64, update: Value, redelivered: bool) {
        self.next_key += 1;
        self.queue.push_back(Queued {
            key: self.next_key,
            update_id,
            update,
            redelivered,
        });
    }

    /// Refused calls, about one chat or all, a line each.
    fn refusals(&self, chat_id: Option<i64>) -> String {
        let lines: Vec<String> = self
            .calls
            .iter()
            .filter(|call| call.error.is_some())
            .filter(|call| {
                chat_id.is_none_or(|id| {
                    call.params["chat_id"].to_string().trim_matches('"') == id.to_string()
                })
            })
            .map(|call| {
                format!(
                    "  {} {} {}: {}",
                    call.status,
                    call.method,
                    call.params,
                    call.error.as_deref().unwrap_or("")
                )
            })
            .collect();
        if lines.is_empty() {
            "  (none)".into()
        } else {
            lines.join("\n")
        }
    }
}

fn describe<'a>(sent: impl Iterator<Item = &'a Sent>) -> String {
    let lines: Vec<String> = sent
        .map(|sent| {
            format!(
                "  #{} {} to {}: {:?} {:?}",
                sent.seq, sent.method, sent.chat_id, sent.text, sent.reply_markup
            )
        })
        .collect();
    if lines.is_empty() {
        "  (nothing)".into()
    } else {
        lines.join("\n")
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The bot as a User; `getMe` adds what only it answers.
fn bot_user(token: Option<&str>) -> Value {
    let id = token
        .and_then(|token| token.split(':').next()?.parse::<i64>().ok())
        .unwrap_or(7_000_000_001);
    json!({"id": id, "is_bot": true, "first_name": "Vedetta test", "username": "vedetta_test_bot"})
}
