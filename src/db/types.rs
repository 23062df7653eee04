//! Column types with meaning: newtype ids and enums stored as text, wired
//! into Diesel for both backends. The ids every layer passes around live
//! here, at the bottom (so the realtime hub, the audit log and the features
//! all say `UserId`, not `i64`); a status enum is declared with
//! [`text_enum!`] in the store that owns its table. Error and field codes
//! are text enums too, with a catalog prefix for their messages.

/// A newtype id over a `BIGINT` column: `id_type!(UserId);`.
#[macro_export]
macro_rules! id_type {
    // A secret id over a `TEXT` column (a session id): never printed, never
    // serialized; `expose()` for the one place that needs the value.
    ($(#[$meta:meta])* $name:ident: secret text) => {
        $(#[$meta])*
        #[derive(
            Clone, PartialEq, Eq, Hash,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value read from the session state, a row or a token.
            pub fn from_secret(value: String) -> Self {
                Self(value)
            }

            /// The value itself: for the session state, and as an HMAC or hash
            /// input (CSRF binding, session handle, password check); never shown.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }

        $crate::id_type!(@sql $name, diesel::sql_types::Text, String);
    };
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        $crate::id_type!(@sql $name, diesel::sql_types::BigInt, i64);
    };
    // The column's value is the newtype's inner value.
    (@sql $name:ident, $sql:ty, $inner:ty) => {
        impl<DB> diesel::serialize::ToSql<$sql, DB> for $name
        where
            DB: diesel::backend::Backend,
            $inner: diesel::serialize::ToSql<$sql, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.0.to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<$sql, DB> for $name
        where
            DB: diesel::backend::Backend,
            $inner: diesel::deserialize::FromSql<$sql, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                <$inner>::from_sql(bytes).map(Self)
            }
        }
    };
}

/// An enum over a `TEXT` column, each variant with its stored string:
/// `text_enum!(JobStatus { Queued => "queued", Done => "done" });`.
/// An unknown stored string is a deserialization error, never a panic.
/// With `messages "prefix"` after the name, each variant also has the
/// catalog key of its message (`prefix.<text>`): the error and field codes.
#[macro_export]
macro_rules! text_enum {
    (@messages $name:ident $prefix:literal { $($variant:ident => $text:literal,)+ }) => {
        impl $name {
            /// The catalog key of the message shown for this code.
            pub fn message_key(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($prefix, ".", $text),)+
                }
            }
        }
    };
    (@messages $name:ident { $($variant:ident => $text:literal,)+ }) => {};
    ($(#[$meta:meta])* $name:ident $(, messages $prefix:literal)? { $($variant:ident => $text:literal,)+ }) => {
        $crate::text_enum!(@messages $name $($prefix)? { $($variant => $text,)+ });

        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The stored (and wire) string.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = String::from_sql(bytes)?;
                Self::parse(&s).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " {:?}"), s).into()
                })
            }
        }
    };
}

id_type!(
    /// A member's id.
    UserId
);
id_type!(
    /// A match's id.
    MatchId
);
id_type!(
    /// A chat message's id.
    MessageId
);
id_type!(
    /// A staff role's id.
    RoleId
);
id_type!(
    /// A membership plan's id.
    PlanId
);
id_type!(
    /// A login session's id: the identity kept in the server-side session
    /// state (never in a cookie), and the CSRF token's binding.
    SessionId: secret text
);
id_type!(
    /// A text column holding a secret (a password hash, a sealed TOTP
    /// secret): a row printed in a log or a panic shows `SecretText(***)`.
    SecretText: secret text
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_columns_never_print_their_value() {
        let hash = SecretText::from_secret("pbkdf2_sha256$600000$salt$hash".into());
        let session = SessionId::from_secret("cookie-value".into());
        let printed = format!("{hash:?} {session:?} {:?}", Some(&hash));
        assert!(!printed.contains("pbkdf2") && !printed.contains("cookie-value"));
        assert!(printed.contains("SecretText(***)") && printed.contains("SessionId(***)"));
    }

    #[test]
    fn codes_and_statuses_share_one_macro() {
        crate::text_enum!(Demo, messages "error" { One => "not_found", Two => "forbidden", });
        assert_eq!(Demo::parse("forbidden"), Some(Demo::Two));
        assert_eq!(Demo::One.message_key(), "error.not_found");
        assert_eq!(Demo::ALL.len(), 2);
    }
}
