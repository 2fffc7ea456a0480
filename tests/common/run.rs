//! Running the `prism` binary from an async test without stalling the mock server that
//! the same process serves.

use std::path::Path;
use std::process::{Command, Stdio};

/// What a run of the binary left behind.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `prism ARGS` in `dir` (its sessions under `dir/sessions`, with `env` set) on a
/// blocking thread, so the mock in this process keeps serving meanwhile.
pub async fn prism_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_prism"))
            .args(&args)
            .current_dir(&dir)
            .env("PRISM_SESSIONS_DIR", dir.join("sessions"))
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .expect("run prism");
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    })
    .await
    .unwrap()
}
