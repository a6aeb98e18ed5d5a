//! The log pane and the mouse, end to end: the real binary's `demo` in a
//! tmux pane (160×48), keys and mouse events in (SGR mouse reports typed
//! into the pane, as a terminal sends them), the screen out, with the real
//! kubectl reading the same pod as the reference for what the pane shows.

mod common;

use common::tmux::Tmux;
use std::path::Path;
use std::process::Command;

fn demo(test: &str) -> (Tmux, tempfile::TempDir) {
    common::clear_proxies();
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("run.sh");
    std::fs::write(
        &script,
        format!(
            "unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy\n\
             export XDG_STATE_HOME='{state}' XDG_CACHE_HOME='{state}'\n\
             '{bin}' demo --dir '{world}'\n\
             echo EXIT:$?\nstty -a\nsleep 60\n",
            state = dir.path().join("state").display(),
            bin = env!("CARGO_BIN_EXE_gitops-tui"),
            world = dir.path().join("world").display(),
        ),
    )
    .expect("script");
    let t = Tmux::start(test, &script);
    t.wait_for("the demo's apps, catalog drifted", |s| {
        s.contains("storefront")
            && s.lines()
                .any(|l| l.contains("catalog") && l.contains("OutOfSync"))
    });
    (t, dir)
}

fn kubectl(world: &Path, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(world.join("kubeconfig"))
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text lines inside the log pane's borders.
fn log_lines(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('┗'))
        .filter_map(|l| l.strip_prefix('┃'))
        .map(|l| l.trim_end_matches('┃').trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The mouse as a terminal reports it in SGR mode (1-based cells).
fn mouse(t: &Tmux, button: u32, x: u16, y: u16) {
    t.send(&["-l", &format!("\u{1b}[<{button};{};{}M", x + 1, y + 1)]);
    if button == 0 {
        t.send(&["-l", &format!("\u{1b}[<0;{};{}m", x + 1, y + 1)]);
    }
}

#[test]
fn logs_of_a_deployment_pod_are_what_kubectl_logs_prints() {
    let (t, dir) = demo("logs");
    let world = dir.path().join("world");
    // catalog is the first app; Enter drills into its resources, on its Deployment.
    t.send(&["Enter"]);
    t.wait_for("catalog's Deployment selected", |s| {
        s.contains("▶ Resources: catalog") && s.contains("Pod     catalog-")
    });
    t.send(&["l"]);
    let chooser = t.wait_for("the pod chooser", |s| {
        s.contains("Logs of Deployment catalog/catalog: pick a pod and container")
    });
    let choices = chooser.lines().filter(|l| l.contains(" · catalog")).count();
    assert_eq!(choices, 4, "four pods of one container:\n{chooser}");
    t.send(&["Enter"]);
    let screen = t.wait_for("the log pane with lines", |s| {
        s.contains("▶ Logs: catalog/catalog-")
            && s.contains("[following]")
            && log_lines(s).len() >= 5
    });
    let title = screen.lines().next().unwrap_or_default();
    let pod = title
        .split("catalog/")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the pod in the title")
        .to_string();
    let shown = log_lines(&screen);
    let reference = kubectl(&world, &["logs", "-n", "catalog", &pod]);
    let theirs: Vec<&str> = reference.lines().map(str::trim_end).collect();
    let mine: Vec<&str> = shown.iter().map(String::as_str).collect();
    assert!(
        theirs.windows(mine.len()).any(|w| w == mine.as_slice()),
        "the pane's lines are kubectl's:\n{}\nkubectl:\n{reference}",
        mine.join("\n")
    );
    // New lines arrive by themselves.
    let last = shown.last().cloned().unwrap_or_default();
    t.wait_for("a new line", |s| log_lines(s).last() != Some(&last));

    // Timestamps, then the previous run (none: this pod never restarted).
    // (Pausing needs more lines than the pane holds: the reducer tests have it.)
    t.send(&["t"]);
    t.wait_for("timestamps", |s| {
        s.contains("[timestamps]") && log_lines(s).iter().all(|l| l.starts_with("20"))
    });
    t.send(&["p"]);
    t.wait_for("the server says there is no previous run", |s| {
        s.contains("(previous run)")
            && s.contains(&format!(
                "previous terminated container \"catalog\" in pod \"{pod}\" not found"
            ))
    });
    t.send(&["Escape"]);
    t.wait_for("back to the panes", |s| {
        s.contains("▶ Resources: catalog") && !s.contains("Logs: ")
    });
    t.send(&["q"]);
    t.wait_for("the TUI exited", |s| s.contains("EXIT:0"));
}

#[test]
fn the_mouse_selects_rows_focuses_panes_and_is_let_go_on_exit() {
    let (t, _dir) = demo("mouse");
    // Line 0 is the apps pane's border, 1 its header, 2.. the apps by name.
    let screen = t.screen();
    let row = screen
        .lines()
        .position(|l| l.contains(" storefront "))
        .expect("storefront's row");
    mouse(&t, 0, 5, u16::try_from(row).expect("row"));
    t.wait_for("storefront selected by a click", |s| {
        s.lines()
            .nth(row)
            .is_some_and(|l| l.contains("›  storefront"))
            && s.contains("Resources: storefront")
    });
    // A click in the commits pane's second row focuses it and selects it
    // (once storefront's commits have loaded: until then the pane says
    // "Loading commits…" and has no header).
    let screen = t.wait_for("storefront's commits loaded", |s| {
        s.lines().any(|l| l.contains("SHA") && l.contains("AUTHOR"))
    });
    let header = screen
        .lines()
        .position(|l| l.contains("SHA") && l.contains("AUTHOR"))
        .expect("the commits header");
    mouse(&t, 0, 100, u16::try_from(header + 2).expect("row"));
    t.wait_for("the commits pane focused on its second commit", |s| {
        s.contains("▶ Commits: storefront")
            && s.lines()
                .nth(header + 2)
                .is_some_and(|l| l.chars().skip(80).collect::<String>().contains("›"))
    });
    // The wheel over the apps pane moves its selection.
    mouse(&t, 64, 5, 3);
    t.wait_for("the wheel moved the app selection up", |s| {
        s.contains("▶ Apps")
            && !s
                .lines()
                .nth(row)
                .is_some_and(|l| l.contains("›  storefront"))
    });
    t.send(&["q"]);
    t.wait_for("the TUI exited", |s| s.contains("EXIT:0"));
    let flags = t.format("#{mouse_any_flag}#{mouse_button_flag}#{mouse_sgr_flag}");
    assert_eq!(flags, "000", "mouse reporting left on after exit");
}
