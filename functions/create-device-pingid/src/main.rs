#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::RuntimeError> {
    shared::lambda::run(create_device_pingid::CreateDevice).await
}
