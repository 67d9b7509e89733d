//! What devices are owed over MQTT: reporter updates the broker has not yet confirmed holding,
//! and the open tasks, sent again whenever the hub (re)connects.

use super::model::Task;
use crate::problem::Problem;
use crate::store::StoreError;
use crate::store::{field as field_rows, triage as triage_rows};
use crate::triage::{ReporterUpdate, Triage};

/// Unconfirmed updates sent again per (re)connection, oldest first.
const REPUBLISH_LIMIT: usize = 1000;

impl Triage {
    /// The unconfirmed device updates (oldest first, at most a thousand) and every open task.
    pub async fn owed_to_devices(&self) -> Result<(Vec<ReporterUpdate>, Vec<Task>), Problem> {
        Ok(self
            .store()
            .read(|conn| -> Result<_, StoreError> {
                Ok((
                    triage_rows::unconfirmed_mqtt_updates(conn, REPUBLISH_LIMIT)?,
                    field_rows::tasks(conn, true, usize::MAX >> 1)?,
                ))
            })
            .await?)
    }

    /// The broker holds the update of this cursor for its device: it is not owed any more.
    pub async fn confirm_device_update(&self, cursor: i64) -> Result<(), Problem> {
        self.store()
            .write(move |ctx| triage_rows::confirm_update(ctx.conn(), cursor))
            .await
            .map(|_| ())
            .map_err(|err| Problem::internal(&err))
    }
}
