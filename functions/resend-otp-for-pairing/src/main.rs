#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(resend_otp_for_pairing::ResendOtpForPairing).await
}
