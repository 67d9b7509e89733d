//! Conversations with citizens in chats (Telegram, WhatsApp): one engine behind every chat service. A
//! message from a chat moves its dialog on (`dialog.rs`); reports go through the same intake as
//! every channel, and every answer is written with the turn and sent through the outbox.

mod acts;
mod dialog;
mod replies;
mod words;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;

use crate::auth::{Action as StaffAction, Staff};
use crate::clock::SharedClock;
use crate::model::{ChatMessage, ChatRef, ChatService, IncomingChat};
use crate::notices::Notices;
use crate::outbox::{Outbox, enqueue_chat_message};
use crate::problem::{ErrorCode, Problem};
use crate::reports::Intake;
use crate::store::chats::{self as chat_rows, Direction};
use crate::store::{Store, StoreError};
use crate::zones::ZoneDirectory;
use dialog::{Action, Context, Dialog, Known, Turn};

/// Messages one chat may send per minute before the bot stops reading it for a while.
const TURNS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(20).expect("not zero");
/// Chats' turn locks kept before the idle ones are dropped.
const TURN_LOCKS_KEPT: usize = 1024;
/// How long a taken update's id is remembered: services redeliver within a day.
const REMEMBER_UPDATES_DAYS: i64 = 7;

/// What the conversations are told at start.
#[derive(Debug, Clone)]
pub struct ChatSettings {
    pub default_language: String,
    /// Said with every report of a life-safety category.
    pub emergency_number: String,
}

/// The conversation engine. Cheap to clone; every chat edge holds one.
#[derive(Clone)]
pub struct Conversations {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    intake: Intake,
    outbox: Outbox,
    notices: Notices,
    zones: ZoneDirectory,
    clock: SharedClock,
    settings: ChatSettings,
    /// One turn at a time per chat: its messages are answered in the order they came, and a
    /// redelivered update is recognised however the two arrive; other chats go on meanwhile.
    turns: std::sync::Mutex<HashMap<ChatRef, Arc<tokio::sync::Mutex<()>>>>,
    per_chat: DefaultKeyedRateLimiter<ChatRef>,
    /// "You are writing too fast" is said at most once a minute per chat.
    warned: DefaultKeyedRateLimiter<ChatRef>,
}

