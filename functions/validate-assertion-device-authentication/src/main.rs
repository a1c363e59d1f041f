#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(
        validate_assertion_device_authentication::ValidateAssertionDeviceAuthentication,
    )
    .await
}
