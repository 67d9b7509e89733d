//! Adding and removing destinations: webhooks registered by admins, Web Push subscriptions
//! from the citizens' page, and e-mail subscriptions with double opt-in.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Outbox;
use super::links::LinkPurpose;
use crate::model::{
    DeliveryKind, Location, OutboundChannel, Subscription, SubscriptionState, Target,
};
use crate::problem::{ErrorCode, Problem};
use crate::store::outbox::{self as outbox_rows, NewDelivery};
use crate::store::{StoreError, subscriptions};

/// Where a citizen wants to hear about: a point (their position) or a zone by id.
#[derive(Debug, Clone)]
pub enum Place {
    Point(Location),
    Zone(String),
}

/// The zones a place lies in, the point if it is one, and its name in words.
type ResolvedPlace = (Vec<String>, Option<Location>, Option<String>);

/// A subscription as its owner (or the admin of a webhook) sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub id: String,
    pub channel: OutboundChannel,
    pub state: SubscriptionState,
    pub zones: Vec<String>,
    /// The place in words (the smallest zone), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl SubscriptionView {
    pub(super) fn of(subscription: &Subscription) -> SubscriptionView {
        SubscriptionView {
            id: subscription.id.clone(),
            channel: subscription.channel,
            state: subscription.state,
            zones: subscription.zones.clone(),
            place: subscription.label.clone(),
            created_at: subscription.created_at,
        }
    }
}

/// A citizen's new subscription, from the page.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub target: Target,
    pub place: Place,
    pub language: Option<String>,
}

impl Outbox {
    /// Subscribes a browser's push endpoint to a place; a second call for the same endpoint
    /// moves it there.
    pub async fn subscribe_push(
        &self,
        new: NewSubscription,
        from: Option<IpAddr>,
    ) -> Result<SubscriptionView, Problem> {
        let Target::WebPush {
            endpoint,
            p256dh,
            auth,
        } = &new.target
        else {
            return Err(Problem::new(
                ErrorCode::InvalidField,
                "a push subscription needs its endpoint and keys",
            ));
        };
        let addresses = &self.settings().addresses;
        let url = addresses.check_url(endpoint, false, "endpoint")?;
        if url.scheme() != "https" && !addresses.allows_private_host(&url) {
            return Err(Problem::with_field(
                ErrorCode::InvalidField,
                "endpoint",
                "a push endpoint is an https:// URL, as the browser's push service gives it",
            ));
        }
        self.check_signup_rate(from)?;
        check_push_keys(p256dh, auth)?;
        let subscription =
            self.new_subscription(OutboundChannel::WebPush, SubscriptionState::Active, &new)?;
        let (stored, endpoint) = (subscription.clone(), endpoint.clone());
        self.inner
            .store
            .write(move |ctx| -> Result<(), StoreError> {
                let conn = ctx.conn();
                if let Some(old) = subscriptions::by_push_endpoint(conn, &endpoint)? {
                    subscriptions::delete(conn, &old.id)?;
                }
                subscriptions::insert(conn, &stored)
            })
            .await?;
        Ok(SubscriptionView::of(&subscription))
    }

    /// Removes a browser's push subscription; the endpoint itself is the proof of ownership.
    pub async fn unsubscribe_push(&self, endpoint: &str) -> Result<bool, Problem> {
        let endpoint = endpoint.to_owned();
        Ok(self
            .inner
            .store
            .write(move |ctx| -> Result<bool, StoreError> {
                let conn = ctx.conn();
                match subscriptions::by_push_endpoint(conn, &endpoint)? {
                    Some(old) => subscriptions::delete(conn, &old.id),
                    None => Ok(false),
                }
            })
            .await?)
    }

    /// Starts an e-mail subscription: stored as pending, with a confirmation message queued.
    /// Nothing else is sent to the address until its owner confirms. The answer is the same
    /// whether or not the address was known, so nobody learns who subscribed.
    pub async fn subscribe_email(
        &self,
        new: NewSubscription,
        from: Option<IpAddr>,
    ) -> Result<(), Problem> {
        let Target::Email { address } = &new.target else {
            return Err(Problem::new(
                ErrorCode::InvalidField,
                "an e-mail subscription needs an address",
            ));
        };
        crate::model::parse_email(Some(address.clone()), "address")?;
        self.check_signup_rate(from)?;
        let subscription =
            self.new_subscription(OutboundChannel::Email, SubscriptionState::Pending, &new)?;
        let (now, address) = (self.now(), address.clone());
        let resend_after = now - chrono::Duration::minutes(10);
        self.inner
            .store
            .write(move |ctx| -> Result<(), StoreError> {
                let conn = ctx.conn();
                let same = subscriptions::by_email_address(conn, &address)?
                    .into_iter()
                    .find(|old| old.zones == subscription.zones);
                if let Some(old) = same {
                    // Already confirmed, or a confirmation left only minutes ago: nothing to send.
                    if old.state == SubscriptionState::Active || old.created_at > resend_after {
                        return Ok(());
                    }
                    subscriptions::delete(conn, &old.id)?;
                }
                subscriptions::insert(conn, &subscription)?;
                outbox_rows::insert(
                    conn,
                    &NewDelivery {
                        channel: OutboundChannel::Email,
                        destination: &subscription.id,
                        thread: &subscription.id,
                        kind: DeliveryKind::Confirm,
                        notice_id: None,
                        event_seq: None,
                        report_id: None,
                        update_cursor: None,
                        message_id: None,
                        priority: 2,
                    },
                    now.timestamp_millis(),
                )?;
                Ok(())
            })
            .await?;
        self.wake();
        Ok(())
    }

