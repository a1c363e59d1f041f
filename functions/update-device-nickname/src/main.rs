#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(update_device_nickname::UpdateDeviceNickname).await
}
