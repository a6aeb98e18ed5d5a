//! Which app: one typed identity for every layer (messages, effects, the
//! engine, the CLI), so no one passes app names around as strings and a
//! Flux or Argo CD app can never be mistaken for a native one of the same
//! name.
//!
//! The CLI addresses apps as `NAME` (a native app: its config name),
//! `flux/NAMESPACE/NAME` and `argocd/NAMESPACE/NAME` (the controller's
//! object), optionally followed by `@CONTEXT`; [`AppId`]'s `Display` and
//! `FromStr` are exactly those addresses, and JSON carries the address too.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// What manages an app: gitops-tui itself (a `[[apps]]` entry of the
/// config), a Flux Kustomization or HelmRelease, or an Argo CD Application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppSource {
    Native,
    Flux,
    ArgoCd,
}

impl AppSource {
    /// The word `status --output json` uses for it (`managed_by`).
    pub fn managed_by(self) -> &'static str {
        match self {
            AppSource::Native => "gitops-tui",
            AppSource::Flux => "flux",
            AppSource::ArgoCd => "argocd",
        }
    }

    /// The first segment of its addresses; native apps have none.
    fn prefix(self) -> Option<&'static str> {
        match self {
            AppSource::Native => None,
            AppSource::Flux => Some("flux"),
            AppSource::ArgoCd => Some("argocd"),
        }
    }
}

impl fmt::Display for AppSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.managed_by())
    }
}

/// One app. A native app is its config name alone (config names are unique
/// and the config says where the app lives), so its `context` and
/// `namespace` are empty. A Flux or Argo CD app is its object: the
/// namespace and name of the Kustomization or Application, in `context`
/// (empty: the current context).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppId {
    pub source: AppSource,
    pub context: String,
    pub namespace: String,
    pub name: String,
}

impl AppId {
    /// The native app of the config named `name`.
    pub fn native(name: impl Into<String>) -> AppId {
        AppId {
            source: AppSource::Native,
            context: String::new(),
            namespace: String::new(),
            name: name.into(),
        }
    }

    /// The app of a controller's object (`source` Flux or Argo CD).
    pub fn managed(
        source: AppSource,
        context: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> AppId {
        AppId {
            source,
            context: context.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub fn is_native(&self) -> bool {
        self.source == AppSource::Native
    }

    /// Their addresses separated by `sep`, as a toast or a status line
    /// lists the apps of one operation.
    pub fn join(ids: &[AppId], sep: &str) -> String {
        ids.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source.prefix() {
            None => f.write_str(&self.name)?,
            Some(prefix) => write!(f, "{prefix}/{}/{}", self.namespace, self.name)?,
        }
        if !self.context.is_empty() {
            write!(f, "@{}", self.context)?;
        }
        Ok(())
    }
}

/// Why a string is not an app address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppIdError {
    #[error(
        "an app address must not be empty (NAME, flux/NAMESPACE/NAME or argocd/NAMESPACE/NAME)"
    )]
    Empty,
    #[error("{0:?} is not an app address: use NAME, flux/NAMESPACE/NAME or argocd/NAMESPACE/NAME")]
    UnknownForm(String),
    #[error("{address:?} is not an app address: {what} is {prefix}/NAMESPACE/NAME")]
    Segments {
        address: String,
        what: &'static str,
        prefix: &'static str,
    },
    #[error("{address:?} is not an app address: its {part} is empty")]
    EmptyPart { address: String, part: &'static str },
}

impl FromStr for AppId {
    type Err = AppIdError;

