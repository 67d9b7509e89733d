//! Role checks a route makes before it reads its body, so a caller without the role hears 403.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::auth::{Action, Staff};
use crate::hub::Hub;

/// A staff member whose role allows `A`'s action. The domain checks the role again; checking it
/// here too means a body is never parsed, nor its faults described, for a caller who may not send
/// it, and a viewer's malformed request gets the 403 that says which role it needs.
pub(super) struct Permitted<A>(pub Staff, pub PhantomData<A>);

/// What a route needs of its caller's role.
pub(super) trait Needs {
    const ACTION: Action;
}

macro_rules! needs {
    ($($marker:ident => $action:ident),* $(,)?) => {
        $(
            pub(super) enum $marker {}
            impl Needs for $marker {
                const ACTION: Action = Action::$action;
            }
        )*
    };
}

needs! {
    Triaging => Triage,
    Drafting => Draft,
    Approving => Approve,
    ManagingUsers => ManageUsers,
    ManagingWebhooks => ManageWebhooks,
}

impl<A: Needs> FromRequestParts<Hub> for Permitted<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, ApiError> {
        let staff = Staff::from_request_parts(parts, hub).await?;
        staff.require(A::ACTION)?;
        Ok(Permitted(staff, PhantomData))
    }
}
