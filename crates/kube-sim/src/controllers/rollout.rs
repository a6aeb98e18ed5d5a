//! The arithmetic of a Deployment rollout, pure so it can be tested alone:
//! maxSurge/maxUnavailable resolved as kube-controller-manager does
//! (`ResolveFenceposts`: surge rounds up, unavailable down, never both 0),
//! how far the new ReplicaSet may grow (`NewRSNewReplicas`), and how far the
//! old ones may shrink (`reconcileOldReplicaSets`: unhealthy replicas
//! first, then healthy ones while availability stays at or above
//! `replicas - maxUnavailable`).

use serde_json::Value;

/// One ReplicaSet as the rollout sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rs {
    /// `spec.replicas`
    pub replicas: i64,
    /// `status.availableReplicas`
    pub available: i64,
}

/// `maxSurge`/`maxUnavailable` (an int or a percentage of `replicas`).
fn scaled(value: Option<&Value>, replicas: i64, round_up: bool) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => {
            let pct = s
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<i64>().ok())
                .or_else(|| {
                    s.trim()
                        .parse::<i64>()
                        .ok()
                        .map(|n| n * 100 / replicas.max(1))
                })
                .unwrap_or(0);
            let x = pct * replicas;
            if round_up {
                (x + 99).div_euclid(100)
            } else {
                x.div_euclid(100)
            }
        }
        _ => {
            // The API's default, 25%.
            let x = 25 * replicas;
            if round_up {
                (x + 99) / 100
            } else {
                x / 100
            }
        }
    }
}

/// (maxSurge, maxUnavailable) of a RollingUpdate Deployment.
pub fn fenceposts(deploy: &Value, replicas: i64) -> (i64, i64) {
    let rolling = deploy.pointer("/spec/strategy/rollingUpdate");
    let surge = scaled(rolling.and_then(|r| r.get("maxSurge")), replicas, true);
    let unavailable = scaled(
        rolling.and_then(|r| r.get("maxUnavailable")),
        replicas,
        false,
    );
    if surge == 0 && unavailable == 0 {
        return (0, 1);
    }
    (surge, unavailable)
}

pub fn is_recreate(deploy: &Value) -> bool {
    deploy
        .pointer("/spec/strategy/type")
        .and_then(Value::as_str)
        == Some("Recreate")
}

/// `MaxUnavailable`: 0 for Recreate or no replicas, else at most `replicas`.
pub fn max_unavailable(deploy: &Value, replicas: i64) -> i64 {
    if is_recreate(deploy) || replicas == 0 {
        return 0;
    }
    fenceposts(deploy, replicas).1.min(replicas)
}

/// The new ReplicaSet's replicas for a rolling update: up to
/// `replicas + maxSurge` Pods in all, never more than `replicas` new.
pub fn new_rs_replicas(replicas: i64, surge: i64, all_spec: i64, new_spec: i64) -> i64 {
    let max_total = replicas + surge;
    if all_spec >= max_total {
        return new_spec;
    }
    let up = max_total - all_spec;
    new_spec + up.min((replicas - new_spec).max(0))
}

/// How each old ReplicaSet (oldest first) is scaled down this round:
/// `(index, new replicas)`. Empty when availability allows nothing.
pub fn old_scale_downs(
    replicas: i64,
    max_unavailable: i64,
    new: &Rs,
    old: &[Rs],
) -> Vec<(usize, i64)> {
    let old_pods: i64 = old.iter().map(|r| r.replicas).sum();
    if old_pods == 0 {
        return Vec::new();
    }
    let all_pods = old_pods + new.replicas;
    let min_available = replicas - max_unavailable;
    let new_unavailable = new.replicas - new.available;
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let mut out: Vec<(usize, i64)> = Vec::new();
    let mut current: Vec<i64> = old.iter().map(|r| r.replicas).collect();
    // Unhealthy replicas go first: they serve nothing.
    let mut cleaned = 0;
    for (i, rs) in old.iter().enumerate() {
        if cleaned >= max_scaled_down {
            break;
        }
        if rs.replicas == 0 || rs.replicas <= rs.available {
            continue;
        }
        let down = (max_scaled_down - cleaned).min(rs.replicas - rs.available);
        current[i] -= down;
        cleaned += down;
    }
    // Then healthy ones, while enough stay available.
    let available: i64 = old.iter().map(|r| r.available).sum::<i64>() + new.available;
    if available > min_available {
        let mut to_scale = available - min_available;
        for c in current.iter_mut() {
            if to_scale == 0 {
                break;
            }
            if *c == 0 {
                continue;
            }
            let down = (*c).min(to_scale);
            *c -= down;
            to_scale -= down;
        }
    }
    for (i, (c, rs)) in current.iter().zip(old).enumerate() {
        if *c != rs.replicas {
            out.push((i, *c));
        }
    }
    out
}