    fn from_str(address: &str) -> Result<AppId, AppIdError> {
        if address.is_empty() {
            return Err(AppIdError::Empty);
        }
        let empty = |part: &'static str| AppIdError::EmptyPart {
            address: address.to_string(),
            part,
        };
        let Some((prefix, rest)) = address.split_once('/') else {
            // Config names are DNS labels: no `/`, no `@`. Anything else
            // without a `/` is a native name the config may not have,
            // which the engine reports as it always did.
            return Ok(AppId::native(address));
        };
        let source = match prefix {
            "flux" => AppSource::Flux,
            "argocd" => AppSource::ArgoCd,
            _ => return Err(AppIdError::UnknownForm(address.to_string())),
        };
        // Object names never hold `@`; kubeconfig contexts may
        // (`admin@cluster`), so the first `@` starts the context.
        let (path, context) = match rest.split_once('@') {
            Some((_, "")) => return Err(empty("context")),
            Some((path, context)) => (path, context),
            None => (rest, ""),
        };
        let segments: Vec<&str> = path.split('/').collect();
        let [namespace, name] = segments[..] else {
            return Err(AppIdError::Segments {
                address: address.to_string(),
                what: match source {
                    AppSource::Flux => "a Flux app",
                    _ => "an Argo CD app",
                },
                prefix: source.prefix().unwrap_or_default(),
            });
        };
        if namespace.is_empty() {
            return Err(empty("namespace"));
        }
        if name.is_empty() {
            return Err(empty("name"));
        }
        Ok(AppId::managed(source, context, namespace, name))
    }
}

impl Serialize for AppId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AppId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<AppId, String> {
        s.parse::<AppId>().map_err(|e| e.to_string())
    }

    #[test]
    fn addresses_round_trip() {
        for address in [
            "shop",
            "flux/flux-system/podinfo",
            "argocd/argocd/guestbook",
            "flux/apps/web@kind-dev",
            "argocd/argocd/guestbook@admin@prod",
        ] {
            let id = parse(address).expect(address);
            assert_eq!(id.to_string(), address);
            let json = serde_json::to_value(&id).expect("serializes");
            assert_eq!(json, serde_json::Value::String(address.into()));
            assert_eq!(serde_json::from_value::<AppId>(json).ok(), Some(id));
        }
    }

    #[test]
    fn the_parts_land_where_they_belong() {
        assert_eq!(parse("shop"), Ok(AppId::native("shop")));
        let flux = parse("flux/apps/web").expect("flux");
        assert_eq!(
            (
                flux.source,
                flux.context.as_str(),
                flux.namespace.as_str(),
                flux.name.as_str()
            ),
            (AppSource::Flux, "", "apps", "web")
        );
        let argo = parse("argocd/argocd/guestbook@admin@prod").expect("argo");
        assert_eq!(argo.source, AppSource::ArgoCd);
        assert_eq!(argo.context, "admin@prod");
        assert_eq!(argo.name, "guestbook");
        assert!(AppId::native("shop").is_native() && !argo.is_native());
        assert_eq!(argo.source.managed_by(), "argocd");
        assert_eq!(AppSource::Native.to_string(), "gitops-tui");
    }

    #[test]
    fn bad_addresses_say_what_an_address_is() {
        assert_eq!(
            parse(""),
            Err("an app address must not be empty (NAME, flux/NAMESPACE/NAME or argocd/NAMESPACE/NAME)".into())
        );
        assert_eq!(
            parse("helm/x/y"),
            Err("\"helm/x/y\" is not an app address: use NAME, flux/NAMESPACE/NAME or argocd/NAMESPACE/NAME".into())
        );
        assert_eq!(
            parse("flux/podinfo"),
            Err("\"flux/podinfo\" is not an app address: a Flux app is flux/NAMESPACE/NAME".into())
        );
        assert_eq!(
            parse("argocd/a/b/c"),
            Err(
                "\"argocd/a/b/c\" is not an app address: an Argo CD app is argocd/NAMESPACE/NAME"
                    .into()
            )
        );
        assert_eq!(
            parse("flux//web"),
            Err("\"flux//web\" is not an app address: its namespace is empty".into())
        );
        assert_eq!(
            parse("flux/apps/"),
            Err("\"flux/apps/\" is not an app address: its name is empty".into())
        );
        assert_eq!(
            parse("flux/apps/web@"),
            Err("\"flux/apps/web@\" is not an app address: its context is empty".into())
        );
    }
}
