//! Triage from the operator's side: reports in, status changes, and what each channel hears.

use reqwest::Method;
use serde_json::{Value, json};

use super::{TestApp, assert_valid, report};

impl TestApp {
    /// Sends a report over HTTP and returns its id.
    pub async fn report_id(&self, body: &Value) -> String {
        let response = self.post_report(body).await;
        assert!(
            response.status().is_success(),
            "report refused: {}",
            response.status()
        );
        let receipt: Value = response.json().await.expect("a receipt");
        let id = receipt["id"].as_str().expect("an id").to_owned();
        let token = receipt["follow_token"].as_str().expect("a follow token");
        self.follow_tokens
            .lock()
            .unwrap()
            .insert(id.clone(), token.to_owned());
        id
    }

    /// The follow token the reporter of `id` got with its ack (reports sent by `report_id`).
    pub fn follow_token(&self, id: &str) -> String {
        self.follow_tokens.lock().unwrap()[id].clone()
    }

    /// A report of `category` at `at`, with no device, and its id.
    pub async fn report_of(&self, client_ref: &str, category: &str, at: (f64, f64)) -> String {
        let mut body = report(client_ref, at);
        body["category"] = json!(category);
        body.as_object_mut().unwrap().remove("device_id");
        self.report_id(&body).await
    }

    /// The report as an operator sees it, checked against the schema.
    pub async fn report_view(&self, id: &str) -> Value {
        let (status, view) = self.get_json(&format!("/api/v1/reports/{id}")).await;
        assert_eq!(status, 200, "{view}");
        assert_valid("report", &view);
        view
    }

    /// POSTs `body` to `path` as the holder of `token`.
    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.send_json(Method::POST, path, token, body).await
    }

    /// Sends a status change at the report's current version, as an operator.
    pub async fn change(&self, id: &str, change: Value) -> (u16, Value) {
        let version = self.report_view(id).await["version"].clone();
        let mut body = change;
        body["version"] = version;
        assert_valid("report-status-change", &body);
        let token = self.operator_token().await;
        self.post_as(&token, &format!("/api/v1/reports/{id}/status"), &body)
            .await
    }

    /// Moves a report to `status` and insists it worked.
    pub async fn move_to(&self, id: &str, status: &str) -> Value {
        let (code, view) = self.change(id, json!({ "status": status })).await;
        assert_eq!(code, 200, "{view}");
        assert_valid("report", &view);
        view
    }

    /// The updates a reporter was given, read with its follow token.
    pub async fn updates_of(&self, id: &str) -> Vec<Value> {
        let token = self.follow_token(id);
        let (status, page) = self
            .get_json_as(&format!("/api/v1/reports/{id}/updates?token={token}"), None)
            .await;
        assert_eq!(status, 200, "{page}");
        assert_valid("report-updates", &page);
        page["updates"].as_array().unwrap().clone()
    }

    /// The report's history as staff see it.
    pub async fn history_of(&self, id: &str) -> Vec<Value> {
        let (status, page) = self
            .get_json(&format!("/api/v1/reports/{id}/history"))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_valid("report-history", &page);
        page["history"].as_array().unwrap().clone()
    }
}
