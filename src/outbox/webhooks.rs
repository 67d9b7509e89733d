//! Webhooks, registered by admins for other systems (neighbouring offices, media,
//! integrators): each with its zones, severities, event kinds and its own signing secret.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::Outbox;
use crate::auth::{Action, Staff};
use crate::cap::Severity;
use crate::model::{DeliveryKind, OutboundChannel, Subscription, SubscriptionState, Target};
use crate::problem::{ErrorCode, Problem};
use crate::store::{StoreError, WriteCtx, audit, subscriptions};

/// Longest name an admin gives a webhook.
const MAX_LABEL: usize = 200;

/// What an admin sends to register a webhook.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    pub label: Option<String>,
    /// Zone ids; empty means every zone.
    pub zones: Vec<String>,
    pub severities: Option<Vec<String>>,
    pub events: Option<Vec<String>>,
    /// The destination may be on loopback or a private network (a neighbouring office's LAN).
    pub allow_private_network: bool,
}

/// A webhook as admins see it; the secret only in the answer that created it.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub state: SubscriptionState,
    pub zones: Vec<String>,
    pub severities: Option<Vec<String>>,
    pub events: Option<Vec<DeliveryKind>>,
    pub allow_private_network: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `whsec_…`: shown once, when the webhook is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn of(subscription: &Subscription) -> WebhookView {
        let url = match &subscription.target {
            Target::Webhook { url, .. } => url.clone(),
            _ => String::new(),
        };
        WebhookView {
            id: subscription.id.clone(),
            url,
            label: subscription.label.clone(),
            state: subscription.state,
            zones: subscription.zones.clone(),
            severities: subscription.severities.clone(),
            events: subscription.events.clone(),
            allow_private_network: subscription.allow_private,
            disabled_reason: subscription.disabled_reason.clone(),
            created_by: subscription.created_by.clone(),
            created_at: subscription.created_at,
            secret: None,
        }
    }
}

impl Outbox {
    pub async fn add_webhook(
        &self,
        staff: &Staff,
        new: NewWebhook,
    ) -> Result<WebhookView, Problem> {
        staff.require(Action::ManageWebhooks)?;
        let url =
            self.settings()
                .addresses
                .check_url(&new.url, new.allow_private_network, "url")?;
        let secret = new_secret();
        let subscription = Subscription {
            id: uuid::Uuid::now_v7().to_string(),
            channel: OutboundChannel::Webhook,
            state: SubscriptionState::Active,
            target: Target::Webhook {
                url: url.to_string(),
                secret: secret.clone(),
            },
            zones: self.known_zones(new.zones)?,
            point: None,
            severities: new.severities.map(checked_severities).transpose()?,
            events: new.events.map(checked_events).transpose()?,
            language: self.settings().default_language.clone(),
            allow_private: new.allow_private_network,
            label: crate::model::bounded_text(new.label, "label", MAX_LABEL)?,
            created_by: Some(staff.name.clone()),
            created_at: self.now(),
            disabled_reason: None,
        };
        let (stored, actor) = (subscription.clone(), staff.clone());
        self.inner
            .store
            .write(move |ctx| -> Result<(), StoreError> {
                subscriptions::insert(ctx.conn(), &stored)?;
                audit_change(ctx, &actor, "webhook.add", &stored, stored.created_at)
            })
            .await?;
        let mut view = WebhookView::of(&subscription);
        view.secret = Some(secret);
        Ok(view)
    }

    pub async fn webhooks(&self, staff: &Staff) -> Result<Vec<WebhookView>, Problem> {
        staff.require(Action::ManageWebhooks)?;
        let found = self
            .inner
            .store
            .read(|conn| subscriptions::list(conn, OutboundChannel::Webhook))
            .await?;
        Ok(found.iter().map(WebhookView::of).collect())
    }

    /// Switches a webhook on again (after its receiver was fixed) or off.
    pub async fn set_webhook_enabled(
        &self,
        staff: &Staff,
        id: &str,
        enabled: bool,
    ) -> Result<WebhookView, Problem> {
        staff.require(Action::ManageWebhooks)?;
        let (id, actor, now) = (id.to_owned(), staff.clone(), self.now());
        let state = if enabled {
            SubscriptionState::Active
        } else {
            SubscriptionState::Disabled
        };
        let reason = (!enabled).then(|| format!("switched off by {}", staff.name));
        let view = self
            .inner
            .store
            .write(move |ctx| -> Result<WebhookView, Problem> {
                let found = webhook(ctx, &id)?;
                subscriptions::set_state(
                    ctx.conn(),
                    &id,
                    state,
                    reason.as_deref(),
                    now.timestamp_millis(),
                )?;
                let action = if enabled {
                    "webhook.enable"
                } else {
                    "webhook.disable"
                };
                audit_change(ctx, &actor, action, &found, now)?;
                let found = webhook(ctx, &id)?;
                Ok(WebhookView::of(&found))
            })
            .await?;
        self.wake();
        Ok(view)
    }

    pub async fn remove_webhook(&self, staff: &Staff, id: &str) -> Result<(), Problem> {
        staff.require(Action::ManageWebhooks)?;
        let (id, actor, now) = (id.to_owned(), staff.clone(), self.now());
        self.inner
            .store
            .write(move |ctx| -> Result<(), Problem> {
                let found = webhook(ctx, &id)?;
                subscriptions::delete(ctx.conn(), &id)?;
                audit_change(ctx, &actor, "webhook.remove", &found, now)?;
                Ok(())
            })
            .await
    }

    fn known_zones(&self, zones: Vec<String>) -> Result<Vec<String>, Problem> {
        let index = self.inner.zones.snapshot();
        if let Some(unknown) = zones.iter().find(|zone| index.get(zone).is_none()) {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "zones",
                format!(
                    "there is no zone `{unknown}`; pick zone ids from GET /api/v1/zones, or send [] for every zone"
                ),
            ));
        }
        Ok(zones)
    }
}

fn webhook(ctx: &WriteCtx<'_>, id: &str) -> Result<Subscription, Problem> {
    subscriptions::get(ctx.conn(), id)?
        .filter(|found| found.channel == OutboundChannel::Webhook)
        .ok_or_else(|| {
            Problem::new(
                ErrorCode::NotFound,
                format!("there is no webhook {id}; GET /api/v1/webhooks lists them"),
            )
        })
}

/// A Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn checked_severities(severities: Vec<String>) -> Result<Vec<String>, Problem> {
    severities
        .into_iter()
        .map(|severity| Severity::parse(&severity, "severities").map(|s| s.as_str().to_owned()))
        .collect()
}

fn checked_events(events: Vec<String>) -> Result<Vec<DeliveryKind>, Problem> {
    events
        .into_iter()
        .map(|event| {
            DeliveryKind::parse(&event)
                .filter(|kind| DeliveryKind::NOTICE_KINDS.contains(kind))
                .ok_or_else(|| {
                    Problem::with_field(
                        ErrorCode::InvalidField,
                        "events",
                        format!(
                            "`{event}` is not an event kind; use alert, update, cancel or expired"
                        ),
                    )
                })
        })
        .collect()
}

fn audit_change(
    ctx: &WriteCtx<'_>,
    staff: &Staff,
    action: &str,
    webhook: &Subscription,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    audit::append(
        ctx.conn(),
        at.timestamp_millis(),
        &staff.name,
        action,
        Some(&webhook.id),
        &json!({ "zones": webhook.zones.len(), "allow_private_network": webhook.allow_private }),
    )
}
