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
