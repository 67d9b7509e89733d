//! The Cloud API stand-in against a plain HTTP client: it answers as Meta does. Its checks of
//! message bodies and its webhook side (against a tiny receiver playing the hub) are tested in
//! the two files declared below.

#[path = "whatsapp_tests_checks.rs"]
mod checks;
#[path = "whatsapp_tests_inbound.rs"]
mod inbound;

use std::time::Duration;

use serde_json::{Value, json};

use super::whatsapp::CloudApi;

const TIMEOUT: Duration = Duration::from_secs(10);
const TOKEN: &str = "EAAGtest-access-token";
const PHONE: &str = "106540352242922";
const MARIA: &str = "393331234567";
const LUCA: &str = "393479876543";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A stand-in and a client of it, for one test.
struct Graph {
    api: CloudApi,
    http: reqwest::Client,
}

impl std::ops::Deref for Graph {
    type Target = CloudApi;

    fn deref(&self) -> &CloudApi {
        &self.api
    }
}

impl Graph {
    async fn start() -> Graph {
        let api = CloudApi::start(TOKEN, PHONE).await;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        Graph { api, http }
    }

    async fn get(&self, url: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the stand-in answers")
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let url = format!("{}{path}", self.base_url());
        let request = self.http.post(url).bearer_auth(token).json(&body);
        let answer = request.send().await.expect("the stand-in answers");
        let status = answer.status().as_u16();
        (status, answer.json().await.expect("a JSON answer"))
    }

    /// Sends `message` (its type and content) to `to`.
    async fn send(&self, to: &str, message: Value) -> (u16, Value) {
        let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual"});
        body["to"] = json!(to);
        body.as_object_mut()
            .expect("an object")
            .extend(message.as_object().expect("a message object").clone());
        let path = format!("/v21.0/{PHONE}/messages");
        self.post(&path, TOKEN, body).await
    }

    async fn text(&self, to: &str, text: &str) -> (u16, Value) {
        self.send(to, json!({"type": "text", "text": {"body": text}}))
            .await
    }
}

/// Meta's error code, and its details (or message, if it gives no details).
fn error_of(answer: &(u16, Value)) -> (u16, u64, String) {
    let error = &answer.1["error"];
    assert_eq!(error["type"], "OAuthException", "{}", answer.1);
    assert!(error["fbtrace_id"].is_string(), "{}", answer.1);
    let said = error["error_data"]["details"]
        .as_str()
        .or(error["message"].as_str());
    let code = error["code"].as_u64().expect("a code");
    (answer.0, code, said.unwrap_or_default().to_owned())
}

fn template(name: &str, language: &str, params: &[&str]) -> Value {
    let params: Vec<Value> = params
        .iter()
        .map(|text| json!({"type": "text", "text": text}))
        .collect();
    json!({"type": "template", "template": {
        "name": name, "language": {"code": language},
        "components": [{"type": "body", "parameters": params}],
    }})
}

fn buttons(titles: &[&str]) -> Value {
    let buttons: Vec<Value> = titles
        .iter()
        .enumerate()
        .map(
            |(n, title)| json!({"type": "reply", "reply": {"id": format!("b{n}"), "title": title}}),
        )
        .collect();
    json!({"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Sei al sicuro?"}, "action": {"buttons": buttons},
    }})
}

fn list(rows_per_section: &[usize]) -> Value {
    let sections: Vec<Value> = rows_per_section
        .iter()
        .enumerate()
        .map(|(s, &rows)| {
            let rows: Vec<Value> = (0..rows)
                .map(|r| {
                    json!({"id": format!("r{s}.{r}"), "title": format!("Zona {s}.{r}"),
                                "description": "Frane e allagamenti"})
                })
                .collect();
            json!({"title": format!("Sezione {s}"), "rows": rows})
        })
        .collect();
    json!({"type": "interactive", "interactive": {
        "type": "list", "body": {"text": "Cosa succede?"},
        "action": {"button": "Scegli", "sections": sections},
    }})
}

#[tokio::test]
async fn a_free_form_message_outside_the_24_hour_window_is_accepted_then_fails_but_a_template_goes()
{
    let api = Graph::start().await;
    api.set_limits(80, 100);
    let accepted = api.text(MARIA, "Allerta").await;
    assert_eq!(accepted.0, 200, "{}", accepted.1);
    assert!(accepted.1["messages"][0]["id"].is_string());
    assert_eq!(
        api.refused_later(),
        [MARIA],
        "it fails in a status notification"
    );

    api.add_template("allerta_meteo", "it", 2);
    let (status, body) = api
        .send(
            MARIA,
            template("allerta_meteo", "it", &["rossa", "Monteverde"]),
        )
        .await;
    assert_eq!(
        (status, &body["contacts"]),
        (200, &json!([{"input": MARIA, "wa_id": MARIA}]))
    );
    let wamid = body["messages"][0]["id"].as_str().expect("a wamid");
    let one = api
        .send(MARIA, template("allerta_meteo", "it", &["rossa"]))
        .await;
    let count = "body: number of localizable_params (1) does not match the expected number of \
                 params (2)";
    assert_eq!(error_of(&one), (400, 132000, count.into()));
    let english = api
        .send(MARIA, template("allerta_meteo", "en", &["a", "b"]))
        .await;
    let missing = "template name (allerta_meteo) does not exist in en";
    assert_eq!(error_of(&english), (404, 132001, missing.into()));
    let message = "(#132001) Template name does not exist in the translation";
    assert_eq!(english.1["error"]["message"], message);
    let lines = api
        .send(MARIA, template("allerta_meteo", "it", &["a\nb", "c"]))
        .await;
    assert_eq!(error_of(&lines).1, 132018);

    api.open_window(MARIA);
    assert_eq!(api.text(MARIA, "Ora sì").await.0, 200);
    api.close_window(MARIA);
    assert_eq!(api.text(MARIA, "Ora no").await.0, 200);
    assert_eq!(api.refused_later(), [MARIA, MARIA]);
    let sent = api.sent();
    let kinds: Vec<(&str, &str)> = sent
        .iter()
        .map(|s| (s.kind.as_str(), s.text.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("template", "allerta_meteo: rossa | Monteverde"),
            ("text", "Ora sì")
        ]
    );
    assert_eq!((sent[0].wamid.as_str(), sent[0].seq), (wamid, 1));
}

