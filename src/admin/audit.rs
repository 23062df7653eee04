//! The audit log: every staff action, who did it, to what, the state before
//! and after (JSON text), from which IP and when. The application only
//! inserts; there is no update or delete path.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::UserId;
use crate::db::schema::audit_log;
use crate::db::DbConnection;

/// One staff action, as written.
pub struct Entry<'a> {
    /// The staff member, or `None` for the system (a periodic job).
    pub actor: Option<UserId>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: &'a str,
}

/// Who acts, from where, when: a staff member's request (or the system).
pub struct Actor {
    pub id: Option<UserId>,
    pub ip: String,
    pub now: NaiveDateTime,
}

impl Actor {
    /// The staff member behind `req`, acting at `now`.
    pub fn staff(
        staff: &super::guard::Staff,
        req: &actix_web::HttpRequest,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id: Some(staff.me.id),
            ip: crate::web::client_ip::of(req),
            now,
        }
    }

    /// Writes this actor's entry, inside the transaction of the change.
    pub fn record(
        &self,
        c: &mut DbConnection,
        action: &str,
        target: (&str, String),
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> QueryResult<()> {
        record(
            c,
            &Entry {
                actor: self.id,
                action,
                target_type: target.0,
                target_id: target.1,
                before,
                after,
                ip: &self.ip,
            },
            self.now,
        )
    }
}

pub fn record(c: &mut DbConnection, e: &Entry<'_>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(e.actor),
            audit_log::action.eq(e.action),
            audit_log::target_type.eq(e.target_type),
            audit_log::target_id.eq(&e.target_id),
            audit_log::before.eq(e.before.as_ref().map(|v| v.to_string())),
            audit_log::after.eq(e.after.as_ref().map(|v| v.to_string())),
            audit_log::ip.eq(e.ip),
            audit_log::created_at.eq(now),
        ))
        .execute(c)
        .map(|_| ())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub ip: String,
    pub created_at: NaiveDateTime,
}

impl AuditRow {
    /// The change as a reader takes it in: one line per field that
    /// changed, `field: before → after`, values as plain words (a string
    /// without its quotes). A value that is not a JSON object is one line
    /// without a field name.
    pub fn changes(&self) -> Vec<(String, String, String)> {
        let parse = |v: &Option<String>| {
            v.as_deref()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        };
        let plain = |v: Option<&serde_json::Value>| match v {
            None | Some(serde_json::Value::Null) => "—".to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        match (parse(&self.before), parse(&self.after)) {
            (before, after)
                if before.as_ref().is_none_or(|b| b.is_object())
                    && after.as_ref().is_none_or(|a| a.is_object()) =>
            {
                let empty = serde_json::Map::new();
                let b = before
                    .as_ref()
                    .and_then(|v| v.as_object())
                    .unwrap_or(&empty);
                let a = after.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
                let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter()
                    .filter(|k| b.get(*k) != a.get(*k))
                    .map(|k| (k.replace('_', " "), plain(b.get(k)), plain(a.get(k))))
                    .collect()
            }
            (before, after) => vec![(String::new(), plain(before.as_ref()), plain(after.as_ref()))],
        }
    }
}

/// What the audit page filters by.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct Filter {
    pub action: Option<String>,
    pub actor: Option<UserId>,
    pub target: Option<String>,
    /// Keyset pagination: entries older than this id.
    pub before: Option<i64>,
}

/// Newest first, `limit` at most.
pub fn list(c: &mut DbConnection, f: &Filter, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(action) = f.action.as_deref().filter(|a| !a.is_empty()) {
        q = q.filter(audit_log::action.eq(action.to_string()));
    }
    if let Some(actor) = f.actor {
        q = q.filter(audit_log::actor_id.eq(actor));
    }
    if let Some(target) = f.target.as_deref().filter(|t| !t.is_empty()) {
        q = q.filter(audit_log::target_id.eq(target.to_string()));
    }
    if let Some(before) = f.before {
        q = q.filter(audit_log::id.lt(before));
    }
    q.order(audit_log::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(c)
}
