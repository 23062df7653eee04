//! The process's one handle on Redis, shared by the counters, the session
//! store, the chat hub and the readiness check. Redis is either one server
//! (`REDIS_URL`) or a primary watched by Sentinels (`REDIS_SENTINELS` and
//! `REDIS_SENTINEL_MASTER`).
//!
//! One server: a connection manager that reconnects to that address, every
//! command bounded by [`REDIS_BOUND`]. Under Sentinel: the connection
//! manager of the primary the Sentinels name, replaced when they name
//! another. A watcher asks them every second, and at once (at most every
//! 200 ms) after a command fails the way a failover makes it fail (refused,
//! dropped, given up by its caller, or answered by a primary turned
//! read-only replica), so the process follows a promotion within about a
//! second. The Sentinels are asked all at once, each within half a second,
//! and the first valid answer wins: a Sentinel that is down, hung or stale
//! delays nothing. The chat hub's subscription follows too:
//! [`RedisLink::changes`] tells it when to subscribe again.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    Client, Cmd, ErrorKind, IntoConnectionInfo, Pipeline, RedisFuture, RedisResult, Value,
};
use tokio::sync::{watch, Notify};

use crate::config::RedisSettings;

/// How long one Redis command may take before the caller answers without it.
pub const REDIS_BOUND: Duration = Duration::from_millis(1000);

/// How often the Sentinels are asked who the primary is, with no failure seen.
const WATCH_EVERY: Duration = Duration::from_secs(1);
/// The least time between two questions to the Sentinels.
const WATCH_PACE: Duration = Duration::from_millis(200);
/// How long one Sentinel gets to name the primary (and the primary to
/// confirm its role).
const ASK_BOUND: Duration = Duration::from_millis(500);

/// Cheap to clone; every clone talks to the current primary.
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

struct Inner {
    node: RwLock<Node>,
    /// Counts the primaries followed; the chat hub subscribes again on a change.
    generation: watch::Sender<u64>,
    /// Wakes the watcher early (a command failed as a failover makes it fail).
    nudge: Notify,
    /// Empty without Sentinel.
    sentinels: Vec<Sentinel>,
}

/// One Sentinel, asked through a client of its own (redis-rs asks a list
/// of Sentinels one after the other, with no time-out on each).
struct Sentinel {
    address: String,
    master: String,
    nodes: SentinelNodeConnectionInfo,
    client: tokio::sync::Mutex<SentinelClient>,
}

impl Sentinel {
    fn new(address: &str, master: &str, nodes: SentinelNodeConnectionInfo) -> RedisResult<Self> {
        Ok(Self {
            address: address.to_string(),
            master: master.to_string(),
            client: tokio::sync::Mutex::new(Self::client(address, master, &nodes)?),
            nodes,
        })
    }

    fn client(
        address: &str,
        master: &str,
        nodes: &SentinelNodeConnectionInfo,
    ) -> RedisResult<SentinelClient> {
        SentinelClient::build(
            vec![format!("redis://{address}")],
            master.to_string(),
            Some(nodes.clone()),
            SentinelServerType::Master,
        )
    }

    /// A client for the primary this Sentinel names, once the primary has
    /// confirmed its role. A Sentinel that does not answer in time gets a
    /// fresh client (its cached connection may be stuck).
    async fn primary(&self) -> anyhow::Result<Client> {
        let mut client = self.client.lock().await;
        match tokio::time::timeout(ASK_BOUND, client.async_get_client()).await {
            Ok(named) => Ok(named?),
            Err(_) => {
                *client = Self::client(&self.address, &self.master, &self.nodes)?;
                anyhow::bail!("Sentinel {} did not answer in time", self.address)
            }
        }
    }
}

/// The primary the first Sentinel to answer validly names.
async fn ask(sentinels: &[Sentinel]) -> anyhow::Result<Client> {
    let asks = sentinels.iter().map(|s| Box::pin(s.primary()));
    let (client, _) = futures_util::future::select_ok(asks)
        .await
        .map_err(|e| e.context("no Sentinel named a primary"))?;
    Ok(client)
}

#[derive(Clone)]
struct Node {
    address: String,
    client: Client,
    conn: ConnectionManager,
}

impl Node {
    /// `retries`: reconnect attempts a command waits for when the
    /// connection is lost. A single server gets two (a blip passes); a
    /// primary named by Sentinels none, so commands fail at once while it is
    /// gone and the watcher moves them to the next one.
    async fn open(client: Client, retries: usize) -> RedisResult<Self> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(REDIS_BOUND)
            .set_response_timeout(REDIS_BOUND)
            .set_factor(100)
            .set_exponent_base(2)
            .set_max_delay(500)
            .set_number_of_retries(retries);
        let conn = client.get_connection_manager_with_config(config).await?;
        Ok(Self {
            address: client.get_connection_info().addr.to_string(),
            client,
            conn,
        })
    }
}

