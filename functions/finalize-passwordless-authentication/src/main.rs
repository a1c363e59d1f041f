#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(finalize_passwordless_authentication::FinalizePasswordless).await
}
