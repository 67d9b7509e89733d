//! The public response-time figures: they match what happened, hide small counts (and a count
//! that would give a small one away), never name a zone with few reports, and hold nothing
//! personal.

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};
use vedetta::clock::ManualClock;

use crate::support::{TestApp, assert_valid};

const MONTEVERDE: (f64, f64) = (44.45, 11.22);
const POGGIO_ALTO: (f64, f64) = (44.45, 11.40);

async fn public_stats(app: &TestApp, query: &str) -> (u16, Value) {
    let (status, body) = app
        .get_json_as(&format!("/api/v1/public/stats{query}"), None)
        .await;
    if status == 200 {
        assert_valid("public-stats", &body);
    }
    (status, body)
}

fn keys_of(value: &Value, keys: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(key, child)| {
            keys.insert(key.clone());
            keys_of(child, keys);
        }),
        Value::Array(items) => items.iter().for_each(|child| keys_of(child, keys)),
        _ => {}
    }
}

/// October: six floods in Monteverde (four acknowledged in 10 minutes, one in 20, one never;
/// two resolved in 2 hours, one rejected) and two landslides in Poggio Alto, never answered.
async fn october(app: &TestApp, clock: &ManualClock) -> Vec<String> {
    let mut floods = Vec::new();
    for n in 0..6 {
        floods.push(
            app.report_of(&format!("flood-{n}"), "flooding", MONTEVERDE)
                .await,
        );
    }
    for n in 0..2 {
        app.report_of(&format!("slide-{n}"), "landslide", POGGIO_ALTO)
            .await;
    }
    clock.advance(Duration::minutes(10));
    for id in &floods[..4] {
        app.move_to(id, "acknowledged").await;
    }
    clock.advance(Duration::minutes(10));
    app.move_to(&floods[4], "acknowledged").await;
    clock.advance(Duration::minutes(100));
    for id in &floods[..2] {
        app.move_to(id, "resolved").await;
    }
    let (rejected, view) = app
        .change(
            &floods[2],
            json!({ "status": "rejected", "reason": "not_actionable" }),
        )
        .await;
    assert_eq!(rejected, 200, "{view}");
    floods
}

