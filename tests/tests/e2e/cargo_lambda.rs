//! The Docker-free way to run a function as Lambda runs it, as the README documents it:
//! cargo-lambda's Lambda Runtime API emulator (`cargo lambda watch`) serving a function binary,
//! and `cargo lambda invoke --data-file events/<file>.json`, for two functions against the
//! simulator and moto's Secrets Manager.
//!
//! The emulator runs with `--only-lambda-apis` and the test starts the binary `make test` has
//! already built: plain `cargo lambda watch` would build the function itself, and a build of one
//! package resolves a different feature set than the workspace build, i.e. compiles the whole
//! dependency tree again (minutes on two cores) to test the same code.

use crate::support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use e2e::{bin_path, venv_tool, workspace_root};
use serde_json::Value;
use support::Stack;
use tokio::process::{Child, Command};

/// How long one `cargo lambda invoke` may take (the first call fetches the secret and a token).
const CALL: Duration = Duration::from_secs(60);

fn cargo_lambda() -> PathBuf {
    venv_tool("cargo-lambda").unwrap_or_else(|e| panic!("{e}"))
}

/// One function served by cargo-lambda's emulator on a free loopback port; both processes are
/// killed when dropped.
struct Served {
    port: u16,
    _emulator: Child,
    _function: Child,
}

impl Served {
    /// `cargo lambda watch --only-lambda-apis`, then the compiled `binary` with the variables
    /// the emulator asks for (its Runtime API, function name `_`) and the stack's environment.
    async fn start(stack: &Stack, binary: &str) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let emulator = Command::new(cargo_lambda())
            .args(["lambda", "watch", "--only-lambda-apis"])
            .args([
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ])
            .current_dir(workspace_root())
            .env("PATH", path_with_venv())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("cargo lambda watch starts");
        wait_until_listening(port).await;
        let function = Command::new(bin_path(binary))
            .envs(stack.function_env())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} starts (built by `make test`?): {e}"));
        Served {
            port,
            _emulator: emulator,
            _function: function,
        }
    }

    /// `cargo lambda invoke _ --data-file events/<event>`: the function's answer.
    async fn invoke(&self, event: &str) -> Value {
        let invoke = Command::new(cargo_lambda())
            .args(["lambda", "invoke", "_"])
            .args([
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &self.port.to_string(),
            ])
            .arg("--data-file")
            .arg(workspace_root().join("events").join(event))
            .current_dir(workspace_root())
            .env("PATH", path_with_venv())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(CALL, invoke)
            .await
            .unwrap_or_else(|_| panic!("{event}: no answer within {CALL:?}"))
            .expect("cargo lambda invoke runs");
        assert!(
            output.status.success(),
            "cargo lambda invoke with {event} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{event}: the answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }
}

async fn wait_until_listening(port: u16) {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cargo lambda watch did not listen on port {port}");
}

fn path_with_venv() -> String {
    let venv = workspace_root().join(".venv/bin");
    match std::env::var("PATH") {
        Ok(path) => format!("{}:{path}", venv.display()),
        Err(_) => venv.display().to_string(),
    }
}

/// The body of an API Gateway proxy response.
fn body(response: &Value) -> Value {
    let text = response["body"].as_str().expect("a proxy response body");
    serde_json::from_str(text).expect("a JSON body")
}

#[tokio::test]
async fn two_functions_answer_their_events_under_cargo_lambda() {
    // Given the simulator and moto's Secrets Manager
    let stack = Stack::start().await;

    // When readAllDevicesPingID, under cargo-lambda's emulator, gets its REST event
    let served = Served::start(&stack, "read-all-devices-pingid").await;
    let devices = served.invoke("read-all-devices-pingid.rest.json").await;
    // Then it lists alice's devices from the simulator
    assert_eq!(devices["statusCode"], 200, "{devices}");
    let listed = body(&devices)["rawResponse"]["_embedded"]["devices"]
        .as_array()
        .map(Vec::len);
    assert!(listed.is_some_and(|n| n >= 3), "{devices}");

    // When readUserMFAEnabled gets its REST event
    let served = Served::start(&stack, "read-user-mfa-enabled").await;
    let mfa = served.invoke("read-user-mfa-enabled.rest.json").await;
    // Then it answers alice's MFA status
    assert_eq!(mfa["statusCode"], 200, "{mfa}");
    assert_eq!(body(&mfa)["mfaEnabled"], true, "{mfa}");
}
