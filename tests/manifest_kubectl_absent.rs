//! Without kubectl on PATH, rendering a kustomization fails with a clear
//! error (its own test binary, since it empties PATH for the process).

use gitops_tui::manifest::{render_kustomize, KustomizeError};

#[test]
fn missing_kubectl_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kustomization.yaml"), "resources: []\n").unwrap();
    // SAFETY: this test binary has a single test and no other threads.
    unsafe { std::env::set_var("PATH", dir.path()) };
    let err = render_kustomize(dir.path()).unwrap_err();
    assert!(matches!(err, KustomizeError::KubectlNotFound { .. }));
    assert!(err.to_string().contains("kubectl was not found"), "{err}");
}
