//! The Nodes Pods are bound to, in one place: the Node objects in the store
//! when there are any (schedulable, Ready), else a fixed set of simulated
//! nodes, so the scheduler, the DaemonSet controller and `pods/log` (which
//! names the kubelet it could not reach) agree on names and addresses.

use super::hash_of;
use crate::server::State;
use serde_json::Value;

/// The nodes when the store holds none (all deleted): the schedulable
/// start-up Nodes (`cluster_objects::NODES`), as (name, InternalIP).
pub const SIMULATED: &[(&str, &str)] = &[
    ("kube-sim-worker", "172.18.0.3"),
    ("kube-sim-worker2", "172.18.0.4"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub ip: String,
    /// The node's position, for its Pod CIDR (`10.244.<index>.0/24`-ish).
    pub index: usize,
}

/// Every node Pods may be scheduled to, in name order.
pub fn all(state: &State) -> Vec<Node> {
    let stored = state.store.list(&(String::new(), "nodes".into()), None);
    let from_store: Vec<Node> = stored
        .iter()
        .filter(|n| schedulable(n))
        .enumerate()
        .map(|(index, n)| Node {
            name: crate::objects::meta_str(n, "name")
                .unwrap_or("")
                .to_string(),
            ip: internal_ip(n).unwrap_or_else(|| format!("172.18.0.{}", 2 + index)),
            index,
        })
        .collect();
    if !from_store.is_empty() {
        return from_store;
    }
    SIMULATED
        .iter()
        .enumerate()
        .map(|(index, (name, ip))| Node {
            name: name.to_string(),
            ip: ip.to_string(),
            index,
        })
        .collect()
}

fn schedulable(node: &Value) -> bool {
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        return false;
    }
    let no_schedule = node
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .is_some_and(|ts| {
            ts.iter()
                .any(|t| t.get("effect").and_then(Value::as_str) == Some("NoSchedule"))
        });
    !no_schedule
}

fn internal_ip(node: &Value) -> Option<String> {
    node.pointer("/status/addresses")?
        .as_array()?
        .iter()
        .find(|a| a.get("type").and_then(Value::as_str) == Some("InternalIP"))
        .and_then(|a| a.get("address")?.as_str().map(str::to_string))
}

/// The node for a new Pod: spread by the Pod's key, stable for it.
pub fn pick(state: &State, key: &str) -> Node {
    let nodes = all(state);
    let i = (hash_of(key) % nodes.len().max(1) as u64) as usize;
    nodes.get(i).cloned().unwrap_or_else(|| Node {
        name: SIMULATED[0].0.to_string(),
        ip: SIMULATED[0].1.to_string(),
        index: 0,
    })
}

/// A node by name (a Pod's `spec.nodeName`).
pub fn named(state: &State, name: &str) -> Option<Node> {
    all(state).into_iter().find(|n| n.name == name)
}

/// A Pod's IP on its node: stable for the Pod, inside the node's range.
pub fn pod_ip(node: &Node, key: &str) -> String {
    let h = hash_of(key);
    let third = node.index * 64 + (h / 250 % 64) as usize;
    format!("10.244.{third}.{}", 2 + h % 250)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_ips_stay_in_their_nodes_range() {
        let a = Node {
            name: "a".into(),
            ip: "172.18.0.2".into(),
            index: 0,
        };
        let b = Node {
            index: 1,
            ..a.clone()
        };
        let ip_a = pod_ip(&a, "default/web-0");
        let ip_b = pod_ip(&b, "default/web-0");
        assert_ne!(ip_a, ip_b);
        let third = |ip: &str| ip.split('.').nth(2).and_then(|s| s.parse::<usize>().ok());
        assert!(third(&ip_a).is_some_and(|t| t < 64), "{ip_a}");
        assert!(
            third(&ip_b).is_some_and(|t| (64..128).contains(&t)),
            "{ip_b}"
        );
        assert_eq!(ip_a, pod_ip(&a, "default/web-0"));
    }
}
