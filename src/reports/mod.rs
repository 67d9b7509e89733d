//! Reports from citizens and field teams: what a valid report is, and how one is taken in.

mod device_budget;
mod intake;
mod submission;
mod view;

use crate::model::report as model;

pub use crate::config::{Category, CategoryCatalog, LocalizedText, default_categories};
pub use crate::model::ReportFilter;
pub use crate::model::bounded_text;
pub use crate::zones::{Location, ZoneRef};
pub use device_budget::DeviceBudget;
pub use intake::{Intake, IntakeLimiter, IntakeRules, Origin};
pub use model::{
    ClientRef, Contact, DeviceId, Photo, Receipt, Report, ReportStatus, Source, TriageState,
};
pub use submission::{
    RawContact, RawPhoto, RawSubmission, Submission, SubmissionLimits, parse_category,
};
pub use view::ReportView;
