//! Teams: operators name them and say which devices they carry.

use serde::Deserialize;
use serde_json::json;

use super::model::Team;
use crate::auth::{Action, Staff};
use crate::model::DeviceId;
use crate::problem::{ErrorCode, Problem};
use crate::store::{audit, field as field_rows};
use crate::triage::Triage;

const MAX_NAME: usize = 100;
const MAX_DEVICES: usize = 50;

/// A team as operators send it (`schemas/team.schema.json`); the id comes from the path on PUT.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTeam {
    pub id: Option<String>,
    pub name: Option<String>,
    pub devices: Option<Vec<String>>,
}

impl Triage {
    pub async fn teams(&self, staff: &Staff) -> Result<Vec<Team>, Problem> {
        staff.require(Action::Read)?;
        Ok(self.store().read(field_rows::teams).await?)
    }

    pub async fn team(&self, staff: &Staff, id: &str) -> Result<Team, Problem> {
        staff.require(Action::Read)?;
        let id = id.to_owned();
        self.store()
            .read(move |conn| field_rows::team(conn, &id)?.ok_or_else(|| unknown_team(&id)))
            .await
    }

    /// Creates a team, or replaces the name and devices of an existing one.
    pub async fn save_team(&self, staff: &Staff, raw: RawTeam) -> Result<Team, Problem> {
        staff.require(Action::Triage)?;
        let (id, name, devices) = parse(raw)?;
        let (actor, at) = (staff.name.clone(), self.now());
        self.store()
            .write(move |ctx| {
                let created_at =
                    field_rows::team(ctx.conn(), &id)?.map_or(at, |team| team.created_at);
                let team = Team {
                    id,
                    name,
                    devices,
                    created_at,
                };
                field_rows::save_team(ctx.conn(), &team)?;
                let detail = json!({ "name": team.name, "devices": team.devices });
                audit::append(
                    ctx.conn(),
                    at.timestamp_millis(),
                    &actor,
                    "team.save",
                    Some(&team.id),
                    &detail,
                )?;
                Ok(team)
            })
            .await
    }
}

pub(super) fn unknown_team(id: &str) -> Problem {
    Problem::with_field(
        ErrorCode::NotFound,
        "team",
        format!("there is no team {id}; GET /api/v1/teams lists them"),
    )
}

fn parse(raw: RawTeam) -> Result<(String, String, Vec<DeviceId>), Problem> {
    let missing = |field: &str| {
        Problem::with_field(
            ErrorCode::MissingField,
            field,
            format!("`{field}` is required"),
        )
    };
    let id = raw.id.ok_or_else(|| missing("id"))?;
    let valid_id = !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid_id {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "id",
            "`id` must be 1 to 40 lowercase letters, digits, '_' or '-'",
        ));
    }
    let name =
        crate::model::bounded_text(raw.name, "name", MAX_NAME)?.ok_or_else(|| missing("name"))?;
    let raw_devices = raw.devices.unwrap_or_default();
    if raw_devices.len() > MAX_DEVICES {
        return Err(Problem::with_field(
            ErrorCode::InvalidField,
            "devices",
            format!("a team has at most {MAX_DEVICES} devices"),
        ));
    }
    let mut devices = Vec::new();
    for (n, device) in raw_devices.iter().enumerate() {
        let device = DeviceId::parse(device, &format!("devices[{n}]"))?;
        if !devices.contains(&device) {
            devices.push(device);
        }
    }
    Ok((id, name, devices))
}
