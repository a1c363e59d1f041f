#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(device_select_device_authentication::DeviceSelectDeviceAuthentication).await
}
