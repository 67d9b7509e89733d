//! Reading the Cloud API stand-in's log: waiting for the messages the hub sends, and saying
//! what was sent and refused when they do not come.

use std::time::Duration;

use super::{CloudApi, Sent, State};

impl CloudApi {
    /// Waits (up to `timeout`) for the next accepted message to `wa_id` not returned yet: the
    /// Nth call for a user returns the Nth message sent to them.
    pub async fn next_message_to(&self, wa_id: &str, timeout: Duration) -> Sent {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut count = self.shared.sent_count.subscribe();
        loop {
            {
                let mut state = self.shared.lock();
                let cursor = state.cursors.get(wa_id).copied().unwrap_or(0);
                let next = state
                    .sent
                    .iter()
                    .filter(|sent| sent.to == wa_id)
                    .nth(cursor)
                    .cloned();
                if let Some(sent) = next {
                    state.cursors.insert(wa_id.to_owned(), cursor + 1);
                    return sent;
                }
            }
            if tokio::time::timeout_at(deadline, count.changed())
                .await
                .is_err()
            {
                let state = self.shared.lock();
                let cursor = state.cursors.get(wa_id).copied().unwrap_or(0);
                panic!(
                    "no message {} to {wa_id} within {timeout:?}; sent to them:\n{}\n\
                     refused calls about them:\n{}",
                    cursor + 1,
                    describe(state.sent.iter().filter(|sent| sent.to == wa_id)),
                    state.refusals(Some(wa_id)),
                );
            }
        }
    }

    /// Waits (up to `timeout`) until `n` messages in total were accepted; returns them all.
    pub async fn wait_for_sent(&self, n: usize, timeout: Duration) -> Vec<Sent> {
        let mut count = self.shared.sent_count.subscribe();
        let reached = tokio::time::timeout(timeout, count.wait_for(|&sent| sent >= n)).await;
        let state = self.shared.lock();
        if reached.is_err() {
            panic!(
                "{} messages accepted within {timeout:?}, not {n}:\n{}\nrefused calls:\n{}",
                state.sent.len(),
                describe(state.sent.iter()),
                state.refusals(None),
            );
        }
        state.sent.clone()
    }
}

impl State {
    /// Refused calls, about one user or all, a line each.
    fn refusals(&self, wa_id: Option<&str>) -> String {
        let lines: Vec<String> = self
            .calls
            .iter()
            .filter(|call| call.error.is_some())
            .filter(|call| wa_id.is_none_or(|id| call.body["to"] == id))
            .map(|call| {
                format!(
                    "  {} {} {} {}: {}",
                    call.status,
                    call.method,
                    call.path,
                    call.body,
                    call.error.as_deref().unwrap_or("")
                )
            })
            .collect();
        if lines.is_empty() {
            "  (none)".into()
        } else {
            lines.join("\n")
        }
    }
}

fn describe<'a>(sent: impl Iterator<Item = &'a Sent>) -> String {
    let lines: Vec<String> = sent
        .map(|sent| {
            format!(
                "  #{} {} to {}: {:?} {}",
                sent.seq, sent.kind, sent.to, sent.text, sent.body
            )
        })
        .collect();
    if lines.is_empty() {
        "  (nothing)".into()
    } else {
        lines.join("\n")
    }
}