impl RedisLink {
    /// Connects as the settings say; `None` without Redis. Fails when the
    /// server (or every Sentinel, or the primary they name) cannot be
    /// reached within the bound.
    pub async fn connect(settings: &RedisSettings) -> anyhow::Result<Option<Self>> {
        if let Some(master) = &settings.sentinel_master {
            let nodes = node_info(settings)?;
            let sentinels = settings
                .sentinels
                .iter()
                .map(|address| Sentinel::new(address, master, nodes.clone()))
                .collect::<RedisResult<Vec<_>>>()?;
            let node = Node::open(ask(&sentinels).await?, 0).await?;
            tracing::info!(primary = %node.address, master = %master, "Redis through Sentinel");
            let link = Self::new(node, sentinels);
            tokio::spawn(watch_sentinels(Arc::downgrade(&link.inner)));
            return Ok(Some(link));
        }
        let Some(url) = &settings.url else {
            return Ok(None);
        };
        let node = Node::open(Client::open(url.expose())?, 2).await?;
        Ok(Some(Self::new(node, Vec::new())))
    }

    fn new(node: Node, sentinels: Vec<Sentinel>) -> Self {
        Self {
            inner: Arc::new(Inner {
                node: RwLock::new(node),
                generation: watch::channel(0).0,
                nudge: Notify::new(),
                sentinels,
            }),
        }
    }

    fn node(&self) -> Node {
        self.inner
            .node
            .read()
            .map(|n| n.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// A client for the current primary (the chat hub's subscriptions).
    pub fn client(&self) -> Client {
        self.node().client
    }

    /// Changes when another primary is followed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.generation.subscribe()
    }

    /// Whether a primary answers within the bound: `ROLE`, not `PING`, so a
    /// primary turned read-only replica does not count as ready.
    pub async fn ping(&self) -> bool {
        let mut conn = self.clone();
        let cmd = redis::cmd("ROLE");
        let role = cmd.query_async::<redis::Role>(&mut conn);
        let primary = matches!(
            tokio::time::timeout(REDIS_BOUND, role).await,
            Ok(Ok(redis::Role::Primary { .. }))
        );
        if !primary {
            self.nudge();
        }
        primary
    }

    fn nudge(&self) {
        if !self.inner.sentinels.is_empty() {
            self.inner.nudge.notify_one();
        }
    }
}

/// Watches one command: nudges the watcher when it fails the way a failover
/// makes it fail, or when its caller gives up on it (dropped unfinished: a
/// time-out around the call).
struct Watched<'a> {
    link: &'a RedisLink,
    finished: bool,
}

impl Watched<'_> {
    fn finish<T>(mut self, result: &RedisResult<T>) {
        self.finished = true;
        if let Err(e) = result {
            if e.is_io_error()
                || e.is_connection_refusal()
                || e.is_connection_dropped()
                || e.is_timeout()
                || e.kind() == ErrorKind::ReadOnly
            {
                self.link.nudge();
            }
        }
    }
}

impl Drop for Watched<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.link.nudge();
        }
    }
}

impl ConnectionLike for RedisLink {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let watched = Watched {
                link: self,
                finished: false,
            };
            let result = self.node().conn.req_packed_command(cmd).await;
            watched.finish(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let watched = Watched {
                link: self,
                finished: false,
            };
            let result = self
                .node()
                .conn
                .req_packed_commands(cmd, offset, count)
                .await;
            watched.finish(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.node().client.get_connection_info().redis.db
    }
}

/// The user, password and database of `REDIS_URL`, if given, for the nodes
/// the Sentinels name (its host is not used).
fn node_info(settings: &RedisSettings) -> anyhow::Result<SentinelNodeConnectionInfo> {
    let redis = match &settings.url {
        Some(url) => Some(url.expose().into_connection_info()?.redis),
        None => None,
    };
    Ok(SentinelNodeConnectionInfo {
        tls_mode: None,
        redis_connection_info: redis,
    })
}

/// Asks the Sentinels who the primary is every [`WATCH_EVERY`], or sooner
/// when nudged, and follows a new one. Ends with the link.
async fn watch_sentinels(link: Weak<Inner>) {
    loop {
        let Some(inner) = link.upgrade() else { return };
        follow(&inner).await;
        tokio::time::sleep(WATCH_PACE).await;
        let _ = tokio::time::timeout(WATCH_EVERY - WATCH_PACE, inner.nudge.notified()).await;
    }
}

async fn follow(inner: &Inner) {
    if inner.sentinels.is_empty() {
        return;
    }
    let client = match ask(&inner.sentinels).await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "no primary from the Redis Sentinels"
            );
            return;
        }
    };
    let address = client.get_connection_info().addr.to_string();
    let current = inner
        .node
        .read()
        .map(|n| n.address.clone())
        .unwrap_or_default();
    if address == current {
        return;
    }
    match tokio::time::timeout(REDIS_BOUND * 2, Node::open(client, 0)).await {
        Ok(Ok(node)) => {
            if let Ok(mut slot) = inner.node.write() {
                *slot = node;
            }
            inner.generation.send_modify(|g| *g += 1);
            tracing::warn!(from = %current, to = %address, "Redis primary changed: following it");
        }
        Ok(Err(e)) => tracing::warn!(error = %e, to = %address, "the new Redis primary refused"),
        Err(_) => tracing::warn!(to = %address, "the new Redis primary did not answer in time"),
    }
}
