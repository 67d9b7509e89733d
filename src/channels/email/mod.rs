//! E-mail over SMTP (`lettre`): notices to confirmed subscribers, news to reporters who gave an
//! address, and the confirmations of double opt-in; multipart text and HTML, with RFC 8058
//! one-click unsubscribe on every subscription message.

mod compose;
mod words;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailConfig, SmtpSecurity};
use crate::model::{OutboundChannel, Outcome, Target};
use crate::outbox::{Courier, Parcel};

/// A parcel as plain text, its subject line first: what a channel without markup (a chat)
/// sends, so every channel says the same thing in the same order.
pub fn plain_text(parcel: &Parcel, office: &str) -> PlainText {
    let composed = compose::compose(parcel, office);
    let (words, links) = composed.text.split_at(composed.links_at);
    PlainText {
        subject: composed.subject.clone(),
        words: format!("{}\n\n{words}", composed.subject),
        links: links.trim_end().to_owned(),
    }
}

/// A parcel in plain text, in two parts, so that a chat that must cut a long notice cuts
/// its words and keeps the links to the whole of it.
pub struct PlainText {
    pub subject: String,
    /// The subject line, then the words.
    pub words: String,
    /// The links, then the office's signature.
    pub links: String,
}

pub struct EmailCourier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    office: String,
    concurrency: usize,
}

impl EmailCourier {
    pub fn new(config: &EmailConfig, office: String) -> anyhow::Result<EmailCourier> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let from: Mailbox = config.from.parse().map_err(|err| {
            anyhow::anyhow!(
                "outbox.email.from `{}` is not an address: {err}",
                config.from
            )
        })?;
        let host = config.smtp_host.as_str();
        let tls = match config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls => Tls::Required(TlsParameters::new(host.into())?),
            SmtpSecurity::Tls => Tls::Wrapper(TlsParameters::new(host.into())?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.smtp_port)
            .tls(tls)
            .timeout(Some(std::time::Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(EmailCourier {
            transport: builder.build(),
            from,
            office,
            concurrency: config.concurrency.max(1),
        })
    }

    fn message(&self, parcel: &Parcel, to: Mailbox) -> Result<Message, String> {
        let composed = compose::compose(parcel, &self.office);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(composed.subject)
            // Under the office's own domain, not the machine's name, which mail filters distrust.
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::now_v7(),
                self.from.email.domain()
            )));
        // RFC 3834: out-of-office replies to thousands of subscribers stay away from the office.
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
        if let Some(unsubscribe) = &parcel.links.unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{unsubscribe}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                composed.text,
                composed.html,
            ))
            .map_err(|err| format!("the message cannot be built: {err}"))
    }
}

impl Courier for EmailCourier {
    fn channel(&self) -> OutboundChannel {
        OutboundChannel::Email
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn send(&self, parcel: &Parcel) -> Outcome {
        let Target::Email { address } = &parcel.target else {
            return Outcome::Failed {
                error: "not an e-mail destination".into(),
            };
        };
        let Ok(to) = address.parse::<Mailbox>() else {
            return Outcome::Gone {
                error: "the address is not a valid mailbox".into(),
            };
        };
        let message = match self.message(parcel, to) {
            Ok(message) => message,
            Err(error) => return Outcome::Failed { error },
        };
        match self.transport.send(message).await {
            Ok(_) => Outcome::Delivered,
            Err(err) if err.is_permanent() => match err.status().map(|code| code.to_string()) {
                // 550 and friends: the mailbox does not exist or refuses us for good.
                Some(code) if code.starts_with("55") => Outcome::Gone {
                    error: format!("the mail server refused the address ({code})"),
                },
                code => Outcome::Failed {
                    error: format!(
                        "the mail server refused the message ({})",
                        code.unwrap_or_default()
                    ),
                },
            },
            Err(_) => Outcome::Retry {
                error: "the mail server could not be reached or deferred the message".into(),
                after: None,
            },
        }
    }
}
