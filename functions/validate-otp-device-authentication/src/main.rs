#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(validate_otp_device_authentication::ValidateOtpDeviceAuthentication).await
}
