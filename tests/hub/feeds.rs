//! The public feeds as feed readers take them: what a notice says reaches the reader as the
//! office wrote it, whatever characters it holds.

use crate::support::TestApp;
use crate::support::notices::{notice_body, zones};

#[tokio::test]
async fn an_rss_reader_shows_a_description_with_markup_as_the_text_it_is() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let mut body = notice_body("Actual", zones(&["demo-001"]));
    body["info"]["it"]["description"] =
        "Livello <b>oltre</b> l'argine & in crescita <script>x()</script>".into();
    app.publish_notice(&team, &body).await;

    let (status, rss) = app.get_text("/feeds/cap.rss").await;
    let channel: rss::Channel = rss.parse().expect("the feed parses as RSS");

    assert_eq!(status, 200);
    let description = channel.items[0].description.as_deref().unwrap_or_default();
    assert_eq!(
        description,
        "Livello &lt;b&gt;oltre&lt;/b&gt; l'argine &amp; in crescita \
         &lt;script&gt;x()&lt;/script&gt;",
        "RSS readers take a description as HTML: the text must not become markup"
    );
}

#[tokio::test]
async fn an_rss_item_links_the_notices_page_beside_its_cap_document() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let notice = app
        .publish_notice(&team, &notice_body("Actual", zones(&["demo-001"])))
        .await;

    let (_, rss) = app.get_text("/feeds/cap.rss").await;
    let channel: rss::Channel = rss.parse().expect("the feed parses as RSS");

    let item = &channel.items[0];
    assert_eq!(item.link.as_deref(), notice["cap_url"].as_str());
    let related = &item.extensions["atom"]["link"][0].attrs;
    assert_eq!(
        (related["rel"].as_str(), related["type"].as_str()),
        ("related", "text/html")
    );
    assert_eq!(Some(related["href"].as_str()), notice["page_url"].as_str());
}
