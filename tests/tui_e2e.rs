//! End to end: the real binary's `demo` in a tmux pane (160×48), driven with
//! `send-keys` and read with `capture-pane`, as a person would use it.
//!
//! Each test has its own tmux server (`-L <unique socket>`, killed on drop,
//! also when the test fails) and its own demo world in a temporary folder.
//! Waits poll the screen with a deadline; nothing sleeps a fixed long time.
//! The pane runs a small script: the binary, then `echo EXIT:$?` and
//! `stty -a`, so after the TUI exits the pane shows how it left the terminal.
//!
//! tmux is required (`.ci/run` installs it): without it these tests fail
//! rather than pass having tested nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gitops-tui");
const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
/// Longest wait for one thing to appear (the first one includes building
/// the demo world, a few seconds; more when tests run in parallel).
const PATIENCE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);
/// Longer than the cluster client's read timeout (12 s).
const QUIET: Duration = Duration::from_secs(15);
/// The apps pane is the left half of the screen at 160 columns.
const LEFT: usize = 80;

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One tmux server with one pane running the demo; killed on drop.
struct Session {
    socket: String,
    dir: tempfile::TempDir,
}

impl Session {
    fn start(test: &str) -> Session {
        assert!(
            tmux_available(),
            "tmux is required for the end-to-end tests (apt-get install tmux)"
        );
        static N: AtomicU32 = AtomicU32::new(0);
        let socket = format!(
            "gitops-tui-e2e-{}-{}-{test}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let dir = tempfile::Builder::new()
            .prefix("gitops-tui-e2e-")
            .tempdir()
            .expect("temporary folder");
        let script = dir.path().join("run.sh");
        std::fs::write(&script, script_text(dir.path())).expect("write run.sh");
        let session = Session { socket, dir };
        let out = session.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &WIDTH.to_string(),
            "-y",
            &HEIGHT.to_string(),
            &format!("sh {}", quote(&script)),
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        session
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("tmux");
        cmd.arg("-L").arg(&self.socket).args(args);
        // The server inherits this environment: no proxies between the
        // binary and its loopback cluster.
        for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            cmd.env_remove(var);
        }
        cmd.output().expect("run tmux")
    }

