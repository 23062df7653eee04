//! The read replica (`DATABASE_REPLICA_URL`): reads that may lag go to it,
//! writes and reads of one's own writes to the primary, and a replica that
//! does not answer leaves reads on the primary. A second database that has
//! not "caught up" (migrated, empty) stands in for the replica here, which
//! shows where each read goes; the topology test runs a real streaming
//! replica.

use swiper::auth::User;

use crate::admin::staff;
use crate::helpers::*;

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with -- --include-ignored"]
async fn lagging_reads_go_to_the_replica_and_own_writes_to_the_primary() {
    require_postgres();
    let standby = TestDb::new();
    run_on(&standby.pool(), |c| {
        swiper::startup::migrate_and_sync(c).map(|_| ())
    })
    .await
    .expect("the stand-in replica is migrated");
    let app = spawn_app_with(&[("DATABASE_REPLICA_URL", standby.url.as_str())]).await;
    let admin = staff(&app, "boss@example.com", swiper::auth::rbac::SUPERADMIN).await;

    let on_replica = app
        .state
        .db
        .read(|c| Ok(User::count(c)?))
        .await
        .expect("read");
    let on_primary = app
        .state
        .db
        .primary(|c| Ok(User::count(c)?))
        .await
        .expect("read");
    assert_eq!((on_replica, on_primary), (0, 1));
    // The staff search reads the replica (it has not caught up); the
    // member page, read after actions on it, the primary.
    let list = admin.html("/admin/users").await;
    assert!(!list.contains("data-user=\"1\""), "{list}");
    let page = admin.html("/admin/users/1").await;
    assert!(page.contains("boss@example.com"), "{page}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with -- --include-ignored"]
async fn reads_fall_back_to_the_primary_when_the_replica_is_down() {
    require_postgres();
    let app = spawn_app_with(&[(
        "DATABASE_REPLICA_URL",
        "postgres://postgres@127.0.0.1:1/nowhere",
    )])
    .await;
    app.member(&app.new_browser(), "one@example.com").await;
    for _ in 0..2 {
        let n = app
            .state
            .db
            .read(|c| Ok(User::count(c)?))
            .await
            .expect("the read runs on the primary");
        assert_eq!(n, 1);
    }
}
