//! What the API answers, as types: each handler serialises one of these,
//! and the OpenAPI document (`openapi.rs`) is generated from the same
//! types, so the document and the answers cannot drift apart.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Settings;
use crate::matches::messages::Message;
use crate::profiles::public::PublicProfile;

/// An error (RFC 9457): `code` is the machine code the pages use too;
/// `errors` gives a code per refused field (422).
#[derive(Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
}

/// The answer of a login or a refresh.
#[derive(Serialize, ToSchema)]
pub struct Tokens {
    /// A JWT (EdDSA), valid `expires_in` seconds.
    pub access_token: String,
    /// Opaque, single-use: trade it for the next tokens.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    pub user: TokenUser,
}

#[derive(Serialize, ToSchema)]
pub struct TokenUser {
    pub id: i64,
    /// Whether the member can swipe yet: `false` for a phone number's new
    /// account until `PUT /api/v1/me/profile` gives nickname, sex and
    /// birthday (accounts made by the sign-up form or OAuth are complete
    /// from the start).
    pub profile_complete: bool,
}

/// One signing key (RFC 8037).
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub usage: String,
}

/// The keys access tokens are signed with (RFC 7517).
#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// A person as the feed, the likes and the matches show them.
#[derive(Serialize, ToSchema)]
pub struct Card {
    pub id: i64,
    pub nickname: String,
    /// Absent when the member hides it.
    pub age: Option<i32>,
    pub city: String,
    /// Whole kilometres, when both members gave a position and it is not hidden.
    pub distance_km: Option<u32>,
    pub bio: String,
    /// Absolute URLs, the main photo first.
    pub photos: Vec<String>,
    pub superliked_me: bool,
}

impl Card {
    pub fn of(settings: &Settings, p: &PublicProfile, superliked_me: bool) -> Self {
        let url = |u: &str| {
            if u.starts_with("http://") || u.starts_with("https://") {
                u.to_string()
            } else {
                settings.absolute_url(u)
            }
        };
        Self {
            id: p.id.0,
            nickname: p.nickname.clone(),
            age: p.age,
            city: p.city.clone(),
            distance_km: p.distance_km,
            bio: p.bio.clone(),
            photos: p.photos.iter().map(|ph| url(&ph.large)).collect(),
            superliked_me,
        }
    }
}

/// A page of people; `next_cursor` (also in a `Link` header) asks for the next.
#[derive(Serialize, ToSchema)]
pub struct CardPage {
    pub items: Vec<Card>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Swiped {
    pub matched: bool,
    pub match_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Rewound {
    /// The member whose swipe was undone (back in the feed).
    pub target: i64,
}

/// A chat message.
#[derive(Serialize, ToSchema)]
pub struct ChatMessage {
    pub id: i64,
    pub match_id: i64,
    pub from: i64,
    pub body: String,
    pub client_id: String,
    /// RFC 3339.
    pub sent_at: String,
}

impl ChatMessage {
    pub fn of(m: &Message) -> Self {
        Self {
            id: m.id.0,
            match_id: m.match_id.0,
            from: m.sender_id.0,
            body: m.body.clone(),
            client_id: m.client_id.clone(),
            sent_at: m.sent_at.and_utc().to_rfc3339(),
        }
    }
}

/// A page of messages, oldest first; `next_cursor` is the `before` of the
/// older page.
#[derive(Serialize, ToSchema)]
pub struct MessagePage {
    pub items: Vec<ChatMessage>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MatchItem {
    pub id: i64,
    pub user: Card,
    pub unread: i64,
    pub last_message: Option<ChatMessage>,
}

#[derive(Serialize, ToSchema)]
pub struct MatchPage {
    pub items: Vec<MatchItem>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Reported {
    pub reported: bool,
}

/// One of my sessions, web or app.
#[derive(Serialize, ToSchema)]
pub struct SessionItem {
    /// A handle for `DELETE /api/v1/sessions/{id}` (not the session's secret).
    pub id: String,
    pub device: String,
    pub created_at: String,
    pub last_seen_at: String,
    /// The session of this request.
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionPage {
    pub items: Vec<SessionItem>,
    pub next_cursor: Option<String>,
}

/// My profile: the profile form's fields, typed.
#[derive(Serialize, ToSchema)]
pub struct MyProfile {
    pub nickname: String,
    pub bio: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub time_zone: String,
    pub want_sex: String,
    pub min_age: i32,
    pub max_age: i32,
    pub max_distance_km: i32,
    pub discoverable: bool,
    pub hide_age: bool,
    pub hide_distance: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MyPhoto {
    pub id: i64,
    pub main: bool,
    /// `processing`, `ready` or `failed`.
    pub status: String,
    /// Absolute, once the photo is ready.
    pub url: Option<String>,
}

/// My account, profile and photos.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    /// None for an account made by a phone number.
    pub email: Option<String>,
    pub email_verified: bool,
    pub language: Option<String>,
    pub profile_complete: bool,
    /// Given once: by the sign-up form, or while the profile is incomplete.
    pub sex: Option<String>,
    pub birthday: Option<String>,
    pub profile: MyProfile,
    pub photos: Vec<MyPhoto>,
}

/// A photo taken for processing.
#[derive(Serialize, ToSchema)]
pub struct Uploaded {
    pub id: i64,
    /// `processing`: `GET /api/v1/me` shows when it is ready.
    pub status: String,
}

/// The multipart body of `POST /api/v1/me/photos`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// A JPEG, PNG or WebP image.
    #[schema(value_type = String, format = Binary)]
    pub photo: Vec<u8>,
}

/// What a swipe says (`SwipeKind`'s names).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SwipeKindName {
    Like,
    Superlike,
    Dislike,
}

/// Why a member is reported (`ReportReason`'s names).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ReportReasonName {
    Spam,
    FakeProfile,
    Harassment,
    Inappropriate,
    Underage,
    Other,
}
