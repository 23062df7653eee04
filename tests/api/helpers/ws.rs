//! A WebSocket client for `/ws/chat`: the browser's cookies, an `Origin`,
//! and JSON frames.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::Browser;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/ws/chat{query}` as `browser` (its cookies), from `origin`.
pub async fn ws_connect(
    browser: &Browser,
    origin: Option<&str>,
    query: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    use reqwest::cookie::CookieStore;
    let url = format!("{}/ws/chat{query}", browser.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request()?;
    let base = url::Url::parse(&browser.base).expect("base url");
    if let Some(cookies) = browser.jar.cookies(&base) {
        req.headers_mut().insert("cookie", cookies);
    }
    if let Some(origin) = origin {
        req.headers_mut()
            .insert("origin", origin.parse().expect("an origin"));
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// The status a refused handshake got.
pub fn refused_status(e: &tokio_tungstenite::tungstenite::Error) -> Option<u16> {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(res) => Some(res.status().as_u16()),
        _ => None,
    }
}

/// The next JSON text frame (pings and pongs skipped). Waits at most 10 s,
/// a bound against hanging, not a timing assertion.
pub async fn next_frame(ws: &mut Ws) -> serde_json::Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("the socket is open")
            .expect("a valid frame");
        match msg {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame: {other:?}"),
        }
    }
}

pub async fn send_json(ws: &mut Ws, frame: serde_json::Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .expect("send");
}

pub async fn send_raw(ws: &mut Ws, msg: Message) {
    ws.send(msg).await.expect("send");
}

/// Opens `/ws/chat` as an app: a bearer token, no cookie, no `Origin`.
pub async fn ws_connect_bearer(
    base: &str,
    token: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let url = format!("{}/ws/chat", base.replacen("http", "ws", 1));
    let mut req = url.into_client_request()?;
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("a header"),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}
