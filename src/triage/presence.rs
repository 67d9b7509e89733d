//! Who on the staff has which report open, so that two operators don't triage it at once.
//!
//! Presence lives in memory only: it is a courtesy between people on shift, not a record. A
//! staff session's presence ends with the session.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::auth::{Action, Staff};
use crate::problem::{ErrorCode, Problem};

/// For each report someone has open, who has it open (login names, each once, sorted).
pub type Viewing = BTreeMap<String, BTreeSet<String>>;

/// The shared register of open reports. Cheap to clone.
#[derive(Clone)]
pub struct Presence {
    shared: Arc<Shared>,
}

struct Shared {
    sessions: Mutex<Sessions>,
    published: watch::Sender<Arc<Viewing>>,
}

#[derive(Default)]
struct Sessions {
    next_id: u64,
    /// Session id → (login name, report open).
    open: HashMap<u64, (String, String)>,
}

impl Sessions {
    fn viewing(&self) -> Viewing {
        let mut viewing = Viewing::new();
        for (name, report) in self.open.values() {
            viewing
                .entry(report.clone())
                .or_default()
                .insert(name.clone());
        }
        viewing
    }
}

impl Default for Presence {
    fn default() -> Self {
        Presence {
            shared: Arc::new(Shared {
                sessions: Mutex::default(),
                published: watch::Sender::new(Arc::default()),
            }),
        }
    }
}

impl Presence {
    /// A staff session's handle for saying which report it has open.
    pub fn join(&self, staff: &Staff) -> Result<Viewer, Problem> {
        staff.require(Action::Read)?;
        let mut sessions = self.lock();
        sessions.next_id += 1;
        Ok(Viewer {
            id: sessions.next_id,
            name: staff.name.clone(),
            presence: self.clone(),
        })
    }

    /// The register now and at every change.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Viewing>> {
        self.shared.published.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // The register holds no invariant a panic could break halfway.
        self.shared
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, id: u64, entry: Option<(String, String)>) {
        let mut sessions = self.lock();
        let changed = match entry {
            Some(entry) => sessions.open.insert(id, entry.clone()) != Some(entry),
            None => sessions.open.remove(&id).is_some(),
        };
        if changed {
            self.shared
                .published
                .send_replace(Arc::new(sessions.viewing()));
        }
    }
}

/// One staff session's presence; dropping it (the session ended) clears it.
pub struct Viewer {
    id: u64,
    name: String,
    presence: Presence,
}

impl Viewer {
    /// Says which report this session has open now (`None`: none).
    pub fn open(&self, report_id: Option<&str>) -> Result<(), Problem> {
        let entry = match report_id {
            Some(id) => Some((self.name.clone(), report_id_of(id)?)),
            None => None,
        };
        self.presence.set(self.id, entry);
        Ok(())
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.presence.set(self.id, None);
    }
}

/// Report ids are UUIDs: anything else would put arbitrary text on colleagues' screens.
fn report_id_of(id: &str) -> Result<String, Problem> {
    uuid::Uuid::parse_str(id)
        .map(|uuid| uuid.hyphenated().to_string())
        .map_err(|_| {
            Problem::with_field(
                ErrorCode::InvalidField,
                "report_id",
                "report_id is the id of a report (a UUID), or null when none is open",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn staff(name: &str, role: Role) -> Staff {
        Staff {
            id: 1,
            name: name.to_owned(),
            role,
        }
    }

    const REPORT: &str = "0192f5a0-0000-7000-8000-000000000001";

    #[test]
    fn two_operators_on_one_report_are_both_listed_and_leaving_clears_each() {
        let presence = Presence::default();
        let watcher = presence.subscribe();
        let anna = presence.join(&staff("anna", Role::Operator)).unwrap();
        let marco = presence.join(&staff("marco", Role::Approver)).unwrap();

        anna.open(Some(REPORT)).unwrap();
        marco.open(Some(REPORT)).unwrap();
        let names: Vec<_> = watcher.borrow()[REPORT].iter().cloned().collect();
        assert_eq!(names, ["anna", "marco"]);

        marco.open(None).unwrap();
        drop(anna);
        assert!(watcher.borrow().is_empty());
    }

    #[test]
    fn an_id_that_is_not_a_report_id_is_refused_and_changes_nothing() {
        let presence = Presence::default();
        let anna = presence.join(&staff("anna", Role::Operator)).unwrap();

        let problem = anna.open(Some("<script>")).unwrap_err();

        assert_eq!(problem.field.as_deref(), Some("report_id"));
        assert!(presence.subscribe().borrow().is_empty());
    }

    #[test]
    fn a_caller_without_read_rights_cannot_be_present() {
        let presence = Presence::default();

        assert!(presence.join(&staff("root", Role::Admin)).is_err());
    }
}
