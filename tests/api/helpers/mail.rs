//! A real SMTP server for the app to send to, and reading links out of mails.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

/// A real SMTP server (the `mailin` protocol library over TCP) that hands
/// every received message to the test.
pub struct MailSink {
    pub port: u16,
    rx: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>,
}

#[derive(Clone)]
struct Collector {
    tx: tokio::sync::mpsc::UnboundedSender<String>,
    buf: Vec<u8>,
}

impl mailin::Handler for Collector {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> mailin::Response {
        self.buf.clear();
        mailin::response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> mailin::Response {
        let _ = self
            .tx
            .send(String::from_utf8_lossy(&self.buf).into_owned());
        mailin::response::OK
    }
}

impl MailSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp sink");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = Collector {
                    tx: tx.clone(),
                    buf: Vec::new(),
                };
                std::thread::spawn(move || {
                    let peer = stream
                        .peer_addr()
                        .map(|a| a.ip())
                        .unwrap_or([127, 0, 0, 1].into());
                    let mut session = mailin::SessionBuilder::new("sink.test").build(peer, handler);
                    let mut writer = stream.try_clone().expect("clone stream");
                    let _ = session.greeting().write_to(&mut writer);
                    let mut reader = BufReader::new(stream);
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        match reader.read_until(b'\n', &mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                        let response = session.process(&line);
                        match response.action {
                            mailin::Action::Close => {
                                let _ = response.write_to(&mut writer);
                                break;
                            }
                            mailin::Action::NoReply => {}
                            _ => {
                                let _ = response.write_to(&mut writer);
                            }
                        }
                        let _ = writer.flush();
                    }
                });
            }
        });
        Self {
            port,
            rx: tokio::sync::Mutex::new(rx),
        }
    }

    /// A message already received, if any (without waiting).
    pub async fn try_next(&self) -> Option<String> {
        self.rx.lock().await.try_recv().ok()
    }

    /// The next message, decoded enough to read links (quoted-printable soft breaks).
    pub async fn next_mail(&self) -> String {
        self.next_raw()
            .await
            .replace("=\r\n", "")
            .replace("=3D", "=")
    }

    /// The next message as received.
    pub async fn next_raw(&self) -> String {
        let mut rx = self.rx.lock().await;
        tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("a mail should arrive at the SMTP server within a minute")
            .expect("the SMTP sink is running")
    }
}

/// The first link in a mail that starts with `prefix` (e.g. the app's base URL + path).
pub fn link_in(mail: &str, path: &str) -> String {
    let at = mail
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in mail:\n{mail}"));
    let start = mail[..at].rfind("http").unwrap_or(at);
    let rest = &mail[start..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    rest[..end].to_string()
}

/// A mail's subject and text as its reader sees them (encoded words and
/// the transfer encoding undone): what a member reads in Chinese.
pub fn read_mail(raw: &str) -> (String, String) {
    use mailparse::MailHeaderMap;
    let parsed = mailparse::parse_mail(raw.as_bytes()).expect("a well-formed mail");
    let subject = parsed
        .headers
        .get_first_value("Subject")
        .unwrap_or_default();
    (subject, parsed.get_body().expect("a readable body"))
}
