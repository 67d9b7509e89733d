//! A local stand-in for the WhatsApp Business Cloud API (Meta's Graph API): it owns Meta's side
//! of a business number — messages the hub sends, checked and refused as Meta refuses them (the
//! 24-hour window, templates, rate limits, blocked users), media to download, and the signed
//! webhook notifications of what users send — so the hub's WhatsApp channel is tested offline.
#![allow(dead_code, reason = "tests and a benchmark each use part of it")]

#[path = "whatsapp_checks.rs"]
mod checks;
#[path = "whatsapp_server.rs"]
mod server;
#[path = "whatsapp_waits.rs"]
mod waits;
#[path = "whatsapp_webhooks.rs"]
mod webhooks;

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The business account the notifications come from, and the number's display form.
const WABA_ID: &str = "102290129340398";
const DISPLAY_PHONE_NUMBER: &str = "15550001111";
/// How long after a user's last message the business may write to them freely.
const SERVICE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
/// Cloud API throughput: messages per second overall, and per 6 seconds to one user.
const META_LIMITS: Limits = Limits {
    per_second: 80,
    per_recipient_per_6s: 1,
};
/// Retries of a webhook notification the hub did not answer with 2xx.
const WEBHOOK_RETRIES: u32 = 5;

/// The Graph API as the hub sees it, on 127.0.0.1, and Meta's webhook sender; stopped when
/// dropped (new connections are refused, open ones break at their next use).
pub struct CloudApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

/// A message Meta accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    /// 1 for the first message accepted, then one more for each.
    pub seq: u64,
    pub at: Instant,
    /// The recipient's wa_id.
    pub to: String,
    /// The message's `type`: `text`, `interactive`, `template`, `location` or `image`.
    pub kind: String,
    /// A text's body, an interactive message's body text, an image's caption, a location's
    /// name and address (or `lat,lon`), or a template's name and parameters (`name: a | b`).
    pub text: String,
    /// The request body as sent.
    pub body: Value,
    /// The id Meta gave the message (`wamid.…`).
    pub wamid: String,
}

impl Sent {
    /// An interactive message's choices, `(id, title)`: its reply buttons or its list's rows.
    pub fn choices(&self) -> Vec<(String, String)> {
        let action = &self.body["interactive"]["action"];
        let buttons = action["buttons"].as_array().into_iter().flatten();
        let buttons = buttons.map(|button| &button["reply"]);
        let sections = action["sections"].as_array().into_iter().flatten();
        let rows = sections.flat_map(|section| section["rows"].as_array().into_iter().flatten());
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        buttons
            .chain(rows)
            .map(|choice| (text(&choice["id"]), text(&choice["title"])))
            .collect()
    }
}

/// One request to the Graph API, answered or refused.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, e.g. `/v21.0/106540352242922/messages`.
    pub path: String,
    /// The JSON body (null if none or not JSON).
    pub body: Value,
    pub status: u16,
    /// Meta's error code, if refused (100, 190, 131047, …).
    pub code: Option<u64>,
    /// Meta's error message and details, if refused.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    per_second: u32,
    per_recipient_per_6s: u32,
}

struct Shared {
    access_token: String,
    phone_number_id: String,
    /// `http://127.0.0.1:PORT`.
    base_url: String,
    state: Mutex<State>,
    /// How many messages were accepted.
    sent_count: watch::Sender<usize>,
    /// Posts notifications to the webhook and the handshake.
    http: reqwest::Client,
    /// Set when the stand-in is dropped: its connections break.
    stopped: AtomicBool,
}