    /// Confirms a pending subscription from the link in its confirmation message.
    pub async fn confirm(&self, id: &str, token: &str) -> Result<SubscriptionView, Problem> {
        self.check_link(LinkPurpose::Confirm, id, token)?;
        let (id, now) = (id.to_owned(), self.now());
        self.inner
            .store
            .write(move |ctx| -> Result<SubscriptionView, Problem> {
                let found = subscriptions::get(ctx.conn(), &id)?.ok_or_else(link_gone)?;
                if found.state == SubscriptionState::Pending {
                    subscriptions::set_state(
                        ctx.conn(),
                        &id,
                        SubscriptionState::Active,
                        None,
                        now.timestamp_millis(),
                    )?;
                }
                let mut view = SubscriptionView::of(&found);
                view.state = SubscriptionState::Active;
                Ok(view)
            })
            .await
    }

    /// Removes a subscription from the link in any message it received: its data goes with it.
    pub async fn unsubscribe(&self, id: &str, token: &str) -> Result<(), Problem> {
        self.check_link(LinkPurpose::Unsubscribe, id, token)?;
        let id = id.to_owned();
        self.inner
            .store
            .write(move |ctx| -> Result<bool, StoreError> {
                subscriptions::delete(ctx.conn(), &id)
            })
            .await?;
        Ok(())
    }

    /// Removes e-mail subscriptions nobody confirmed in time; returns how many.
    pub async fn prune_unconfirmed(&self) -> Result<usize, Problem> {
        self.inner.signups.retain_recent();
        let before = self.now()
            - chrono::Duration::from_std(self.settings().confirm_within).unwrap_or_default();
        Ok(self
            .inner
            .store
            .write(move |ctx| {
                subscriptions::delete_unconfirmed(ctx.conn(), before.timestamp_millis())
            })
            .await?)
    }

    /// Sign-ups from one address are bounded: each stores a destination the hub then sends to.
    fn check_signup_rate(&self, from: Option<IpAddr>) -> Result<(), Problem> {
        let over = |ip| {
            self.inner
                .signups
                .check_key(&crate::addr::limit_key(ip))
                .is_err()
        };
        if from.is_some_and(over) {
            return Err(Problem::new(
                ErrorCode::RateLimited,
                "too many sign-ups from this address; try again in an hour",
            )
            .retry_after(600));
        }
        Ok(())
    }

    fn check_link(&self, purpose: LinkPurpose, id: &str, token: &str) -> Result<(), Problem> {
        if self.inner.links.verify(purpose, id, token) {
            Ok(())
        } else {
            Err(link_gone())
        }
    }

    pub(super) fn new_subscription(
        &self,
        channel: OutboundChannel,
        state: SubscriptionState,
        new: &NewSubscription,
    ) -> Result<Subscription, Problem> {
        let (zones, point, label) = self.resolve_place(&new.place)?;
        Ok(Subscription {
            id: uuid::Uuid::now_v7().to_string(),
            channel,
            state,
            target: new.target.clone(),
            zones,
            point,
            severities: None,
            events: None,
            language: language_or(new.language.as_deref(), &self.settings().default_language),
            allow_private: false,
            label,
            created_by: None,
            created_at: self.now(),
            disabled_reason: None,
        })
    }

    /// The zones a place lies in, the point if it is one, and its name in words.
    fn resolve_place(&self, place: &Place) -> Result<ResolvedPlace, Problem> {
        let zones = self.inner.zones.snapshot();
        match place {
            Place::Point(point) => {
                let on_earth =
                    (-90.0..=90.0).contains(&point.lat) && (-180.0..=180.0).contains(&point.lon);
                if !on_earth {
                    return Err(Problem::with_field(
                        ErrorCode::InvalidField,
                        "point",
                        "point.lat must be within ±90 and point.lon within ±180 (WGS84 degrees)",
                    ));
                }
                let found = zones.locate(*point);
                if found.is_empty() {
                    return Err(Problem::with_field(
                        ErrorCode::OutsideZones,
                        "point",
                        "this point is outside every zone this office serves; subscribe to a place inside them",
                    ));
                }
                let name = found.first().map(|zone| zone.name.clone());
                Ok((
                    found.iter().map(|zone| zone.id.clone()).collect(),
                    Some(*point),
                    name,
                ))
            }
            Place::Zone(id) => {
                let zone = zones.get(id).ok_or_else(|| {
                    Problem::with_field(
                        ErrorCode::InvalidField,
                        "zone",
                        format!("there is no zone `{id}`; pick one from GET /api/v1/zones"),
                    )
                })?;
                Ok((vec![zone.id.clone()], None, Some(zone.name.clone())))
            }
        }
    }
}

fn link_gone() -> Problem {
    Problem::new(
        ErrorCode::NotFound,
        "this link is not valid any more (the subscription was removed, or the link was cut short); subscribe again from the page",
    )
}

/// A BCP 47-looking tag, or the office's language.
pub(super) fn language_or(asked: Option<&str>, default: &str) -> String {
    asked
        .filter(|tag| {
            (2..=12).contains(&tag.len())
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map_or_else(|| default.to_owned(), str::to_ascii_lowercase)
}

fn check_push_keys(p256dh: &str, auth: &str) -> Result<(), Problem> {
    use base64::Engine;
    let decode = |value: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value.trim_end_matches('='))
    };
    let key_ok = decode(p256dh).is_ok_and(|key| key.len() == 65 && key[0] == 4);
    if !key_ok {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "keys.p256dh",
            "keys.p256dh must be the browser's P-256 public key (65 bytes, base64url), as PushSubscription.toJSON() gives it",
        ));
    }
    if decode(auth).map(|secret| secret.len()) != Ok(16) {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "keys.auth",
            "keys.auth must be the browser's 16-byte auth secret, base64url",
        ));
    }
    Ok(())
}