    /// Keys by tmux name (`Enter`, `Tab`, `Escape`) or as plain characters.
    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        let out = self.tmux(&args);
        assert!(out.status.success(), "tmux send-keys {keys:?}");
    }

    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", "e2e"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pane_format(&self, format: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "e2e", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Poll the screen until `ok` holds; fail with `what` and the last screen.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {PATIENCE:?} waiting for {what}; the screen:\n{screen}\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Poll the screen for `time`: `ok` must hold on every capture.
    fn hold(&self, what: &str, time: Duration, ok: impl Fn(&str) -> bool) {
        let end = Instant::now() + time;
        while Instant::now() < end {
            let screen = self.screen();
            assert!(
                ok(&screen),
                "{what} stopped holding; the screen:\n{screen}\n{}",
                self.log_tail()
            );
            std::thread::sleep(POLL * 5);
        }
    }

    /// The demo loaded: every app shows its sync state, the drifted one too.
    fn wait_loaded(&self) -> String {
        self.wait_for("all five apps loaded, catalog OutOfSync", |s| {
            ["catalog", "checkout", "payments", "search", "storefront"]
                .iter()
                .all(|a| app_row(s, a).is_some_and(|r| !r.contains("loading")))
                && app_row(s, "catalog").is_some_and(|r| r.contains("OutOfSync"))
                && app_row(s, "payments").is_some_and(|r| r.contains("SUSP"))
        })
    }

    /// Move the apps selection with j/k until `app` is selected.
    fn select_app(&self, app: &str) {
        self.send(&["g"]);
        self.wait_for("the first app selected (g)", |s| {
            selected_app(s).is_some() && selected_app(s) == first_app(s)
        });
        for _ in 0..10 {
            let screen = self.screen();
            if selected_app(&screen).as_deref() == Some(app) {
                return;
            }
            self.send(&["j"]);
            self.wait_for("the selection to move", |s| {
                selected_app(s) != selected_app(&screen)
            });
        }
        panic!("could not select {app}:\n{}", self.screen());
    }

    /// The binary's pid: the pane runs `sh run.sh`, the binary is its child.
    fn binary_pid(&self) -> u32 {
        let shell: u32 = self
            .pane_format("#{pane_pid}")
            .parse()
            .expect("pane_pid is a number");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(pid) = child_named(shell, "gitops-tui") {
                return pid;
            }
            assert!(Instant::now() < deadline, "no gitops-tui under pid {shell}");
            std::thread::sleep(POLL);
        }
    }

    fn log_tail(&self) -> String {
        let log = self.dir.path().join("state/gitops-tui/gitops-tui.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("log ({}):\n{}", log.display(), tail.join("\n"))
    }

    /// After the TUI exited: exit code 0, the alternate screen left (the
    /// frame is gone, the shell's own screen is back), and raw mode undone.
    fn assert_restored(&self) {
        let screen = self.wait_for("the TUI to exit (EXIT: then stty -a)", |s| {
            s.contains("EXIT:") && s.contains("icanon")
        });
        assert!(
            screen.lines().any(|l| l.trim() == "EXIT:0"),
            "exit code not 0:\n{screen}"
        );
        assert_eq!(
            self.pane_format("#{alternate_on}"),
            "0",
            "still on the alternate screen"
        );
        assert!(
            !screen.contains("Apps (") && !screen.contains("Commits:"),
            "the TUI's frame is still visible:\n{screen}"
        );
        assert!(
            screen.contains("building the demo world"),
            "the shell's screen is not back:\n{screen}"
        );
        let words: Vec<&str> = screen.split_whitespace().collect();
        for flag in ["icanon", "echo", "isig"] {
            assert!(
                words.contains(&flag),
                "stty -a lacks {flag} (raw mode left on):\n{screen}"
            );
            let off = format!("-{flag}");
            assert!(
                !words.contains(&off.as_str()),
                "stty -a says {off} (raw mode left on):\n{screen}"
            );
        }
        assert_eq!(self.pane_format("#{cursor_flag}"), "1", "cursor hidden");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Ends the pane's processes too (SIGHUP); the demo stops its cluster.
        let _ = self.tmux(&["kill-server"]);
    }
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

fn script_text(dir: &Path) -> String {
    format!(
        "unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy\n\
         export XDG_STATE_HOME={state} XDG_CACHE_HOME={state}\n\
         {bin} demo --dir {world}\n\
         echo EXIT:$?\n\
         stty -a\n\
         sleep 60\n",
        state = quote(&dir.join("state")),
        bin = quote(Path::new(BIN)),
        world = quote(&dir.join("world")),
    )
}

/// The apps pane's row for `app` (the left half of its screen line).
fn app_row(screen: &str, app: &str) -> Option<String> {
    screen
        .lines()
        .map(|l| l.chars().take(LEFT).collect::<String>())
        .find(|l| row_name(l).as_deref() == Some(app))
}

/// The app name in an apps-pane line: after the border, the selection
/// marker `›` and the mark `*`.
fn row_name(line: &str) -> Option<String> {
    let rest = line.strip_prefix('┃').or_else(|| line.strip_prefix('│'))?;
    let rest = rest.trim_start_matches(['›', '*', ' ']);
    let name = rest.split_whitespace().next()?;
    let after = rest.get(name.len()..)?;
    // An app row goes on with its sync state; resource rows are Kinds.
    (after.contains("Synced")
        || after.contains("OutOfSync")
        || after.contains("Unknown")
        || after.contains("loading"))
    .then(|| name.to_string())
}

fn first_app(screen: &str) -> Option<String> {
    screen
        .lines()
        .map(|l| l.chars().take(LEFT).collect::<String>())
        .find_map(|l| row_name(&l))
}

fn selected_app(screen: &str) -> Option<String> {
    screen
        .lines()
        .map(|l| l.chars().take(LEFT).collect::<String>())
        .find(|l| l.chars().nth(1) == Some('›') && row_name(l).is_some())
        .and_then(|l| row_name(&l))
}

/// Lines of the right half (diff and commits panes).
fn right(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.chars().skip(LEFT).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A direct child of `parent` whose command is `name`, from /proc.
fn child_named(parent: u32, name: &str) -> Option<u32> {
    let entries = std::fs::read_dir("/proc").ok()?;
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let stat = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/stat")))
                .unwrap_or_default();
            // "pid (comm) state ppid ..."; comm may hold spaces, so split at ')'.
            let Some((head, tail)) = stat.rsplit_once(')') else {
                return false;
            };
            let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
            let ppid = tail.split_whitespace().nth(1).and_then(|p| p.parse().ok());
            comm.starts_with(&name[..name.len().min(15)]) && ppid == Some(parent)
        })
}

