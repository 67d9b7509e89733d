//! The Cloud API stand-in refuses the messages and requests Meta refuses, with its errors, and
//! serves media only to the token's holder.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Graph, MARIA, PHONE, TIMEOUT, TOKEN, buttons, error_of, hex, list};

#[tokio::test]
async fn an_interactive_message_with_four_buttons_is_refused() {
    let api = Graph::start().await;
    api.set_limits(80, 100);
    api.open_window(MARIA);
    let four = api
        .send(MARIA, buttons(&["Sì", "No", "Forse", "Aiuto"]))
        .await;
    let details = "Param interactive.action.buttons must have 1 to 3 buttons, not 4";
    assert_eq!(error_of(&four), (400, 100, details.into()));
    assert_eq!(four.1["error"]["message"], "(#100) Invalid parameter");
    let location_request = json!({"type": "interactive", "interactive": {
        "type": "location_request_message", "body": {"text": "Dove sei?"},
        "action": {"name": "send_location"},
    }});
    let mut wrong_action = location_request.clone();
    wrong_action["interactive"]["action"]["name"] = json!("share");
    let photo = json!({"type": "image", "image": {"link": "https://example.org/frana.jpg"}});
    let mut pictured_buttons = buttons(&["Sì", "No", "Aiuto"]);
    pictured_buttons["interactive"]["header"] = photo.clone();
    let mut pictured_list = list(&[1]);
    pictured_list["interactive"]["header"] = photo;
    let cases = [
        (buttons(&["Sì", "Sì"]), "Button titles must be unique"),
        (
            buttons(&["Un titolo troppo lungo"]),
            "Param interactive.action.buttons[].reply.title must be at most 20 characters long",
        ),
        (
            list(&[6, 5]),
            "Total row count exceed max allowed count: 10 (got 11)",
        ),
        (
            wrong_action,
            "Param interactive.action.name must be send_location",
        ),
        (
            pictured_list,
            "Param interactive.header.type \"image\" is not allowed in a list message",
        ),
    ];
    for (message, details) in cases {
        let answer = api.send(MARIA, message.clone()).await;
        assert_eq!(error_of(&answer), (400, 100, details.into()), "{message}");
    }
    for message in [pictured_buttons, list(&[6, 4]), location_request] {
        assert_eq!(api.send(MARIA, message).await.0, 200);
    }
    let sent = api.wait_for_sent(3, TIMEOUT).await;
    let choices = |titles: &[&str]| -> Vec<(String, String)> {
        let titles = titles.iter().enumerate();
        titles
            .map(|(n, title)| (format!("b{n}"), title.to_string()))
            .collect()
    };
    assert_eq!(sent[0].choices(), choices(&["Sì", "No", "Aiuto"]));
    assert_eq!(
        (sent[1].choices().len(), sent[1].text.as_str()),
        (10, "Cosa succede?")
    );
    assert_eq!(sent[2].kind, "interactive");
}

