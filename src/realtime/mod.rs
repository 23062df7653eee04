//! Live events to connected members: this instance's open sockets, grouped
//! by member, and the fan-out between instances. With Redis every event is
//! published on one channel that every instance subscribes to, and each
//! instance delivers it to its own sockets (the publisher hears its own
//! events too, so delivery has one path); without Redis the hub delivers in
//! process. Events are frames already encoded as JSON text, with the
//! members they are for.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::db::types::{MessageId, UserId};
use crate::redis_link::RedisLink;

/// One event: a frame and who should get it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub to: Vec<UserId>,
    /// The message id, when the frame carries a message (sockets skip
    /// messages they already sent from the backlog).
    #[serde(default)]
    pub message_id: Option<MessageId>,
    /// The frame, JSON text.
    pub frame: String,
    /// Sessions of these members ended (ban, sign-out elsewhere, a new
    /// password): instead of forwarding a frame, each of their sockets
    /// checks that its own session is still alive, and signs out if not.
    #[serde(default)]
    pub session_check: bool,
    /// Only news that these members changed (verified, roles, plan…): no
    /// frame for their sockets; every instance drops what it keeps of them.
    #[serde(default)]
    pub changed_only: bool,
    /// With `changed_only`: only these members' feed pages changed (a swipe,
    /// a rewind), nothing a principal holds, so the principal caches keep
    /// them.
    #[serde(default)]
    pub feed_only: bool,
}

impl Event {
    /// A frame for `to`.
    pub fn frame(to: Vec<UserId>, message_id: Option<MessageId>, frame: String) -> Self {
        Self {
            to,
            message_id,
            frame,
            session_check: false,
            changed_only: false,
            feed_only: false,
        }
    }

    /// News that `to` changed, with no frame: a change to the members
    /// (`feed_only: false`: every cache drops them) or only to their feeds.
    fn changed(to: Vec<UserId>, feed_only: bool) -> Self {
        Self {
            to,
            message_id: None,
            frame: String::new(),
            session_check: false,
            changed_only: true,
            feed_only,
        }
    }
}

type Sink = mpsc::UnboundedSender<Arc<Event>>;

/// Called with each member an event is for, here or on another instance.
type Listener = Box<dyn Fn(UserId) + Send + Sync>;

/// A listener, and whether it hears the events that only change feeds.
type Listening = (Listener, bool);

#[derive(Default)]
struct Sockets {
    by_member: HashMap<UserId, Vec<(u64, Sink)>>,
}

struct Inner {
    sockets: Mutex<Sockets>,
    next_id: AtomicU64,
    open: AtomicUsize,
    redis: Option<(RedisLink, String)>,
    shutdown: watch::Sender<bool>,
    listeners: std::sync::RwLock<Vec<Listening>>,
}

/// The hub of this instance. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

/// A registered socket: its events arrive on `events`; dropping it
/// unregisters the socket.
pub struct Registration {
    hub: Hub,
    member: UserId,
    id: u64,
    pub events: mpsc::UnboundedReceiver<Arc<Event>>,
    /// Becomes `true` when the instance shuts down.
    pub shutdown: watch::Receiver<bool>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(self.member, self.id);
    }
}

impl Hub {
    /// A hub that delivers in process only.
    pub fn local() -> Self {
        Self::with_redis(None)
    }

    fn with_redis(redis: Option<(RedisLink, String)>) -> Self {
        Self {
            inner: Arc::new(Inner {
                sockets: Mutex::new(Sockets::default()),
                next_id: AtomicU64::new(1),
                open: AtomicUsize::new(0),
                redis,
                shutdown: watch::channel(false).0,
                listeners: std::sync::RwLock::new(Vec::new()),
            }),
        }
    }

    /// The hub of a process: fed by Redis when there is a link, else local.
    pub async fn over(link: Option<RedisLink>, prefix: &str) -> anyhow::Result<Self> {
        match link {
            Some(link) => Self::connect(link, prefix).await,
            None => Ok(Self::local()),
        }
    }

    /// A hub fed by Redis pub/sub on `{prefix}:chat`. Returns once the
    /// subscription is in place, so an event published right after start
    /// is heard; a lost subscription is re-established in the background,
    /// on the new primary after a Sentinel failover.
    pub async fn connect(link: RedisLink, prefix: &str) -> anyhow::Result<Self> {
        let channel = format!("{prefix}:chat");
        let hub = Self::with_redis(Some((link.clone(), channel.clone())));
        let mut primaries = link.changes();
        primaries.mark_unchanged();
        let first = subscribe(&link.client(), &channel).await?;
        let listener = hub.clone();
        tokio::spawn(async move { listener.listen(link, primaries, channel, first).await });
        Ok(hub)
    }