/// Find the drifted app, read its diff, sync it, see it turn Synced.
#[test]
fn tour_find_the_drift_read_the_diff_sync_it() {
    let t = Session::start("tour");
    t.wait_loaded();
    assert_eq!(
        t.pane_format("#{alternate_on}"),
        "1",
        "TUI on the alternate screen"
    );
    t.select_app("catalog");
    // Drill into its resources: the diff pane shows the selected one's drift.
    t.send(&["Enter"]);
    let screen = t.wait_for("catalog's resource diff with replicas", |s| {
        let r = right(s);
        r.contains("Deployment catalog/catalog")
            && r.lines().any(|l| l.contains("│-  replicas:"))
            && r.lines().any(|l| l.contains("│+  replicas:"))
    });
    assert!(screen.contains("Resources: catalog"), "{screen}");
    // Into the diff pane itself, then back.
    t.send(&["Enter"]);
    t.wait_for("the diff pane focused on the Deployment", |s| {
        s.contains("▶ Diff: apps/Deployment catalog/catalog (OutOfSync)")
    });
    t.send(&["Escape"]);
    t.wait_for("back in resources", |s| s.contains("▶ Resources: catalog"));

    t.send(&["s"]);
    // Each wait names everything asserted after it: a capture can land mid-paint.
    let dialog = t.wait_for("the sync dialog", |s| {
        s.contains("Sync catalog") && s.contains("~ update apps/Deployment catalog/catalog")
    });
    assert!(
        dialog.contains("~ update apps/Deployment catalog/catalog"),
        "the dialog lists the change:\n{dialog}"
    );
    t.send(&["Enter"]);
    let screen = t.wait_for("catalog Synced", |s| {
        app_row(s, "catalog").is_some_and(|r| r.contains("✓ Synced")) && !s.contains("Sync catalog")
    });
    let row = app_row(&screen, "catalog").unwrap_or_default();
    assert!(!row.contains("~2"), "drift counts cleared: {row}");
    t.wait_for("the diff pane says no drift", |s| {
        right(s).contains("No drift")
    });
    // The other apps kept their states.
    assert!(app_row(&screen, "payments").is_some_and(|r| r.contains("OutOfSync")));
}

/// Pick an older commit of storefront in the commits pane and roll back.
#[test]
fn rollback_to_an_older_commit_pauses_the_app() {
    let t = Session::start("rollback");
    t.wait_loaded();
    t.select_app("storefront");
    // Apps → Resources → Diff → Commits.
    for pane in [
        "▶ Resources: storefront",
        "▶ Diff: storefront",
        "▶ Commits: storefront",
    ] {
        t.send(&["Tab"]);
        t.wait_for(pane, |s| s.contains(pane));
    }
    t.wait_for("storefront's commits", |s| {
        right(s).contains("storefront: first deployment")
    });
    t.send(&["j"]);
    t.wait_for("the second commit selected", |s| {
        right(s)
            .lines()
            .any(|l| l.contains("›") && l.contains("storefront: settings for the banner"))
    });
    t.send(&["r"]);
    let dialog = t.wait_for("the rollback preview", |s| {
        s.contains("Rollback storefront")
            && s.contains("Against live:")
            && s.contains("update ConfigMap storefront/storefront-settings")
    });
    assert!(
        dialog.contains("update ConfigMap storefront/storefront-settings"),
        "the preview names the change:\n{dialog}"
    );
    t.send(&["y"]);
    let screen = t.wait_for("storefront paused by the rollback", |s| {
        app_row(s, "storefront").is_some_and(|r| r.contains("PAUSED") && r.contains('→'))
            && s.contains("rolled back")
    });
    let row = app_row(&screen, "storefront").unwrap_or_default();
    assert!(row.contains('→'), "deployed → head revision shown: {row}");
    assert!(
        screen.contains("rolled back"),
        "a toast says what happened:\n{screen}"
    );
    // The deployed commit marker moved to the one rolled back to.
    t.wait_for("D on the rolled-back commit", |s| {
        right(s)
            .lines()
            .any(|l| l.contains("DP") && l.contains("settings for the banner"))
    });
}