/// A replica-count change while several ReplicaSets are active: the
/// difference to `replicas + maxSurge` goes to the new ReplicaSet when
/// growing, and comes off the old ones (largest first) when shrinking, as
/// the controller's proportional scaling does in effect.
pub fn proportional(allowed: i64, new: Option<i64>, old: &[i64]) -> (Option<i64>, Vec<i64>) {
    let total: i64 = old.iter().sum::<i64>() + new.unwrap_or(0);
    let mut old = old.to_vec();
    let mut new = new;
    let mut diff = allowed - total;
    if diff > 0 {
        match new.as_mut() {
            Some(n) => *n += diff,
            None => {
                if let Some(first) = old.iter_mut().max() {
                    *first += diff;
                }
            }
        }
        return (new, old);
    }
    while diff < 0 {
        let Some((i, _)) = old
            .iter()
            .enumerate()
            .filter(|(_, r)| **r > 0)
            .max_by_key(|(_, r)| **r)
        else {
            break;
        };
        old[i] -= 1;
        diff += 1;
    }
    if diff < 0 {
        if let Some(n) = new.as_mut() {
            *n = (*n + diff).max(0);
        }
    }
    (new, old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(surge: Value, unavailable: Value) -> Value {
        json!({"spec": {"strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}}})
    }

    #[test]
    fn fenceposts_round_as_upstream() {
        assert_eq!(fenceposts(&json!({}), 4), (1, 1));
        assert_eq!(fenceposts(&json!({}), 3), (1, 0));
        assert_eq!(fenceposts(&d(json!("50%"), json!("50%")), 3), (2, 1));
        assert_eq!(fenceposts(&d(json!(0), json!(0)), 3), (0, 1));
        assert_eq!(fenceposts(&d(json!(2), json!("0%")), 3), (2, 0));
        assert_eq!(
            max_unavailable(&json!({"spec": {"strategy": {"type": "Recreate"}}}), 4),
            0
        );
    }

    #[test]
    fn the_new_replica_set_grows_within_the_surge() {
        // 4 replicas, surge 1: one new Pod while 4 old ones run.
        assert_eq!(new_rs_replicas(4, 1, 4, 0), 1);
        assert_eq!(new_rs_replicas(4, 1, 5, 1), 1);
        assert_eq!(new_rs_replicas(4, 1, 4, 1), 2);
        assert_eq!(new_rs_replicas(4, 1, 4, 4), 4);
        assert_eq!(new_rs_replicas(3, 0, 2, 1), 2);
    }

    #[test]
    fn old_replica_sets_shrink_only_while_enough_stay_available() {
        let new = Rs {
            replicas: 1,
            available: 0,
        };
        let old = [Rs {
            replicas: 4,
            available: 4,
        }];
        // 5 Pods, 3 must stay available, the new one is not: one old goes.
        assert_eq!(old_scale_downs(4, 1, &new, &old), vec![(0, 3)]);
        // New Pods broken: nothing more goes.
        let new = Rs {
            replicas: 2,
            available: 0,
        };
        let old = [Rs {
            replicas: 3,
            available: 3,
        }];
        assert!(old_scale_downs(4, 1, &new, &old).is_empty());
        // New Pods available: the old ones make way.
        let new = Rs {
            replicas: 2,
            available: 2,
        };
        assert_eq!(old_scale_downs(4, 1, &new, &old), vec![(0, 1)]);
        // An unhealthy old ReplicaSet is cleaned up first.
        let new = Rs {
            replicas: 1,
            available: 1,
        };
        let old = [
            Rs {
                replicas: 2,
                available: 0,
            },
            Rs {
                replicas: 2,
                available: 2,
            },
        ];
        assert_eq!(old_scale_downs(4, 1, &new, &old), vec![(0, 0)]);
    }

    #[test]
    fn proportional_scaling_keeps_the_allowance() {
        assert_eq!(proportional(6, Some(2), &[2]), (Some(4), vec![2]));
        assert_eq!(proportional(2, Some(2), &[3]), (Some(2), vec![0]));
        assert_eq!(proportional(1, Some(2), &[1]), (Some(1), vec![0]));
    }
}
