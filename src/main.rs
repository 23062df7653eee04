use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    swiper::cli::run().await
}
