#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(cancel_device_authentication_pingid::CancelDeviceAuthentication).await
}
