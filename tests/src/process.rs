//! A child process whose output is captured line by line and which dies with its handle.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// How many trailing log lines an error message quotes.
const LOG_TAIL_LINES: usize = 40;

/// A running child process with captured stdout + stderr; killed (SIGKILL) when dropped.
pub(crate) struct Supervised {
    /// Short name used in error messages.
    name: String,
    /// Behind an async mutex because waiting for the exit needs `&mut Child` while callers only
    /// hold `&self`; dropping the mutex drops the child, which kills it (`kill_on_drop`).
    child: tokio::sync::Mutex<Child>,
    /// Every line the process wrote to stdout or stderr, in arrival order.
    logs: Arc<Mutex<Vec<String>>>,
    /// The OS process id (benchmarks read its CPU time and memory from `/proc`).
    pid: Option<u32>,
}

impl Supervised {
    /// Spawns `command` with stdin closed and stdout/stderr captured.
    ///
    /// Must be called inside a Tokio runtime (the output readers are tasks).
    pub(crate) fn spawn(name: &str, mut command: Command) -> anyhow::Result<Self> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;

        let logs = Arc::new(Mutex::new(Vec::new()));
        // Both pipes must be drained continuously: a full pipe buffer would block the child.
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(collect_lines(stdout, Arc::clone(&logs)));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(collect_lines(stderr, Arc::clone(&logs)));
        }

        Ok(Self {
            name: name.to_owned(),
            pid: child.id(),
            child: tokio::sync::Mutex::new(child),
            logs,
        })
    }

    /// Resolves when the process has exited (immediately if it already has).
    pub(crate) async fn exited(&self) -> std::io::Result<ExitStatus> {
        self.child.lock().await.wait().await
    }

    /// Kills the process (SIGKILL) and waits until it is gone.
    pub(crate) async fn stop(&self) -> std::io::Result<()> {
        let mut child = self.child.lock().await;
        child.start_kill()?;
        child.wait().await.map(|_| ())
    }

    /// The OS process id, while the process runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The output lines captured so far.
    pub(crate) fn logs(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The last lines of output, formatted for an error message.
    pub(crate) fn log_tail(&self) -> String {
        let logs = self.logs();
        let tail = &logs[logs.len().saturating_sub(LOG_TAIL_LINES)..];
        if tail.is_empty() {
            format!("{} printed nothing", self.name)
        } else {
            format!(
                "last {} lines of {} output:\n  {}",
                tail.len(),
                self.name,
                tail.join("\n  ")
            )
        }
    }
}

/// Appends each line read from `pipe` to `logs` until end of file.
async fn collect_lines(pipe: impl AsyncRead + Unpin, logs: Arc<Mutex<Vec<String>>>) {
    // Split on bytes, not `lines()`: one invalid UTF-8 byte must not end the capture.
    let mut lines = BufReader::new(pipe).split(b'\n');
    // A read error means the pipe is gone (process killed): nothing more to collect.
    while let Ok(Some(line)) = lines.next_segment().await {
        let line = String::from_utf8_lossy(&line)
            .trim_end_matches('\r')
            .to_owned();
        logs.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }
}
