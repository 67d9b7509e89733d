//! A chat broadcast: one notice to N Telegram chats subscribed to its zone (default 10,000),
//! through the Bot API stand-in at its rate limit. The time from COMMIT to the last message,
//! against the least the limit allows ((N - 1) / rate, every message evenly spaced from the
//! first), and the hub's memory while it drains.
//!
//! Run with `cargo bench --bench chat`. `CHAT_BENCH_RATE` is the stand-in's (and the bot's)
//! messages per second, 100 by default so a run takes under two minutes; Telegram's own is 30
//! (`CHAT_BENCH_RATE=30`, about six minutes). `CHAT_BENCH_N` sets the number of chats.

#[path = "../support/staff.rs"]
mod staff;
#[path = "../../tests/hub/support/standin_listener.rs"]
mod standin_listener;
#[path = "../../tests/hub/support/telegram.rs"]
mod telegram;

use std::time::Duration;

use vedetta::config::Config;
use vedetta::model::{OutboundChannel, Target};
use vedetta::outbox::{NewSubscription, Place};

use staff::{Tokens, notice, publish, rss_mb, sample_peak_rss};
use telegram::BotApi;

const TOKEN: &str = "123456:BENCH-token";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rate = env_or("CHAT_BENCH_RATE", 100);
    let count = env_or("CHAT_BENCH_N", 10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let telegram = BotApi::start(TOKEN).await;
        telegram.set_limits(rate as u32, 1, 20);
        telegram.keep_only_times();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::ephemeral(dir.path());
        let bot = &mut config.telegram;
        (bot.enabled, bot.token, bot.api_url) = (true, Some(TOKEN.into()), telegram.base_url());
        (bot.poll_timeout_secs, bot.messages_per_second) = (1, rate as u32);
        let app = vedetta::app::start(config).await.unwrap();
        let (base, client) = (
            format!("http://{}", app.http_addr()),
            reqwest::Client::new(),
        );
        let tokens = Tokens::make(&app).await;
        subscribe(app.hub(), count).await;
        println!("chat: one notice to {count} Telegram chats at {rate} messages/s");

        let rss_before = rss_mb();
        let (sampling, peak) = sample_peak_rss();
        let committed = publish(&client, &base, &tokens, app.hub(), &notice()).await;
        let timeout = Duration::from_secs((count / rate.max(1)) as u64 * 2 + 60);
        let sent = telegram.wait_for_sent(count, timeout).await;
        sampling.abort();
        let extra = *peak.lock().unwrap() - rss_before;
        let last = sent.iter().map(|s| s.at).max().unwrap();
        let took = last.duration_since(committed).as_secs_f64();
        let minimum = (count - 1) as f64 / rate as f64;
        println!("COMMIT to last message: {took:.1} s; the limit allows {minimum:.1} s at best");
        println!(
            "refused with 429: {}; extra memory while draining: {extra:.1} MB",
            telegram.refused_429()
        );
        println!("hub/minimum time: {:.3} (target <= 1.05)", took / minimum);
        app.shutdown().await.unwrap();
    });
}

/// Subscribes `count` chats to Monteverde, as many citizens pressing "Iscriviti".
async fn subscribe(hub: &vedetta::hub::Hub, count: usize) {
    use futures_util::StreamExt;
    futures_util::stream::iter(0..count)
        .for_each_concurrent(64, |i| async move {
            let new = NewSubscription {
                target: Target::Telegram {
                    chat_id: (100_000 + i).to_string(),
                },
                place: Place::Zone("demo-001".into()),
                language: Some("it".into()),
            };
            hub.outbox
                .subscribe_chat(OutboundChannel::Telegram, new)
                .await
                .unwrap();
        })
        .await;
}
