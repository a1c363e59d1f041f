#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(create_pairing_key_pingid::CreatePairingKey).await
}
