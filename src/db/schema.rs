// Written by hand in the types both backends share (no Timestamptz, Uuid or
// Jsonb): timestamps are naive UTC, JSON is text. Kept in step with both
// migration folders.

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        nickname -> Text,
        sex -> Text,
        birthday -> Date,
        email_verified_at -> Nullable<Timestamp>,
        verification_sent_at -> Nullable<Timestamp>,
        is_superadmin -> Bool,
        is_active -> Bool,
        language -> Nullable<Text>,
        time_zone -> Nullable<Text>,
        password_changed_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reset_sent_at -> Nullable<Timestamp>,
        avatar_key -> Nullable<Text>,
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
        password_usable -> Bool,
        plan_id -> Nullable<BigInt>,
        unread_messages -> BigInt,
        phone -> Nullable<Text>,
        profile_pending -> Bool,
        match_mail -> Bool,
        message_mail -> Bool,
        deleted_at -> Nullable<Timestamp>,
        banned_at -> Nullable<Timestamp>,
        purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_sessions (id) {
        id -> Text,
        user_id -> BigInt,
        remember -> Bool,
        ip -> Text,
        user_agent -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        unique_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    profiles (user_id) {
        user_id -> BigInt,
        sex -> Text,
        birthday -> Date,
        bio -> Text,
        city -> Text,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        want_sex -> Text,
        min_age -> Integer,
        max_age -> Integer,
        max_distance_km -> Integer,
        discoverable -> Bool,
        completeness -> Integer,
        last_active_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        in_feed -> Bool,
        lat_band -> Nullable<Integer>,
        lng_band -> Nullable<Integer>,
        city_key -> Text,
        hide_age -> Bool,
        hide_distance -> Bool,
    }
}

diesel::table! {
    photos (id) {
        id -> BigInt,
        user_id -> BigInt,
        storage_key -> Text,
        status -> Text,
        is_main -> Bool,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reviewed_at -> Nullable<Timestamp>,
        position -> Integer,
    }
}

diesel::table! {
    runtime_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    swipes (id) {
        id -> BigInt,
        swiper_id -> BigInt,
        target_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    matches (id) {
        id -> BigInt,
        user_a -> BigInt,
        user_b -> BigInt,
        created_at -> Timestamp,
        a_read_up_to -> BigInt,
        b_read_up_to -> BigInt,
        a_unread -> BigInt,
        b_unread -> BigInt,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        match_id -> BigInt,
        sender_id -> BigInt,
        body -> Text,
        client_id -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    rewinds (id) {
        id -> BigInt,
        user_id -> BigInt,
        target_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        reporter_id -> BigInt,
        target_id -> BigInt,
        reason -> Text,
        details -> Text,
        status -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<BigInt>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    auth_events (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        ip -> Text,
        user_agent -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_identities (id) {
        id -> BigInt,
        user_id -> BigInt,
        provider -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    permissions (code) {
        code -> Text,
    }
}

diesel::table! {
    roles (id) {
        id -> BigInt,
        name -> Text,
        description -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_permissions (role_id, permission) {
        role_id -> BigInt,
        permission -> Text,
    }
}

diesel::table! {
    user_roles (user_id, role_id) {
        user_id -> BigInt,
        role_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        ip -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    plans (id) {
        id -> BigInt,
        name -> Text,
        superlike_daily_limit -> Nullable<BigInt>,
        rewind_daily_limit -> Nullable<BigInt>,
        see_likes -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    daily_stats (day) {
        day -> Date,
        signups -> BigInt,
        active -> BigInt,
        swipes -> BigInt,
        matches -> BigInt,
        messages -> BigInt,
        computed_at -> Timestamp,
    }
}

diesel::joinable!(users -> plans (plan_id));
diesel::joinable!(role_permissions -> roles (role_id));
diesel::joinable!(user_roles -> roles (role_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(messages -> users (sender_id));
diesel::joinable!(oauth_identities -> users (user_id));
diesel::joinable!(auth_events -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(user_sessions -> users (user_id));
diesel::joinable!(profiles -> users (user_id));
diesel::joinable!(photos -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));
diesel::table! {
    api_refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(api_refresh_tokens -> user_sessions (session_id));

diesel::table! {
    web_sessions (key_hash) {
        key_hash -> Text,
        state -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    banned_contacts (contact_hash) {
        contact_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    data_exports (id) {
        id -> BigInt,
        user_id -> BigInt,
        status -> Text,
        storage_key -> Nullable<Text>,
        created_at -> Timestamp,
        ready_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    data_exports,
    banned_contacts,
    users,
    messages,
    user_sessions,
    account_tokens,
    jobs,
    profiles,
    photos,
    runtime_settings,
    swipes,
    matches,
    rewinds,
    blocks,
    reports,
    auth_events,
    recovery_codes,
    oauth_identities,
    permissions,
    roles,
    role_permissions,
    user_roles,
    audit_log,
    plans,
    daily_stats,
    web_sessions,
    api_refresh_tokens
);
