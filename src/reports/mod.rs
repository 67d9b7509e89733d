//! Reports from citizens and field teams: what a valid report is, and how one is taken in.

mod categories;
mod device_budget;
pub use crate::triage::follow;
mod intake;
use crate::model::report as model;
mod submission;
mod view;

pub use crate::model::ReportFilter;
pub use crate::zones::{Location, ZoneRef};
pub use categories::{Category, CategoryCatalog, LocalizedText, default_categories};
pub use device_budget::DeviceBudget;
pub use intake::{Intake, IntakeLimiter, IntakeRules, Origin};
pub use model::{
    ClientRef, Contact, DeviceId, Photo, Receipt, Report, ReportStatus, Source, TriageState,
};
pub use submission::bounded as bounded_text;
pub use submission::{
    RawContact, RawPhoto, RawSubmission, Submission, SubmissionLimits, parse_category,
};
pub use view::ReportView;