#[tokio::test]
async fn messages_meta_would_refuse_are_refused_with_its_errors() {
    let api = Graph::start().await;
    api.set_limits(80, 100);
    api.open_window(MARIA);
    let text = json!({"messaging_product": "whatsapp", "to": MARIA, "text": {"body": "Ciao"}});
    let path = format!("/v21.0/{PHONE}/messages");
    let (status, body) = api.post(&path, "wrong", text.clone()).await;
    let message = "Invalid OAuth access token - Cannot parse access token";
    assert_eq!((status, &body["error"]["message"]), (401, &json!(message)));
    assert_eq!(
        (&body["error"]["code"], body["error"].get("error_data")),
        (&json!(190), None)
    );
    let elsewhere = api.post("/v21.0/999/messages", TOKEN, text.clone()).await;
    assert_eq!(
        (elsewhere.0, &elsewhere.1["error"]["code"]),
        (400, &json!(100))
    );
    let unversioned = api
        .post(&format!("/latest/{PHONE}/messages"), TOKEN, text)
        .await;
    assert_eq!(
        (unversioned.0, &unversioned.1["error"]["code"]),
        (400, &json!(2500))
    );
    let no_product = api
        .post(&path, TOKEN, json!({"to": MARIA, "text": {"body": "x"}}))
        .await;
    let required = "(#100) The parameter messaging_product is required.";
    assert_eq!(no_product.1["error"]["message"], required);

    let cases = [
        (
            json!({"type": "text", "text": {"body": ""}}),
            "Param text.body is required",
        ),
        (
            json!({"type": "text", "text": {"body": "x".repeat(4097)}}),
            "Param text.body must be at most 4096 characters long",
        ),
        (
            json!({"type": "video", "video": {"id": "1"}}),
            "Unsupported message type: video",
        ),
        (
            json!({"type": "image", "image": {}}),
            "Param image must have an id or a link",
        ),
    ];
    for (message, details) in cases {
        let answer = api.send(MARIA, message.clone()).await;
        assert_eq!(error_of(&answer), (400, 100, details.into()), "{message}");
    }
    let plus = api.text("+39 333 1234567", "x").await;
    assert_eq!(error_of(&plus).1, 100, "to is the wa_id's digits");

    let long = json!({"type": "text", "text": {"body": "è".repeat(4096), "preview_url": false}});
    let image = json!({"type": "image", "image": {"link": "https://example.org/a.jpg",
                                                   "caption": "Frana"}});
    let place = json!({"type": "location", "location": {"latitude": 44.45, "longitude": 11.22,
                                                        "name": "Municipio"}});
    for message in [long, image, place] {
        assert_eq!(api.send(MARIA, message).await.0, 200);
    }
    let sent = api.wait_for_sent(3, TIMEOUT).await;
    let kinds: Vec<(&str, &str)> = sent[1..]
        .iter()
        .map(|s| (s.kind.as_str(), s.text.as_str()))
        .collect();
    assert_eq!(kinds, [("image", "Frana"), ("location", "Municipio")]);
    let calls = api.calls();
    assert_eq!(calls.len(), 12, "a wrong token is a call too");
    assert_eq!((calls[0].status, calls[0].code), (401, Some(190)));
}

#[tokio::test]
async fn media_is_downloaded_only_with_the_token() {
    let api = Graph::start().await;
    let jpeg = vec![0xff, 0xd8, 0xff, 0xd9];
    api.add_media("media-1", "image/jpeg", jpeg.clone());
    let info_url = format!("{}/v21.0/media-1", api.base_url());
    assert_eq!(api.get(&info_url, None).await.status(), 401);
    let info: Value = api
        .get(&info_url, Some(TOKEN))
        .await
        .json()
        .await
        .expect("JSON");
    let url = format!("{}/media-download/media-1", api.base_url());
    assert_eq!(info["url"], json!(url));
    assert_eq!(
        (&info["mime_type"], &info["file_size"]),
        (&json!("image/jpeg"), &json!(4))
    );
    assert_eq!(
        (&info["sha256"], &info["id"]),
        (&json!(hex(&Sha256::digest(&jpeg))), &json!("media-1"))
    );

    let anonymous = api.get(&url, None).await;
    assert_eq!(anonymous.status(), 401);
    let refused: Value = anonymous.json().await.expect("a Graph error");
    assert_eq!(refused["error"]["code"], 190);
    assert_eq!(api.get(&url, Some("wrong")).await.status(), 401);
    let download = api.get(&url, Some(TOKEN)).await;
    assert_eq!(download.headers()["content-type"], "image/jpeg");
    assert_eq!(download.bytes().await.expect("the bytes").as_ref(), jpeg);

    let unknown = api
        .get(&format!("{}/v21.0/nope", api.base_url()), Some(TOKEN))
        .await;
    assert_eq!(unknown.status(), 400);
    let unknown: Value = unknown.json().await.expect("a Graph error");
    assert_eq!(unknown["error"]["code"], 100);
}
