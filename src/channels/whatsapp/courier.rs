//! Sending on WhatsApp through the outbox: a conversation's answers, notices to subscribed
//! numbers and reporters' news; paced to the Cloud API's limits (overall, and per person every
//! 6 seconds) so that Meta rarely refuses, and falling back to the office's approved template
//! when the person has not written for 24 hours.

use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, RateLimiter};
use serde_json::Value;

use super::api::{ApiError, CloudApi};
use super::messages;
use crate::channels::email::plain_text;
use crate::channels::pacing::{Pacer, evenly, quota};
use crate::config::WhatsAppConfig;
use crate::model::{OutboundChannel, Outcome, Target};
use crate::outbox::{Content, Courier, Parcel};

/// Meta's codes that matter to a delivery.
pub(super) const OUTSIDE_WINDOW: u64 = 131_047;
const RATE_LIMIT: u64 = 130_429;
const PAIR_RATE_LIMIT: u64 = 131_056;
const UNDELIVERABLE: u64 = 131_026;
/// How long Meta's pair limit holds one person's next message.
const PAIR_WINDOW: Duration = Duration::from_secs(6);

pub struct WhatsAppCourier {
    api: CloudApi,
    office: String,
    concurrency: usize,
    overall: Pacer,
    per_person: DefaultKeyedRateLimiter<String>,
    notice_template: Option<String>,
    report_template: Option<String>,
}

impl WhatsAppCourier {
    pub fn new(api: CloudApi, config: &WhatsAppConfig, office: String) -> WhatsAppCourier {
        WhatsAppCourier {
            api,
            office,
            concurrency: (config.messages_per_second as usize).clamp(1, 64),
            overall: Pacer::new(evenly(1.0, config.messages_per_second)),
            per_person: RateLimiter::keyed(quota(evenly(6.0, config.per_user_per_6s))),
            notice_template: config.notice_template.clone(),
            report_template: config.report_template.clone(),
        }
    }

    /// Waits for this person's turn, then for the number's.
    async fn paced(&self, wa_id: &str) {
        self.per_person.until_key_ready(&wa_id.to_owned()).await;
        self.overall.turn().await;
        if self.per_person.len() > 10_000 {
            self.per_person.retain_recent();
        }
    }

    async fn send_paced(&self, wa_id: &str, message: Value) -> Result<String, ApiError> {
        self.paced(wa_id).await;
        let sent = self.api.send(message).await;
        if let Err(ApiError::Refused {
            code: RATE_LIMIT, ..
        }) = &sent
        {
            // The number's throughput is Meta's limit for every sender, not only this one.
            self.overall.hold(Duration::from_secs(1));
        }
        sent
    }

    /// The free-form message for a parcel, and the template that replaces it outside the
    /// 24-hour window (with its parameters), if the office has one for it; a confirmation is
    /// no chat's business.
    fn compose(&self, parcel: &Parcel, wa_id: &str) -> Result<(Value, Option<Value>), Outcome> {
        let language = parcel.language.as_str();
        match &parcel.content {
            Content::Chat(message) => {
                return Ok((messages::answer(wa_id, message, language), None));
            }
            Content::Confirm { .. } => {
                return Err(Outcome::Failed {
                    error: "chats need no confirmation".into(),
                });
            }
            Content::Notice { .. } | Content::Report(_) => {}
        }
        // Composed once: the text, and the template's parameters from the same words.
        let plain = plain_text(parcel, &self.office);
        let message = messages::news(wa_id, &plain);
        let subject = plain.subject.as_str();
        let template = match &parcel.content {
            Content::Notice { .. } => self.notice_template.as_deref().map(|name| {
                let links = &parcel.links;
                let page = links
                    .notice_page
                    .as_deref()
                    .or(links.cap_document.as_deref());
                messages::template(wa_id, name, language, &[subject, page.unwrap_or_default()])
            }),
            Content::Report(news) => self.report_template.as_deref().map(|name| {
                // The reference the acknowledgement gave, and the news without the signature.
                let reference = news.report_id.get(news.report_id.len().saturating_sub(8)..);
                let news_text = plain.words.strip_prefix(subject).unwrap_or(&plain.words);
                let parameters = [reference.unwrap_or_default(), news_text.trim()];
                messages::template(wa_id, name, language, &parameters)
            }),
            _ => None,
        };
        Ok((message, template))
    }
}

