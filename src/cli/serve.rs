//! `vedetta serve`.

use std::net::SocketAddr;

use clap::Args;

use super::StoreArgs;
use crate::app;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address for HTTP and WebSocket; port 0 picks a free port (the bound address is logged)
    /// [default: 127.0.0.1:8080].
    #[arg(long, env = "VEDETTA_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// MQTT broker to connect to, as mqtt://host:port [default: mqtt://127.0.0.1:1883].
    #[arg(
        long = "mqtt",
        env = "VEDETTA_MQTT_URL",
        value_name = "URL",
        conflicts_with = "no_mqtt"
    )]
    pub mqtt_url: Option<String>,
    /// Run without MQTT: HTTP, Open311 and WebSocket only.
    #[arg(long, env = "VEDETTA_NO_MQTT")]
    pub no_mqtt: bool,
}

pub(super) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.load()?;
    tracing::info!(office = %config.office, data_dir = %config.data_dir.display(), "starting vedetta");
    app::start(config).await?.run_until_signal().await
}

/// `vedetta config`: what `serve` would run with, with every secret masked (the broker and
/// SMTP passwords, the bot's token and webhook secret).
pub(super) fn print_config(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = args.load()?;
    let mask = |secret: &mut Option<String>| {
        if secret.is_some() {
            *secret = Some("********".into());
        }
    };
    mask(&mut config.outbox.email.password);
    mask(&mut config.telegram.token);
    mask(&mut config.telegram.webhook_secret);
    mask(&mut config.whatsapp.access_token);
    mask(&mut config.whatsapp.app_secret);
    mask(&mut config.whatsapp.verify_token);
    if let Ok(mut url) = url::Url::parse(&config.mqtt.url)
        && url.password().is_some()
        && url.set_password(Some("********")).is_ok()
    {
        config.mqtt.url = url.into();
    }
    print!("{}", toml::to_string_pretty(&config)?);
    Ok(())
}

impl ServeArgs {
    fn load(self) -> anyhow::Result<Config> {
        let mut overrides = self.store.overrides();
        overrides.listen = self.listen;
        overrides.mqtt_url = self.mqtt_url;
        overrides.no_mqtt = self.no_mqtt;
        super::load_config(&overrides)
    }
}
