#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(update_user_mfa_enabled::UpdateUserMfaEnabled).await
}