/// `p` suspends (confirm), the marker shows; `p` again resumes, it goes.
#[test]
fn suspend_then_resume() {
    let t = Session::start("suspend");
    t.wait_loaded();
    t.select_app("checkout");
    let before = app_row(&t.screen(), "checkout").unwrap_or_default();
    assert!(!before.contains("SUSP"), "{before}");
    t.send(&["p"]);
    t.wait_for("the suspend dialog", |s| s.contains("Suspend checkout"));
    t.send(&["Enter"]);
    t.wait_for("checkout suspended", |s| {
        app_row(s, "checkout").is_some_and(|r| r.contains("SUSP"))
            && !s.contains("Suspend checkout")
    });
    // A quiet screen stays connected: watches with nothing to say must not
    // trip the client's 12 s read timeout and turn every app OFFLINE.
    t.hold("connected, checkout suspended", QUIET, |s| {
        s.contains("gitops-tui-demo connected")
            && !s.contains("OFFLINE")
            && app_row(s, "checkout").is_some_and(|r| r.contains("SUSP"))
    });
    t.send(&["p"]);
    t.wait_for("the resume dialog", |s| s.contains("Resume checkout"));
    t.send(&["y"]);
    t.wait_for("checkout resumed", |s| {
        app_row(s, "checkout").is_some_and(|r| !r.contains("SUSP") && r.contains("Synced"))
            && !s.contains("Resume checkout")
    });
}

/// `?` lists the keys by the words the CLI uses; then `q` quits at once
/// and the terminal is as it was.
#[test]
fn help_then_quit_restores_the_terminal() {
    let t = Session::start("quit");
    t.wait_loaded();
    t.send(&["?"]);
    let words = [
        "Help: keys",
        "sync selected/marked",
        "suspend/resume",
        "rollback to commit",
        "diff: resource/app",
        "refresh",
        "quit",
        "Navigation",
        "Operations",
    ];
    // Wait for the whole overlay: a capture can land mid-paint, when only
    // its first rows are on screen (this made the test flaky).
    let help = t.wait_for("the help overlay", |s| words.iter().all(|w| s.contains(w)));
    for w in words {
        assert!(help.contains(w), "help lacks {w:?}:\n{help}");
    }
    t.send(&["Escape"]);
    t.wait_for("the help closed", |s| !s.contains("Help: keys"));
    t.send(&["q"]);
    t.assert_restored();
}

/// SIGTERM to the binary: it exits 0 and restores the terminal too.
#[test]
fn sigterm_restores_the_terminal() {
    let t = Session::start("sigterm");
    t.wait_loaded();
    let pid = t.binary_pid();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {pid}");
    t.assert_restored();
}

/// Changes made outside (kubectl) reach the screen through the watches of the
/// kinds the apps need: a scaled Deployment shows as drift, a deleted Service
/// as Missing, without a key press.
#[test]
fn changes_made_with_kubectl_show_up_by_themselves() {
    let t = Session::start("outside");
    t.wait_loaded();
    t.select_app("storefront");
    t.wait_for("storefront Synced", |s| {
        app_row(s, "storefront").is_some_and(|r| r.contains("✓ Synced"))
    });
    let kubeconfig = t.dir.path().join("world").join("kubeconfig");
    let kubectl = |args: &[&str]| {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(args)
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    kubectl(&[
        "-n",
        "storefront",
        "scale",
        "deployment",
        "web",
        "--replicas=3",
    ]);
    t.wait_for("storefront OutOfSync with the replicas in its diff", |s| {
        app_row(s, "storefront").is_some_and(|r| r.contains("✗ OutOfSync"))
            && right(s).lines().any(|l| l.contains("│-  replicas: 3"))
    });
    kubectl(&["-n", "storefront", "delete", "service", "web"]);
    t.wait_for("storefront's Service Missing", |s| {
        app_row(s, "storefront").is_some_and(|r| r.contains("-1"))
            && s.lines()
                .any(|l| l.contains("Service") && l.contains("- Missing"))
    });
}