#[tokio::test]
async fn the_figures_match_what_happened_hide_small_counts_and_hold_nothing_personal() {
    let clock = ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 10, 5, 8, 0, 0).unwrap());
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    let floods = october(&app, &clock).await;
    clock.advance(Duration::days(40));

    let (status, figures) = public_stats(&app, "?from=2026-10&to=2026-11").await;

    assert_eq!(status, 200, "{figures}");
    assert_eq!(
        (figures["min_count"].as_u64(), figures["level"].as_str()),
        (Some(5), Some("municipality"))
    );
    let months = figures["months"].as_array().unwrap();
    assert_eq!(
        months.len(),
        2,
        "every month of the period, the empty one too"
    );
    let (october, november) = (&months[0], &months[1]);
    assert_eq!(october["month"], "2026-10");
    let all = &october["all"];
    assert_eq!(all["reports"], 8);
    assert_eq!(
        all["acknowledged_within_target"], 0.5,
        "4 in time of the 8 acknowledged or due"
    );
    assert_eq!(
        all["resolved_within_target"], 0.286,
        "2 in time of the 7 not rejected, all due by now"
    );
    assert_eq!(
        (
            &all["acknowledge_median_secs"],
            &all["acknowledge_p90_secs"]
        ),
        (&json!(600.0), &Value::Null),
        "a median of five times, but no 90th percentile: of so few it is one report's own"
    );
    assert_eq!(
        all["resolve_median_secs"],
        Value::Null,
        "two resolution times are too few to show"
    );
    let by_category: Vec<(&str, &Value)> = october["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| (cell["category"].as_str().unwrap(), &cell["reports"]))
        .collect();
    assert_eq!(by_category.len(), 10, "every category, empty ones too");
    assert!(by_category.contains(&("flooding", &json!(6))));
    assert!(
        by_category
            .iter()
            .filter(|(code, _)| *code != "flooding")
            .all(|(_, reports)| **reports == json!("< 5")),
        "two landslides hide among nine cells that read the same: {by_category:?}"
    );
    let by_zone: Vec<(Option<&str>, &Value)> = october["by_zone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| (cell["name"].as_str(), &cell["reports"]))
        .collect();
    assert_eq!(
        by_zone,
        [
            (Some("Monteverde"), &json!("withheld")),
            (None, &json!("< 5"))
        ],
        "Poggio Alto's two reports go unnamed, and Monteverde is withheld, or 8 - 6 would count them"
    );
    assert!(!figures.to_string().contains("Poggio Alto"));
    let hidden = &october["by_zone"][1];
    assert_eq!(hidden["zone_id"], Value::Null);
    assert!(
        [
            "acknowledged_within_target",
            "acknowledge_median_secs",
            "resolve_p90_secs"
        ]
        .iter()
        .all(|field| hidden[*field].is_null()),
        "a small count carries no share or time: {hidden}"
    );
    assert_eq!(november["all"]["reports"], 0);
    let flooding_target = figures["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|target| target["category"] == "flooding")
        .unwrap();
    assert_eq!(flooding_target["acknowledge_within_secs"], 15 * 60);

    let mut keys = BTreeSet::new();
    keys_of(&figures, &mut keys);
    let allowed = [
        "generated_at",
        "from",
        "to",
        "min_count",
        "level",
        "targets",
        "category",
        "acknowledge_within_secs",
        "resolve_within_secs",
        "months",
        "month",
        "all",
        "by_category",
        "by_zone",
        "zone_id",
        "name",
        "reports",
        "acknowledged_within_target",
        "resolved_within_target",
        "acknowledge_median_secs",
        "acknowledge_p90_secs",
        "resolve_median_secs",
        "resolve_p90_secs",
    ];
    assert!(
        keys.iter().all(|key| allowed.contains(&key.as_str())),
        "only counts and times: {keys:?}"
    );
    let text = figures.to_string();
    for personal in [
        "Maria Rossi",
        "1234567",
        "maria@example.org",
        "Acqua alta",
        "44.45",
        "11.22",
        "phone-1",
        "flood-0",
    ]
    .iter()
    .chain(floods.iter().map(String::as_str).collect::<Vec<_>>().iter())
    {
        assert!(
            !text.contains(personal),
            "`{personal}` is in the public figures"
        );
    }
}

#[tokio::test]
async fn the_minimum_is_the_offices_and_a_zone_reaching_it_is_named() {
    let clock = ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 10, 5, 8, 0, 0).unwrap());
    let app = TestApp::spawn_with_clock(clock.clone(), |config| {
        config.privacy.public_stats_min_count = 3;
    })
    .await;
    october(&app, &clock).await;
    app.report_of("slide-2", "landslide", POGGIO_ALTO).await;
    clock.advance(Duration::days(40));

    let (_, figures) = public_stats(&app, "?from=2026-10&to=2026-10").await;

    let october = &figures["months"][0];
    assert_eq!(figures["min_count"], 3);
    let zones: Vec<(&str, &Value)> = october["by_zone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| (cell["zone_id"].as_str().unwrap(), &cell["reports"]))
        .collect();
    assert_eq!(zones, [("demo-001", &json!(6)), ("demo-002", &json!(3))]);
    let landslides = october["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cell| cell["category"] == "landslide")
        .unwrap();
    assert_eq!(landslides["reports"], 3);
}

#[tokio::test]
async fn a_bad_month_a_backward_period_or_a_narrowing_is_refused_and_a_long_period_is_cut_to_36_months()
 {
    let app = TestApp::spawn().await;

    for (query, field) in [
        ("?from=2026-13", "from"),
        ("?to=November", "to"),
        ("?from=1969-12", "from"),
        ("?category=flooding", "category"),
        ("?zone=demo-001", "zone"),
        ("?from=2026-11&to=2026-10", "from"),
    ] {
        let (status, problem) = public_stats(&app, query).await;
        assert_eq!(status, 422, "{query}: {problem}");
        assert_valid("error", &problem);
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
    let (_, long) = public_stats(&app, "?from=2020-01&to=2026-10").await;
    assert_eq!(
        (
            long["from"].as_str(),
            long["months"].as_array().map(Vec::len)
        ),
        (Some("2023-11"), Some(36)),
        "a longer period is cut to its last 36 months, and says so"
    );
}
