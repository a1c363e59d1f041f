#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(initialize_passwordless_authentication::InitializePasswordless).await
}