impl super::standin_listener::Stoppable for Shared {
    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

struct Media {
    mime_type: String,
    bytes: bytes::Bytes,
}

#[derive(Clone)]
struct Webhook {
    url: String,
    app_secret: String,
}

struct State {
    /// Approved templates: (name, language code) to the number of body parameters.
    templates: HashMap<(String, String), usize>,
    media: HashMap<String, Media>,
    /// When each user last wrote (or a test opened their window).
    last_inbound: HashMap<String, Instant>,
    blocked: HashSet<String>,
    limits: Limits,
    /// When accepted messages were sent, overall and by recipient, within their windows.
    overall_window: VecDeque<Instant>,
    pair_windows: HashMap<String, VecDeque<Instant>>,
    sent: Vec<Sent>,
    /// Free-form messages accepted outside the user's window, (wamid, to): each failed with
    /// 131047 in a status notification.
    refused_later: Vec<(String, String)>,
    refused_rate: u64,
    /// How many messages to each user `next_message_to` has returned.
    cursors: HashMap<String, usize>,
    calls: Vec<Call>,
    /// Message ids the hub marked as read.
    marked_read: Vec<String>,
    /// Keep of each accepted message only when and to whom (a benchmark's long run).
    lean: bool,
    webhook: Option<Webhook>,
    retries: u32,
    /// Each notification posted, by the id of the message it carries, for redelivery.
    notifications: HashMap<String, Vec<u8>>,
    /// Users' profile names, as they last gave them.
    names: HashMap<String, String>,
    /// Each webhook POST: the message id (or `raw`) and the HTTP status or the error.
    webhook_attempts: Vec<(String, Result<u16, String>)>,
    last_status: Option<u16>,
}

impl CloudApi {
    /// Starts on 127.0.0.1:0 for this access token and business phone number id, with Meta's
    /// limits (80 messages/s overall, 1 message per 6 s to a user), no templates, no media, and
    /// every user's service window closed.
    pub async fn start(access_token: &str, phone_number_id: &str) -> CloudApi {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client for webhooks");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("the bound address");
        let state = State {
            templates: HashMap::new(),
            media: HashMap::new(),
            last_inbound: HashMap::new(),
            blocked: HashSet::new(),
            limits: META_LIMITS,
            overall_window: VecDeque::new(),
            pair_windows: HashMap::new(),
            sent: Vec::new(),
            refused_later: Vec::new(),
            refused_rate: 0,
            cursors: HashMap::new(),
            calls: Vec::new(),
            marked_read: Vec::new(),
            lean: false,
            webhook: None,
            retries: WEBHOOK_RETRIES,
            notifications: HashMap::new(),
            names: HashMap::new(),
            webhook_attempts: Vec::new(),
            last_status: None,
        };
        let shared = Arc::new(Shared {
            access_token: access_token.to_owned(),
            phone_number_id: phone_number_id.to_owned(),
            base_url: format!("http://{addr}"),
            state: Mutex::new(state),
            sent_count: watch::Sender::new(0),
            http,
            stopped: AtomicBool::new(false),
        });
        let app = server::router(shared.clone());
        let listener = super::standin_listener::Listener {
            listener,
            shared: shared.clone(),
        };
        let serve = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the Cloud API stand-in serves");
        });
        CloudApi {
            shared,
            addr,
            tasks: vec![serve],
        }
    }

    /// `http://127.0.0.1:PORT`; the hub appends `/{version}/{phone_number_id}/messages`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn access_token(&self) -> &str {
        &self.shared.access_token
    }

    pub fn phone_number_id(&self) -> &str {
        &self.shared.phone_number_id
    }

    /// Approves a template in a language (`it`, `en`, …) with this many body parameters.
    pub fn add_template(&self, name: &str, language: &str, body_params: usize) {
        let key = (name.to_owned(), language.to_owned());
        self.shared.lock().templates.insert(key, body_params);
    }

    /// Makes a media object downloadable: `GET /{version}/{media_id}`, then its url.
    pub fn add_media(&self, media_id: &str, mime_type: &str, bytes: Vec<u8>) {
        let media = Media {
            mime_type: mime_type.to_owned(),
            bytes: bytes.into(),
        };
        self.shared.lock().media.insert(media_id.to_owned(), media);
    }

    /// Opens (or refreshes) a user's 24-hour window, as a message from them would.
    pub fn open_window(&self, wa_id: &str) {
        let now = Instant::now();
        self.shared
            .lock()
            .last_inbound
            .insert(wa_id.to_owned(), now);
    }

    /// Closes a user's window, as if their last message were more than 24 hours old.
    pub fn close_window(&self, wa_id: &str) {
        self.shared.lock().last_inbound.remove(wa_id);
    }

    /// The users free-form messages were accepted for outside their window, and then failed
    /// (131047) in a status notification, in order.
    pub fn refused_later(&self) -> Vec<String> {
        let state = self.shared.lock();
        state
            .refused_later
            .iter()
            .map(|(_, to)| to.clone())
            .collect()
    }

    /// From now on, messages to this user answer 131026 "Message undeliverable".
    pub fn block(&self, wa_id: &str) {
        self.shared.lock().blocked.insert(wa_id.to_owned());
    }

    pub fn unblock(&self, wa_id: &str) {
        self.shared.lock().blocked.remove(wa_id);
    }

    /// Messages per second overall (else 130429) and per 6 seconds to one user (else 131056).
    pub fn set_limits(&self, per_second: u32, per_recipient_per_6s: u32) {
        self.shared.lock().limits = Limits {
            per_second,
            per_recipient_per_6s,
        };
    }

    /// How many times a notification the hub did not answer with 2xx is posted again (5).
    pub fn set_retries(&self, retries: u32) {
        self.shared.lock().retries = retries;
    }

    /// From now on keeps of each accepted message only its time, recipient and kind, of each
    /// call only refusals, and of notifications nothing for redelivery, so that a long benchmark
    /// measures the hub's memory rather than this log.
    pub fn keep_only_times(&self) {
        self.shared.lock().lean = true;
    }

    /// Every message accepted so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    /// Messages refused by a rate limit (130429 or 131056) so far.
    pub fn refused_rate(&self) -> u64 {
        self.shared.lock().refused_rate
    }

    /// `refused_rate`, under the Telegram stand-in's name (Meta answers 400, never 429).
    pub fn refused_429(&self) -> u64 {
        self.refused_rate()
    }

    /// Every request so far, answered or refused, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// The ids of messages the hub marked as read, in order.
    pub fn marked_read(&self) -> Vec<String> {
        self.shared.lock().marked_read.clone()
    }
}

impl Drop for CloudApi {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
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
    fn window_open(&self, wa_id: &str, now: Instant) -> bool {
        self.last_inbound
            .get(wa_id)
            .is_some_and(|&at| now.saturating_duration_since(at) < SERVICE_WINDOW)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// A fresh random number (std's per-process hash keys, mixed with a counter).
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A new message id, unique in the process, shaped like Meta's.
fn new_wamid() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("wamid.HBgLMzkzMzMx{:016X}{n:08X}", random())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 15)] as char);
    }
    text
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}
