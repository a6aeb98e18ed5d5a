//! The CronJob controller: a Job from `spec.jobTemplate` at each scheduled
//! time (the five-field cron syntax kube-controller-manager accepts, parsed
//! by `croner`), named `<cronjob>-<minutes since the epoch>` as upstream
//! names them, with `lastScheduleTime`, `lastSuccessfulTime`, the active
//! list, `concurrencyPolicy`, `suspend` and the history limits.
//!
//! Schedules are evaluated against a [`ScheduleClock`]: the wall clock, plus
//! an offset that tests advance (`KubeSim::advance_schedule_clock`) so a
//! `*/1 * * * *` CronJob fires without waiting a minute. The binary never
//! moves it, so it behaves as a cluster does.

use super::{controller_of, find_condition, find_type, owner_ref, set_status, Run, BY_CONTROLLER};
use crate::commit::commit;
use crate::events::{record, Kind};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

const CRONJOBS: &str = "cronjob-controller";
const SCHEDULED: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// The time CronJob schedules are evaluated at.
pub struct ScheduleClock {
    offset: Mutex<Duration>,
    moved: watch::Sender<u64>,
}

impl Default for ScheduleClock {
    fn default() -> Self {
        ScheduleClock {
            offset: Mutex::new(Duration::ZERO),
            moved: watch::channel(0).0,
        }
    }
}

impl ScheduleClock {
    pub fn now(&self) -> OffsetDateTime {
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        OffsetDateTime::now_utc() + offset
    }

    /// Move the clock forward; CronJobs are looked at again at once.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) += by;
        self.moved.send_modify(|n| *n += 1);
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.moved.subscribe()
    }
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn zoned(t: OffsetDateTime, tz: &jiff::tz::TimeZone) -> Option<jiff::Zoned> {
    jiff::Timestamp::from_second(t.unix_timestamp())
        .ok()
        .map(|ts| ts.to_zoned(tz.clone()))
}

fn unzoned(z: &jiff::Zoned) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(z.timestamp().as_second()).ok()
}

/// The latest scheduled time in `(after, now]` and the next one after `now`.
pub(crate) fn schedule_times(
    schedule: &str,
    tz: &jiff::tz::TimeZone,
    after: OffsetDateTime,
    now: OffsetDateTime,
) -> Option<(Option<OffsetDateTime>, OffsetDateTime)> {
    let cron = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .build()
        .parse(schedule)
        .ok()?;
    let mut latest = None;
    let mut t = zoned(after, tz)?;
    // Upstream gives up past 100 missed start times; so does this.
    for _ in 0..100 {
        let next = cron.find_next_occurrence(&t, false).ok()?;
        if unzoned(&next)? > now {
            break;
        }
        latest = unzoned(&next);
        t = next;
    }
    let next = cron.find_next_occurrence(&zoned(now, tz)?, false).ok()?;
    Some((latest, unzoned(&next)?))
}

fn finished(job: &Value) -> Option<&'static str> {
    for kind in ["Complete", "Failed"] {
        if find_condition(job, kind).is_some_and(|c| c["status"] == "True") {
            return Some(if kind == "Complete" {
                "Complete"
            } else {
                "Failed"
            });
        }
    }
    None
}

