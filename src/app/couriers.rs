//! Starting the outbox's workers: one per channel, each with its courier (and the Telegram
//! bot's inbound side with its courier; WhatsApp's comes in through the HTTP webhook).

use crate::channels::cap_sources::SourcePoller;
use crate::channels::email::EmailCourier;
use crate::channels::http_client::OutboundHttp;
use crate::channels::telegram::{self, TelegramCourier};
use crate::channels::webhook::WebhookCourier;
use crate::channels::webpush::PushCourier;
use crate::channels::whatsapp::WhatsAppCourier;
use crate::hub::Hub;
use crate::outbox::{self, Courier};

/// Spawns one poller per configured CAP source.
pub(super) fn spawn_cap_sources(hub: &Hub) -> anyhow::Result<()> {
    let http = OutboundHttp::new(hub.outbox.settings().addresses.clone())?;
    for source in &hub.config.cap_sources {
        let poller = SourcePoller::new(source.clone(), hub.notices.clone(), http.clone());
        hub.tasks.spawn(poller.run(hub.shutdown.clone()));
    }
    Ok(())
}

/// Spawns the webhook worker, and the push and e-mail workers when they are on.
pub(super) fn spawn_outbox_workers(hub: &Hub) -> anyhow::Result<()> {
    let config = &hub.config.outbox;
    let http = OutboundHttp::for_outbox(hub.outbox.settings().addresses.clone())?;
    spawn(
        hub,
        WebhookCourier::new(
            http.clone(),
            hub.notices.signer_handle(),
            hub.config.office.clone(),
            config.webhooks.concurrency,
        ),
    );
    if let Some(vapid) = &hub.push_key {
        let contact = config
            .push
            .contact
            .clone()
            .unwrap_or_else(|| format!("mailto:{}", hub.config.cap_sender()));
        spawn(
            hub,
            PushCourier::new(http, vapid.clone(), contact, config.push.concurrency),
        );
    }
    if config.email.enabled {
        let office = hub.config.cap_sender_name();
        spawn(hub, EmailCourier::new(&config.email, office)?);
    }
    if let Some(bot) = &hub.telegram {
        let office = hub.config.cap_sender_name();
        spawn(
            hub,
            TelegramCourier::new(bot.api.clone(), &hub.config.telegram, office),
        );
        hub.tasks.spawn(telegram::serve(
            bot.clone(),
            hub.config.telegram.clone(),
            hub.shutdown.clone(),
        ));
    }
    if let Some(number) = &hub.whatsapp {
        let office = hub.config.cap_sender_name();
        spawn(
            hub,
            WhatsAppCourier::new(number.api.clone(), &hub.config.whatsapp, office),
        );
    }
    Ok(())
}

fn spawn(hub: &Hub, courier: impl Courier) {
    hub.tasks.spawn(outbox::run(
        courier,
        hub.outbox.clone(),
        hub.events.clone(),
        hub.shutdown.clone(),
    ));
}
