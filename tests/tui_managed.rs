//! The real binary's `demo` in tmux with all three sources: the Flux
//! Kustomization and the Argo CD Application listed beside the native apps
//! with their SOURCE column, `/flux` and `/argo` narrowing to them, an Argo
//! CD sync through its preview dialog, and a change made with the real
//! kubectl behind the screen's back showing up live (the controllers'
//! objects are watched).

mod common;

use common::tmux::Tmux;
use std::process::Command;

/// The apps pane is the left half at 160 columns.
fn left(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.chars().take(80).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The apps pane's row containing `text` (a Flux or Argo CD row by its
/// SOURCE word, ` flux ` or ` argocd `: the NAME column may show only the
/// app's name).
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| l.chars().take(80).collect::<String>().contains(name))
}

#[test]
fn the_demo_lists_flux_and_argo_apps_filters_them_and_follows_the_controllers() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let world = dir.path().join("world");
    let script = dir.path().join("run.sh");
    std::fs::write(
        &script,
        format!(
            "unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy\n\
             export XDG_STATE_HOME='{state}' XDG_CACHE_HOME='{state}'\n\
             '{bin}' demo --dir '{world}'\necho EXIT:$?\nsleep 60\n",
            state = dir.path().join("state").display(),
            bin = env!("CARGO_BIN_EXE_gitops-tui"),
            world = world.display(),
        ),
    )
    .expect("script");
    let t = Tmux::start("managed", &script);

    // Both controller apps beside the five native ones, each with its source.
    let screen = t.wait_for("the Flux and Argo CD rows loaded", |s| {
        row(s, " flux ").is_some_and(|r| r.contains(" flux ") && r.contains("Synced"))
            && row(s, " argocd ").is_some_and(|r| r.contains(" argocd ") && r.contains("OutOfSync"))
    });
    assert!(left(&screen).contains("Apps (7/7)"), "{screen}");
    assert!(
        row(&screen, "catalog").is_some_and(|r| r.contains(" gitops ")),
        "{screen}"
    );

    // `/flux`: only the Flux app.
    t.send(&["/", "f", "l", "u", "x", "Enter"]);
    let screen = t.wait_for("the flux filter", |s| left(s).contains("Apps (1/7)"));
    assert!(row(&screen, " flux ").is_some(), "{screen}");
    assert!(row(&screen, " argocd ").is_none(), "{screen}");
    assert!(row(&screen, "catalog ").is_none(), "{screen}");

    // `/argo`: only the Argo CD app; its sync dialog says what it writes.
    // Esc alone (Esc then a key at once reads as Alt+key) clears the filter.
    t.send(&["Escape"]);
    t.wait_for("the filter cleared", |s| left(s).contains("Apps (7/7)"));
    t.send(&["/", "a", "r", "g", "o", "Enter"]);
    t.wait_for("the argo filter", |s| {
        left(s).contains("Apps (1/7)") && row(s, " argocd ").is_some()
    });
    t.send(&["s"]);
    let screen = t.wait_for("the Argo CD sync preview", |s| {
        s.contains("Sync argocd/argocd/catalog-preview")
    });
    assert!(screen.contains("set operation:"), "{screen}");
    assert!(screen.contains(r#"{"sync":{"revision":""#), "{screen}");
    t.send(&["y"]);
    t.wait_for("the Application synced by the simulated controller", |s| {
        row(s, " argocd ").is_some_and(|r| r.contains("Synced") && !r.contains("OutOfSync"))
    });

    // Suspended with kubectl, not through the TUI: the watch shows it.
    t.send(&["Escape"]);
    t.wait_for("the filter cleared", |s| left(s).contains("Apps (7/7)"));
    t.send(&["/", "f", "l", "u", "x", "Enter"]);
    t.wait_for("the flux filter again", |s| row(s, " flux ").is_some());
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(world.join("kubeconfig"))
        .args([
            "-n",
            "flux-system",
            "patch",
            "kustomization",
            "storefront-edge",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"suspend":true}}"#,
        ])
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl patch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.wait_for("the Flux row marked suspended", |s| {
        row(s, " flux ").is_some_and(|r| r.contains("SUSP"))
    });
    // The dialog for a suspended Kustomization's sync says so.
    t.send(&["s"]);
    let screen = t.wait_for("the resume-and-reconcile preview", |s| {
        s.contains("Flux does not reconcile it")
    });
    assert!(screen.contains(r#"{"spec":{"suspend":null}}"#), "{screen}");
    t.send(&["q"]);
}