#[tokio::test]
async fn a_second_message_to_one_recipient_within_six_seconds_hits_the_pair_rate_limit() {
    let api = Graph::start().await;
    api.open_window(MARIA);
    api.open_window(LUCA);
    assert_eq!(api.text(MARIA, "uno").await.0, 200);
    let refused = api.text(MARIA, "due").await;
    assert_eq!((error_of(&refused).0, error_of(&refused).1), (400, 131056));
    let message = "(#131056) (Business Account, Consumer Account) pair rate limit hit";
    assert_eq!(refused.1["error"]["message"], message);
    assert_eq!(
        api.text(LUCA, "tre").await.0,
        200,
        "another user has their own limit"
    );
    assert_eq!(api.refused_rate(), 1);
    let texts: Vec<String> = api.sent().into_iter().map(|sent| sent.text).collect();
    assert_eq!(texts, ["uno", "tre"]);

    let api = Graph::start().await;
    api.set_limits(2, 10);
    for user in ["393330000001", "393330000002", "393330000003"] {
        api.open_window(user);
    }
    assert_eq!(api.text("393330000001", "a").await.0, 200);
    assert_eq!(api.text("393330000002", "b").await.0, 200);
    let refused = api.text("393330000003", "c").await;
    assert_eq!(
        (refused.0, &refused.1["error"]["code"]),
        (400, &json!(130429))
    );
    assert_eq!(refused.1["error"]["message"], "(#130429) Rate limit hit");
    assert_eq!(api.refused_429(), 1);
}

#[tokio::test]
async fn a_blocked_recipient_is_undeliverable() {
    let api = Graph::start().await;
    api.set_limits(80, 100);
    api.open_window(MARIA);
    api.add_template("allerta_meteo", "it", 0);
    api.block(MARIA);
    for message in [
        json!({"text": {"body": "Ciao"}}),
        template("allerta_meteo", "it", &[]),
    ] {
        let refused = api.send(MARIA, message).await;
        assert_eq!(
            (refused.0, &refused.1["error"]["code"]),
            (400, &json!(131026))
        );
        assert_eq!(
            refused.1["error"]["message"],
            "(#131026) Message undeliverable"
        );
    }
    assert!(api.sent().is_empty());
    api.unblock(MARIA);
    assert_eq!(api.text(MARIA, "Ciao").await.0, 200);
}

#[tokio::test]
async fn next_message_to_returns_each_message_to_a_recipient_once() {
    let api = Graph::start().await;
    api.set_limits(80, 100);
    api.open_window(MARIA);
    api.open_window(LUCA);
    api.text(MARIA, "uno").await;
    api.text(LUCA, "altro").await;
    assert_eq!(api.next_message_to(MARIA, TIMEOUT).await.text, "uno");
    let (next, _) = tokio::join!(api.next_message_to(MARIA, TIMEOUT), api.text(MARIA, "due"));
    assert_eq!((next.text.as_str(), next.seq), ("due", 3));
}

#[tokio::test]
#[should_panic(expected = "no message 1 to 393331234567")]
async fn next_message_to_a_silent_recipient_panics_with_what_was_refused() {
    let api = Graph::start().await;
    api.text(MARIA, "fuori finestra").await;
    api.next_message_to(MARIA, Duration::from_millis(50)).await;
}

#[tokio::test]
async fn keep_only_times_keeps_when_and_to_whom_and_refusals() {
    let api = Graph::start().await;
    api.keep_only_times();
    api.open_window(MARIA);
    assert_eq!(api.text(MARIA, "uno").await.0, 200);
    let bad_template =
        json!({"type": "template", "template": {"name": "nessuno", "language": {"code": "it"}}});
    assert_eq!(api.send(LUCA, bad_template).await.0, 404);
    let sent = api.sent();
    assert_eq!(
        (sent[0].to.as_str(), sent[0].text.as_str(), &sent[0].body),
        (MARIA, "", &Value::Null)
    );
    let calls = api.calls();
    assert_eq!((calls.len(), calls[0].code), (1, Some(132001)));
}

#[tokio::test]
async fn a_dropped_stand_in_answers_no_more() {
    let api = Graph::start().await;
    let url = format!("{}/v21.0/{PHONE}", api.base_url());
    assert_eq!(api.get(&url, Some(TOKEN)).await.status(), 200);
    let Graph { api, http } = api;
    drop(api);
    let again = http.get(&url).bearer_auth(TOKEN).send().await;
    assert!(again.is_err(), "nothing answers: {again:?}");
}