impl Courier for WhatsAppCourier {
    fn channel(&self) -> OutboundChannel {
        OutboundChannel::WhatsApp
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn send(&self, parcel: &Parcel) -> Outcome {
        let Target::WhatsApp { chat_id: wa_id } = &parcel.target else {
            return Outcome::Failed {
                error: "not a WhatsApp number".into(),
            };
        };
        let (message, template) = match self.compose(parcel, wa_id) {
            Ok(composed) => composed,
            Err(refused) => return refused,
        };
        if parcel.outside_reply_window && !matches!(parcel.content, Content::Chat(_)) {
            return match template {
                Some(template) => outcome_of(self.send_paced(wa_id, template).await),
                None => no_template(),
            };
        }
        // Meta may still refuse a free message the hub thought in time (the person's clock of
        // 24 hours runs at Meta). It says so later, in a status notification naming the id it
        // gave the message, which finds the delivery again (`Conversations::reply_window_closed`);
        // a refusal in the answer itself is taken the same way: the template goes instead.
        match self.send_paced(wa_id, message).await {
            Ok(message_id) if message_id.is_empty() => Outcome::Delivered,
            Ok(message_id) => Outcome::Sent { message_id },
            Err(ApiError::Refused {
                code: OUTSIDE_WINDOW,
                ..
            }) => match template {
                Some(template) => outcome_of(self.send_paced(wa_id, template).await),
                None => no_template(),
            },
            Err(err) => outcome_of(Err(err)),
        }
    }
}

fn no_template() -> Outcome {
    Outcome::Failed {
        error: "the person has not written for 24 hours and no approved template is configured \
                for this message (whatsapp.notice_template, whatsapp.report_template)"
            .into(),
    }
}

/// What Meta's answer means for the delivery.
fn outcome_of(sent: Result<String, ApiError>) -> Outcome {
    let Err(err) = sent else {
        return Outcome::Delivered;
    };
    let error = err.to_string();
    match err {
        ApiError::Refused {
            code: RATE_LIMIT, ..
        } => Outcome::Retry {
            error,
            after: Some(Duration::from_secs(1)),
        },
        ApiError::Refused {
            code: PAIR_RATE_LIMIT,
            ..
        } => Outcome::Retry {
            error,
            after: Some(PAIR_WINDOW),
        },
        // Not on WhatsApp, blocked, or for now unreachable (an old app, new terms not yet
        // accepted): Meta does not say which, so the person's subscriptions stay.
        ApiError::Refused {
            code: UNDELIVERABLE,
            ..
        } => Outcome::Failed { error },
        // A wrong or expired token (190), Meta's own trouble: kept, and tried again.
        ApiError::Refused { status, code, .. } if status >= 500 || status == 401 || code == 190 => {
            Outcome::Retry { error, after: None }
        }
        ApiError::Refused { .. } => Outcome::Failed { error },
        ApiError::Unreachable(_) => Outcome::Retry { error, after: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, code: u64) -> Result<String, ApiError> {
        Err(ApiError::Refused {
            status,
            code,
            message: "(#0) refused".into(),
        })
    }

    #[test]
    fn an_undeliverable_number_fails_and_a_rate_limit_waits_for_its_window() {
        assert!(matches!(
            outcome_of(refused(400, UNDELIVERABLE)),
            Outcome::Failed { .. }
        ));
        assert!(matches!(
            outcome_of(refused(400, PAIR_RATE_LIMIT)),
            Outcome::Retry { after: Some(after), .. } if after == PAIR_WINDOW
        ));
        assert!(matches!(
            outcome_of(refused(401, 190)),
            Outcome::Retry { after: None, .. }
        ));
        assert!(matches!(
            outcome_of(refused(404, 132_001)),
            Outcome::Failed { .. }
        ));
        assert!(matches!(
            outcome_of(refused(400, 100)),
            Outcome::Failed { .. }
        ));
    }
}