    async fn listen(
        self,
        link: RedisLink,
        mut primaries: watch::Receiver<u64>,
        channel: String,
        first: redis::aio::PubSub,
    ) {
        let mut pubsub = Some(first);
        let mut shutdown = self.inner.shutdown.subscribe();
        // Set when the primary moved: subscribe there at once.
        let mut moved = false;
        loop {
            if let Some(mut ps) = pubsub.take() {
                let mut messages = ps.on_message();
                loop {
                    tokio::select! {
                        msg = messages.next() => {
                            let Some(msg) = msg else { break };
                            let Ok(payload) = msg.get_payload::<String>() else { continue };
                            match serde_json::from_str::<Event>(&payload) {
                                Ok(event) => self.deliver(Arc::new(event)),
                                Err(e) => tracing::warn!(error = %e, "unreadable chat event"),
                            }
                        }
                        Ok(()) = primaries.changed() => {
                            tracing::warn!("Redis primary changed: subscribing to chat there");
                            moved = true;
                            break;
                        }
                        _ = shutdown.changed() => return,
                    }
                }
                if !moved {
                    tracing::warn!("chat subscription lost; subscribing again");
                }
            }
            // Half a second between attempts, cut short when the primary moves.
            if !moved {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    Ok(()) = primaries.changed() => {}
                    _ = shutdown.changed() => return,
                }
            }
            moved = false;
            primaries.mark_unchanged();
            match subscribe(&link.client(), &channel).await {
                Ok(ps) => pubsub = Some(ps),
                Err(e) => tracing::warn!(error = %e, "chat subscription failed"),
            }
        }
    }

    /// Sends `event` to its members' sockets on every instance. Without
    /// Redis, or when Redis does not answer in time, to this instance's.
    /// The listeners of this instance hear of its members before this
    /// returns; those of the others when it arrives.
    pub async fn publish(&self, event: Event) {
        self.tell(&event);
        if let Some((conn, channel)) = &self.inner.redis {
            let payload = match serde_json::to_string(&event) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "chat event not encodable");
                    return;
                }
            };
            let mut conn = conn.clone();
            let mut cmd = redis::cmd("PUBLISH");
            cmd.arg(channel).arg(payload);
            let sent =
                tokio::time::timeout(Duration::from_secs(1), cmd.query_async::<i64>(&mut conn));
            match sent.await {
                Ok(Ok(_)) => return,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "chat publish failed; delivering here only")
                }
                Err(_) => tracing::warn!("chat publish timed out; delivering here only"),
            }
        }
        self.deliver(Arc::new(event));
    }

    /// Tells `member`'s sockets on every instance that sessions of theirs
    /// ended, so a socket whose session is gone signs out at once rather
    /// than live on after a ban or a sign-out elsewhere.
    pub async fn sessions_ended(&self, member: UserId) {
        self.publish(Event {
            to: vec![member],
            message_id: None,
            // What an instance that predates `session_check` passes on:
            // a frame chat.js ignores rather than fails to parse.
            frame: r#"{"type":"session_check"}"#.to_string(),
            session_check: true,
            changed_only: false,
            feed_only: false,
        })
        .await;
    }

    /// Tells every instance that what it keeps of `members` (their cached
    /// principals) is out of date: a verification, a role or plan change.
    pub async fn members_changed(&self, members: Vec<UserId>) {
        self.publish(Event::changed(members, false)).await;
    }

    /// Tells every instance that only the feeds of `members` changed (they
    /// swiped or rewound): their kept pages are out of date, their
    /// principals are not.
    pub async fn feeds_changed(&self, members: Vec<UserId>) {
        self.publish(Event::changed(members, true)).await;
    }

    /// [`Hub::members_changed`] for code that does not wait for the publish:
    /// this instance's listeners hear it before this returns, the other
    /// instances when the publish, run in the background, arrives.
    pub fn members_changed_soon(&self, members: Vec<UserId>) {
        let hub = self.clone();
        let event = Event::changed(members, false);
        self.tell(&event);
        tokio::spawn(async move { hub.publish(event).await });
    }

    /// Calls `listener` with every member an event is for: a message or a
    /// read marker (unread counts), sessions ended, a change, a feed change
    /// (kept feed pages drop them).
    pub fn on_event_for(&self, listener: impl Fn(UserId) + Send + Sync + 'static) {
        self.listen_with(Box::new(listener), true);
    }

    /// [`Hub::on_event_for`] without the events that only change feeds (the
    /// principal cache drops their entries).
    pub fn on_member_event_for(&self, listener: impl Fn(UserId) + Send + Sync + 'static) {
        self.listen_with(Box::new(listener), false);
    }

    fn listen_with(&self, listener: Listener, feeds_too: bool) {
        if let Ok(mut all) = self.inner.listeners.write() {
            all.push((listener, feeds_too));
        }
    }

    fn tell(&self, event: &Event) {
        if let Ok(all) = self.inner.listeners.read() {
            for (listener, feeds_too) in all.iter() {
                if event.feed_only && !feeds_too {
                    continue;
                }
                for member in &event.to {
                    listener(*member);
                }
            }
        }
    }

    /// Delivers to this instance's sockets of the event's members.
    fn deliver(&self, event: Arc<Event>) {
        self.tell(&event);
        if event.changed_only {
            return;
        }
        let Ok(sockets) = self.inner.sockets.lock() else {
            return;
        };
        for member in &event.to {
            for (_, sink) in sockets.by_member.get(member).into_iter().flatten() {
                let _ = sink.send(event.clone());
            }
        }
    }

    /// Registers a socket of `member`.
    pub fn register(&self, member: UserId) -> Registration {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut sockets) = self.inner.sockets.lock() {
            sockets.by_member.entry(member).or_default().push((id, tx));
        }
        self.inner.open.fetch_add(1, Ordering::Relaxed);
        Registration {
            hub: self.clone(),
            member,
            id,
            events: rx,
            shutdown: self.inner.shutdown.subscribe(),
        }
    }

    fn unregister(&self, member: UserId, id: u64) {
        if let Ok(mut sockets) = self.inner.sockets.lock() {
            if let Some(list) = sockets.by_member.get_mut(&member) {
                list.retain(|(i, _)| *i != id);
                if list.is_empty() {
                    sockets.by_member.remove(&member);
                }
            }
        }
        self.inner.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Open sockets of `member` on this instance.
    pub fn sockets_of(&self, member: UserId) -> usize {
        self.inner
            .sockets
            .lock()
            .map(|s| s.by_member.get(&member).map_or(0, Vec::len))
            .unwrap_or(0)
    }

    /// Open sockets on this instance (for the metrics).
    pub fn open_sockets(&self) -> usize {
        self.inner.open.load(Ordering::Relaxed)
    }

    /// Tells every socket to close with "going away" (the instance stops).
    pub fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
    }
}

