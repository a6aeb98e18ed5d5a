//! A tmux server of its own running one command in a 160×48 pane, for tests
//! that drive the real binary as a person would (keys in, screen out).
//! Killed on drop, also when the test fails.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// `sh SCRIPT` in a new pane.
    pub fn start(test: &str, script: &Path) -> Tmux {
        static N: AtomicU32 = AtomicU32::new(0);
        let t = Tmux {
            socket: format!(
                "gitops-tui-test-{}-{}-{test}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ),
        };
        let out = t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "160",
            "-y",
            "48",
            &format!("sh '{}'", script.display()),
        ]);
        assert!(
            out.status.success(),
            "tmux is required (apt-get install tmux): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("tmux");
        cmd.arg("-L").arg(&self.socket).args(args);
        for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            cmd.env_remove(var);
        }
        cmd.output().expect("run tmux")
    }

    pub fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success(), "send-keys {keys:?}");
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// A pane format (`#{mouse_any_flag}`), as tmux prints it.
    pub fn format(&self, format: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "t", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Poll the screen until `ok`, at most 30 s; the screen then.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited 30 s for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// A script running the TUI on a fixture's config and cluster, with its state
/// (and log) under the fixture's folder, `env` exported (`VAR=value ...`) and
/// `flags` after the global options; then `echo EXIT:$?` and `stty -a`, so
/// the pane shows how the TUI left the terminal.
pub fn tui_script(f: &super::Fixture, env: &str, flags: &str) -> std::path::PathBuf {
    tui_script_for(f, &f.kubeconfig, env, flags)
}

/// The same with another kubeconfig (a token with fewer rights, say).
pub fn tui_script_for(
    f: &super::Fixture,
    kubeconfig: &std::path::Path,
    env: &str,
    flags: &str,
) -> std::path::PathBuf {
    let state = f.dir.path().join("state");
    let path = f.dir.path().join("tui.sh");
    std::fs::write(
        &path,
        format!(
            "unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy\n\
             export XDG_STATE_HOME='{state}' XDG_CACHE_HOME='{state}' {env}\n\
             '{bin}' --config '{config}' --kubeconfig '{kc}' {flags}\n\
             echo EXIT:$?\nstty -a\nsleep 60\n",
            state = state.display(),
            bin = env!("CARGO_BIN_EXE_gitops-tui"),
            config = f.config.display(),
            kc = kubeconfig.display(),
        ),
    )
    .expect("script");
    path
}