/// One message of a report's conversation, as the staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct ChatLine {
    /// `in` from the citizen, `out` from the office.
    pub direction: &'static str,
    pub text: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Conversations {
    pub fn new(
        store: Store,
        services: (Intake, Outbox, Notices),
        zones: ZoneDirectory,
        clock: SharedClock,
        settings: ChatSettings,
    ) -> Conversations {
        let (intake, outbox, notices) = services;
        Conversations {
            inner: Arc::new(Inner {
                store,
                intake,
                outbox,
                notices,
                zones,
                clock,
                settings,
                turns: std::sync::Mutex::new(HashMap::new()),
                per_chat: RateLimiter::keyed(Quota::per_minute(TURNS_PER_MINUTE)),
                warned: RateLimiter::keyed(Quota::per_minute(NonZeroU32::MIN)),
            }),
        }
    }

    /// The largest photo a report may carry: an edge checks it before downloading one.
    pub fn photo_limit(&self) -> usize {
        self.inner.intake.rules().limits.max_photo_bytes
    }

    /// The service says the message it named `message_id` failed because the person's reply
    /// window had closed (WhatsApp's 131047, after accepting it, at `failed_at`): the delivery
    /// is tried again at once and the chat marked closed, unless the person wrote after that
    /// failure (a notification posted late or twice), so the courier chooses the approved
    /// template.
    pub async fn reply_window_closed(
        &self,
        chat: ChatRef,
        message_id: &str,
        failed_at: Option<DateTime<Utc>>,
    ) -> Result<(), Problem> {
        let (message_id, now) = (message_id.to_owned(), self.inner.clock.now());
        let failed_ms = failed_at.unwrap_or(now).timestamp_millis();
        let channel = chat.service.channel();
        let retried = self
            .inner
            .store
            .write(move |ctx| -> Result<bool, StoreError> {
                let error = "the person's 24 hours had passed; sending the approved template";
                let retried =
                    crate::outbox::retry_refused_later(ctx, channel, &message_id, error, now)?;
                let now_ms = now.timestamp_millis();
                chat_rows::close_reply_window(ctx.conn(), &chat, now_ms, failed_ms)?;
                Ok(retried)
            })
            .await?;
        if retried {
            self.inner.outbox.wake();
        }
        Ok(())
    }

    /// Whether a service's update was already taken in: an edge asks before fetching what the
    /// update carries (a photo), so a redelivery costs no download.
    pub async fn already_taken(&self, service: ChatService, key: &str) -> Result<bool, Problem> {
        let key = key.to_owned();
        Ok(self
            .inner
            .store
            .read(move |conn| chat_rows::update_taken(conn, service, &key))
            .await?)
    }

    /// Takes one update from a chat and answers it. A redelivered update changes nothing.
    pub async fn receive(&self, incoming: IncomingChat) -> Result<(), Problem> {
        let turn = self.turn_of(&incoming.chat);
        let _turn = turn.lock().await;
        let (chat, key) = (incoming.chat.clone(), incoming.update_key.clone());
        let known = self.stored(&chat, &key).await?;
        let Some(known) = known else {
            return Ok(());
        };
        if self.inner.per_chat.check_key(&chat).is_err() {
            let warn = self.inner.warned.check_key(&chat).is_ok();
            return self.too_fast(chat, key, known, warn).await;
        }
        let known = known.and_then(|(language, dialog)| {
            let dialog = serde_json::from_str::<Dialog>(&dialog).ok()?;
            Some(Known { dialog, language })
        });
        let said = replies::in_words(&incoming.input);
        let turn = {
            let zones = self.inner.zones.snapshot();
            let context = Context {
                zones: &zones,
                catalog: &self.inner.intake.rules().catalog,
                default_language: &self.inner.settings.default_language,
                max_text_chars: self.inner.intake.rules().limits.max_text_chars,
            };
            dialog::turn(
                known,
                incoming.input,
                incoming.language_hint.as_deref(),
                &context,
            )
        };
        self.carry_out(chat, key, said, turn).await
    }

    /// The lock of a chat's turns; locks no turn holds are dropped as new ones are made.
    fn turn_of(&self, chat: &ChatRef) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.inner.turns.lock().expect("turns lock");
        if turns.len() > TURN_LOCKS_KEPT {
            turns.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        turns.entry(chat.clone()).or_default().clone()
    }

    /// The chat as stored (`Some(None)` for a new one), or `None` when this update was
    /// already taken in.
    async fn stored(
        &self,
        chat: &ChatRef,
        key: &str,
    ) -> Result<Option<Option<(String, String)>>, Problem> {
        let (chat, key) = (chat.clone(), key.to_owned());
        Ok(self
            .inner
            .store
            .read(move |conn| -> Result<_, StoreError> {
                if chat_rows::update_taken(conn, chat.service, &key)? {
                    return Ok(None);
                }
                Ok(Some(chat_rows::get(conn, &chat)?))
            })
            .await?)
    }

    /// Does what the turn asks, then writes the turn, the messages and their deliveries at once.
    async fn carry_out(
        &self,
        chat: ChatRef,
        key: String,
        said: String,
        turn: Turn,
    ) -> Result<(), Problem> {
        let Turn {
            mut dialog,
            language,
            mut replies,
            action,
        } = turn;
        let mut report_id = None;
        let forget = matches!(action, Action::Forget);
        match action {
            Action::Nothing | Action::Forget => {}
            Action::Submit(draft) => match self.submit(&chat, &key, draft, &language).await {
                Ok((id, ack)) => {
                    dialog.reported();
                    report_id = Some(id);
                    replies.extend(ack);
                }
                // The hub's own trouble: the update is not taken, so the service brings it again.
                Err(problem) if problem.code.http_status() >= 500 => return Err(problem),
                Err(problem) => replies.push(replies::not_stored(&problem, &language)),
            },
            Action::ShowNotices(place) => replies.extend(self.notices_at(&place, &language).await?),
            Action::Subscribe(place) => {
                replies.push(self.subscribe(&chat, &place, &language).await?);
            }
        }
        if chat.service.prefers_one_answer() {
            replies = replies::joined(replies);
        }
        let dialog = serde_json::to_string(&dialog).expect("a dialog serializes");
        let now = self.inner.clock.now();
        self.inner
            .store
            .write(move |ctx| -> Result<(), StoreError> {
                let conn = ctx.conn();
                if !chat_rows::take_update(conn, chat.service, &key, now.timestamp_millis())? {
                    return Ok(());
                }
                if forget {
                    chat_rows::forget(conn, &chat)?;
                } else {
                    chat_rows::put(conn, &chat, &language, &dialog, now.timestamp_millis())?;
                    chat_rows::append_message(
                        conn,
                        &chat,
                        Direction::In,
                        None,
                        &said,
                        now.timestamp_millis(),
                    )?;
                }
                for reply in &replies {
                    let body = serde_json::to_string(reply).expect("a chat message serializes");
                    let id = chat_rows::append_message(
                        conn,
                        &chat,
                        Direction::Out,
                        None,
                        &body,
                        now.timestamp_millis(),
                    )?;
                    enqueue_chat_message(ctx, &chat, id, now)?;
                }
                if let Some(report_id) = report_id {
                    chat_rows::tie_to_report(conn, &chat, &report_id)?;
                }
                Ok(())
            })
            .await?;
        self.inner.outbox.wake();
        Ok(())
    }

    /// Takes the update without reading it; says why, at most once a minute.
    async fn too_fast(
        &self,
        chat: ChatRef,
        key: String,
        known: Option<(String, String)>,
        warn: bool,
    ) -> Result<(), Problem> {
        let (language, dialog) = known.unwrap_or_else(|| {
            let language = self.inner.settings.default_language.clone();
            (
                language,
                serde_json::to_string(&Dialog::default()).expect("serializes"),
            )
        });
        let replies: Vec<ChatMessage> = warn
            .then(|| ChatMessage::text(words::words(&language).too_fast))
            .into_iter()
            .collect();
        let turn = Turn {
            dialog: serde_json::from_str(&dialog).unwrap_or_default(),
            language,
            replies,
            action: Action::Nothing,
        };
        self.carry_out(chat, key, "…".into(), turn).await
    }

    /// Where long polling of `service` goes on from, once it has begun.
    pub async fn poll_offset(&self, service: ChatService) -> Result<Option<i64>, Problem> {
        Ok(self
            .inner
            .store
            .read(move |conn| chat_rows::poll_offset(conn, service))
            .await?)
    }

    /// Records that long polling has taken every update before `next_offset`.
    pub async fn polled(&self, service: ChatService, next_offset: i64) -> Result<(), Problem> {
        Ok(self
            .inner
            .store
            .write(move |ctx| chat_rows::set_poll_offset(ctx.conn(), service, next_offset))
            .await?)
    }

    /// Forgets the ids of updates taken in long ago, and chats whose message quota has refilled.
    pub async fn prune(&self) -> Result<usize, Problem> {
        self.inner.per_chat.retain_recent();
        self.inner.warned.retain_recent();
        let before = self.inner.clock.now() - chrono::Duration::days(REMEMBER_UPDATES_DAYS);
        let before = before.timestamp_millis();
        Ok(self
            .inner
            .store
            .write(move |ctx| chat_rows::prune_updates(ctx.conn(), before))
            .await?)
    }

    /// The chat conversation that made a report and what was said about it since: for the
    /// staff who see who reported.
    pub async fn conversation_of_report(
        &self,
        staff: &Staff,
        report_id: &str,
    ) -> Result<Vec<ChatLine>, Problem> {
        staff.require(StaffAction::ReadReporters)?;
        let id = report_id.to_owned();
        let logged = self
            .inner
            .store
            .read(move |conn| -> Result<_, StoreError> {
                let known = crate::store::reports::get(conn, &id)?.is_some();
                known
                    .then(|| chat_rows::messages_of_report(conn, &id))
                    .transpose()
            })
            .await?;
        let Some(logged) = logged else {
            return Err(Problem::new(ErrorCode::NotFound, "no report has this id"));
        };
        Ok(logged.into_iter().map(replies::line_of).collect())
    }
}
