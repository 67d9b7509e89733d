//! The CAP 1.2 vocabularies notices and the configuration use, spelled exactly as CAP spells
//! them.

use serde::{Deserialize, Serialize};

use crate::problem::{ErrorCode, Problem};

/// CAP times: whole seconds with a numeric offset; UTC is written `-00:00`, never `Z`.
pub fn cap_time(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}-00:00", at.format("%Y-%m-%dT%H:%M:%S"))
}

macro_rules! cap_enum {
    ($(#[$doc:meta])* $name:ident: $($variant:ident),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }

            /// Parses the CAP spelling; the error names `field` and lists the allowed values.
            pub fn parse(value: &str, field: &str) -> Result<$name, Problem> {
                Self::ALL.iter().copied().find(|known| known.as_str() == value).ok_or_else(|| {
                    let allowed: Vec<&str> = Self::ALL.iter().map(|known| known.as_str()).collect();
                    Problem::with_field(
                        ErrorCode::InvalidField,
                        field,
                        format!("`{field}` must be one of {} (CAP 1.2), not `{}`", allowed.join(", "), value.chars().take(40).collect::<String>()),
                    )
                })
            }
        }
    };
}

cap_enum!(
    /// Whether a notice is real. Never defaulted: an author always says which.
    CapStatus: Actual, Exercise, Test
);
cap_enum!(
    /// A new notice, a replacement, or a withdrawal.
    MsgType: Alert, Update, Cancel
);
impl MsgType {
    /// What goes before a headline so that a cancellation or an update reads as one wherever
    /// the headline is shown alone (a feed's title, a chat's line): empty for an alert.
    pub fn headline_mark(self, language: &str) -> &'static str {
        let english = language.to_ascii_lowercase().starts_with("en");
        match (self, english) {
            (MsgType::Alert, _) => "",
            (MsgType::Update, false) => "AGGIORNAMENTO: ",
            (MsgType::Update, true) => "UPDATE: ",
            (MsgType::Cancel, false) => "REVOCA: ",
            (MsgType::Cancel, true) => "CANCELLED: ",
        }
    }
}

/// The scheme of a feed category that carries a CAP `msgType`.
pub const MSG_TYPE_SCHEME: &str = "urn:oasis:names:tc:emergency:cap:1.2:msgType";

cap_enum!(CapCategory: Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other);
cap_enum!(Urgency: Immediate, Expected, Future, Past, Unknown);
cap_enum!(Severity: Extreme, Severe, Moderate, Minor, Unknown);
cap_enum!(Certainty: Observed, Likely, Possible, Unlikely, Unknown);