pub(super) fn cron_job(run: &mut Run, rt: &Arc<ResourceType>, cj: &Value) {
    let Some(job_rt) = find_type(run.state, "batch", "jobs") else {
        return;
    };
    let ns = meta_str(cj, "namespace").unwrap_or("").to_string();
    let name = meta_str(cj, "name").unwrap_or("").to_string();
    let uid = meta_str(cj, "uid").unwrap_or("");
    let resource = (job_rt.group.clone(), job_rt.plural.clone());
    let mut jobs: Vec<Arc<Value>> = run
        .state
        .store
        .owned_by(&resource, &ns, uid)
        .into_iter()
        .filter(|j| controller_of(j).is_some_and(|(k, _)| k == "CronJob"))
        .collect();
    jobs.sort_by_key(|j| meta_str(j, "creationTimestamp").unwrap_or("").to_string());
    let mut status = cj.get("status").cloned().unwrap_or(json!({}));
    if !status.is_object() {
        status = json!({});
    }
    // Finished Jobs: the last success, and the history limits.
    for job in &jobs {
        if finished(job) == Some("Complete") {
            if let Some(done) = job.pointer("/status/completionTime") {
                let newer = status
                    .get("lastSuccessfulTime")
                    .and_then(Value::as_str)
                    .zip(done.as_str())
                    .is_none_or(|(old, new)| new > old);
                if newer {
                    status["lastSuccessfulTime"] = done.clone();
                    let message = format!(
                        "Saw completed job: {}, condition: Complete",
                        meta_str(job, "name").unwrap_or("")
                    );
                    record(
                        run.state,
                        cj,
                        Kind::Normal,
                        "SawCompletedJob",
                        &message,
                        CRONJOBS,
                    );
                }
            }
        }
    }
    for (kind, field, default) in [
        ("Complete", "successfulJobsHistoryLimit", 3),
        ("Failed", "failedJobsHistoryLimit", 1),
    ] {
        let limit = cj
            .pointer(&format!("/spec/{field}"))
            .and_then(Value::as_u64)
            .unwrap_or(default) as usize;
        let done: Vec<&Arc<Value>> = jobs.iter().filter(|j| finished(j) == Some(kind)).collect();
        if done.len() > limit {
            for job in &done[..done.len() - limit] {
                delete_job(run, &job_rt, cj, job);
            }
        }
    }
    let mut active: Vec<Arc<Value>> = jobs
        .iter()
        .filter(|j| finished(j).is_none())
        .filter(|j| {
            run.state
                .store
                .get(&resource, &ns, meta_str(j, "name").unwrap_or(""))
                .is_some()
        })
        .cloned()
        .collect();
    let schedule = cj
        .pointer("/spec/schedule")
        .and_then(Value::as_str)
        .unwrap_or("");
    let tz = cj
        .pointer("/spec/timeZone")
        .and_then(Value::as_str)
        .and_then(|z| jiff::tz::TimeZone::get(z).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let now = run.clock.now();
    let after = status
        .get("lastScheduleTime")
        .and_then(Value::as_str)
        .or_else(|| meta_str(cj, "creationTimestamp"))
        .and_then(parse_time)
        .unwrap_or(now);
    let suspended = cj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    if let Some((due, next)) = schedule_times(schedule, &tz, after, now) {
        if let Ok(wait) = Duration::try_from(next - now) {
            run.wake_at(run.now + wait + Duration::from_millis(5));
        }
        let policy = cj
            .pointer("/spec/concurrencyPolicy")
            .and_then(Value::as_str)
            .unwrap_or("Allow");
        match due {
            Some(_) if suspended => {}
            Some(_) if policy == "Forbid" && !active.is_empty() => {
                let message = "Not starting job because prior execution is running and concurrency policy is Forbid";
                record(
                    run.state,
                    cj,
                    Kind::Normal,
                    "JobAlreadyActive",
                    message,
                    CRONJOBS,
                );
            }
            Some(at) => {
                if policy == "Replace" {
                    for job in active.drain(..) {
                        delete_job(run, &job_rt, cj, &job);
                    }
                }
                if let Some(job) = create_job(run, &job_rt, cj, at) {
                    active.push(job);
                }
                status["lastScheduleTime"] = json!(super::rfc3339(at));
            }
            None => {}
        }
    }
    let refs: Vec<Value> = active
        .iter()
        .map(|j| {
            json!({"apiVersion": "batch/v1", "kind": "Job", "name": meta_str(j, "name"),
                        "namespace": ns, "uid": meta_str(j, "uid"),
                        "resourceVersion": meta_str(j, "resourceVersion")})
        })
        .collect();
    if refs.is_empty() {
        if let Some(m) = status.as_object_mut() {
            m.remove("active");
        }
    } else {
        status["active"] = json!(refs);
    }
    let _ = name;
    set_status(run.state, rt, cj, status);
}

fn create_job(
    run: &mut Run,
    job_rt: &Arc<ResourceType>,
    cj: &Value,
    at: OffsetDateTime,
) -> Option<Arc<Value>> {
    let ns = meta_str(cj, "namespace").unwrap_or("");
    let minutes = at.unix_timestamp() / 60;
    let name = format!("{}-{minutes}", meta_str(cj, "name").unwrap_or(""));
    let template = cj
        .pointer("/spec/jobTemplate")
        .cloned()
        .unwrap_or(json!({}));
    let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
    if !metadata.is_object() {
        metadata = json!({});
    }
    metadata["name"] = json!(name);
    metadata["namespace"] = json!(ns);
    metadata["ownerReferences"] = json!([owner_ref(cj)]);
    metadata["annotations"][SCHEDULED] = json!(super::rfc3339(at));
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
                     "spec": template.get("spec").cloned().unwrap_or(json!({}))});
    match commit(run.state, job_rt, None, job, false, BY_CONTROLLER) {
        Ok(j) => {
            record(
                run.state,
                cj,
                Kind::Normal,
                "SuccessfulCreate",
                &format!("Created job {name}"),
                CRONJOBS,
            );
            Some(j)
        }
        Err(e) => {
            if e.code != 409 {
                let message = format!("Error creating job: {}", e.message);
                record(
                    run.state,
                    cj,
                    Kind::Warning,
                    "FailedCreate",
                    &message,
                    CRONJOBS,
                );
            }
            None
        }
    }
}

fn delete_job(run: &mut Run, job_rt: &Arc<ResourceType>, cj: &Value, job: &Value) {
    let (ns, name) = crate::store::ns_name(job);
    if run
        .state
        .store
        .remove(&(job_rt.group.clone(), job_rt.plural.clone()), &ns, &name)
        .is_some()
    {
        crate::deletes::after_removal(run.state, job_rt, job);
        record(
            run.state,
            cj,
            Kind::Normal,
            "SuccessfulDelete",
            &format!("Deleted job {name}"),
            CRONJOBS,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> OffsetDateTime {
        parse_time(s).expect("time")
    }

    #[test]
    fn the_latest_missed_time_and_the_next() {
        let utc = jiff::tz::TimeZone::UTC;
        let (due, next) = schedule_times(
            "*/5 * * * *",
            &utc,
            t("2026-01-01T00:01:00Z"),
            t("2026-01-01T00:12:30Z"),
        )
        .expect("valid");
        assert_eq!(due, Some(t("2026-01-01T00:10:00Z")));
        assert_eq!(next, t("2026-01-01T00:15:00Z"));
        let (due, _) = schedule_times(
            "0 * * * *",
            &utc,
            t("2026-01-01T00:01:00Z"),
            t("2026-01-01T00:30:00Z"),
        )
        .expect("valid");
        assert_eq!(due, None);
        assert!(schedule_times(
            "not a schedule",
            &utc,
            t("2026-01-01T00:00:00Z"),
            t("2026-01-01T00:00:00Z")
        )
        .is_none());
    }

    #[test]
    fn the_clock_moves_when_told() {
        let clock = ScheduleClock::default();
        let before = clock.now();
        clock.advance(Duration::from_secs(120));
        assert!(clock.now() - before >= time::Duration::seconds(120));
    }
}
