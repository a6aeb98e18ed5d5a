//! The kubeconfig kube-sim writes for kubectl and kube-rs, atomically.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use std::path::Path;

pub fn render(url: &str, context: &str, token: Option<&str>, ca_pem: Option<&str>) -> String {
    let mut cluster = json!({"server": url});
    if let Some(ca) = ca_pem {
        cluster["certificate-authority-data"] = json!(STANDARD.encode(ca));
    }
    let user = match token {
        Some(t) => json!({"token": t}),
        None => json!({}),
    };
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": format!("{context}-admin"), "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": format!("{context}-admin"), "namespace": "default"}}],
        "current-context": context,
        "preferences": {},
    });
    serde_yaml::to_string(&config).unwrap_or_default()
}

/// Write via a temporary file in the same folder and a rename, so a reader
/// never sees half a kubeconfig.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_names_the_context_and_token() {
        let y = render("https://127.0.0.1:1234", "sim", Some("t0k"), Some("PEM"));
        let v: serde_json::Value = serde_yaml::from_str(&y).expect("yaml");
        assert_eq!(v["current-context"], "sim");
        assert_eq!(v["users"][0]["user"]["token"], "t0k");
        assert_eq!(
            v["clusters"][0]["cluster"]["certificate-authority-data"],
            STANDARD.encode("PEM")
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/kc");
        write_atomically(&p, &y).expect("written");
        assert_eq!(
            std::fs::read_to_string(&p).ok().as_deref(),
            Some(y.as_str())
        );
    }
}