async fn subscribe(client: &redis::Client, channel: &str) -> anyhow::Result<redis::aio::PubSub> {
    let connect = client.get_async_pubsub();
    let mut ps = tokio::time::timeout(Duration::from_secs(2), connect).await??;
    tokio::time::timeout(Duration::from_secs(2), ps.subscribe(channel)).await??;
    Ok(ps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(hub: &Hub, feeds_too: bool) -> Arc<AtomicUsize> {
        let heard = Arc::new(AtomicUsize::new(0));
        let count = heard.clone();
        let listener = move |_| {
            count.fetch_add(1, Ordering::Relaxed);
        };
        if feeds_too {
            hub.on_event_for(listener);
        } else {
            hub.on_member_event_for(listener);
        }
        heard
    }

    /// A swipe's event drops kept pages but not cached principals; a
    /// member's change drops both.
    #[tokio::test]
    async fn a_feed_change_reaches_only_the_listeners_of_every_event() {
        let hub = Hub::local();
        let (pages, principals) = (counter(&hub, true), counter(&hub, false));
        hub.feeds_changed(vec![UserId(1), UserId(2)]).await;
        let after_swipe = pages.load(Ordering::Relaxed);
        assert!(after_swipe >= 2, "both members' pages: {after_swipe}");
        assert_eq!(principals.load(Ordering::Relaxed), 0);
        hub.members_changed(vec![UserId(1)]).await;
        assert!(pages.load(Ordering::Relaxed) > after_swipe);
        assert!(principals.load(Ordering::Relaxed) >= 1);
    }
}
