//! A TCP proxy between one instance and Redis that can silence pub/sub:
//! the subscribing connections stay open, but nothing Redis sends on them
//! arrives any more. A half-open link is the worst way to lose events: no
//! error, so nothing resubscribes. Commands on other connections pass.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct RedisProxy {
    /// `REDIS_URL` for the instance behind the proxy.
    pub url: String,
    silenced: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

impl RedisProxy {
    /// Listens on a free loopback port and forwards to the server `redis_url`
    /// names. It runs on a thread of its own, so it keeps forwarding while
    /// the test's runtime is blocked (an app's `Drop` cleans Redis through it).
    pub fn start(redis_url: &str) -> Self {
        let mut url = reqwest::Url::parse(redis_url).expect("a Redis URL");
        let upstream = format!(
            "{}:{}",
            url.host_str().expect("a host"),
            url.port().unwrap_or(6379)
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("addr").port();
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(port)).expect("port");
        let silenced = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let (s, d) = (silenced.clone(), dropped.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        continue;
                    };
                    tokio::spawn(pipe(client, server, s.clone(), d.clone()));
                }
            });
        });
        Self {
            url: url.to_string(),
            silenced,
            dropped,
        }
    }

    /// From now on, what Redis sends to a subscribing connection is lost.
    pub fn silence_subscriptions(&self) {
        self.silenced.store(true, Ordering::SeqCst);
    }

    /// Bytes kept from subscribers so far (the events they never got).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::SeqCst)
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    silenced: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let subscriber = Arc::new(AtomicBool::new(false));
    let marks = subscriber.clone();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let sent = String::from_utf8_lossy(&buf[..n]).to_ascii_uppercase();
            if sent.contains("SUBSCRIBE") {
                marks.store(true, Ordering::SeqCst);
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if subscriber.load(Ordering::SeqCst) && silenced.load(Ordering::SeqCst) {
                dropped.fetch_add(n as u64, Ordering::SeqCst);
                continue;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        _ = up => {},
        _ = down => {},
    }
}
