//! The `swiper` binary as a process, for the tests that run it whole.

use std::process::Command;

/// The binary with nothing from the caller's environment but `PATH` (the
/// defaults are under test), fast password hashing and no colours.
pub fn swiper_binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swiper"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PASSWORD_ITERATIONS", super::TEST_ITERATIONS)
        .env("NO_COLOR", "1");
    cmd
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
