#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(read_device_authentication_policy::ReadDeviceAuthenticationPolicy).await
}
