//! `gitops-tui logs APP [KIND/NAME]`: a container's log as `kubectl logs`
//! prints it (the same bytes, the same choices of pod and container, the
//! same notes on stderr), found through the app instead of by hand. Without
//! an object it reads every pod of the app's first workload, each line
//! prefixed `[pod/NAME/CONTAINER] ` as `kubectl logs -l … --prefix` does
//! (and, like it, the last 10 lines of each unless `--tail` says otherwise).
//! With `-o json`, one JSON object a line (`pod`, `container`, `time` with
//! `--timestamps`, `line`), for scripts.

use super::args::Output;
use super::commands::{EXIT_ERROR, EXIT_OK};
use crate::cluster::logs::{split_timestamp, LogRequest};
use crate::engine::logs::{LogObject, LogSource};
use crate::engine::Engine;
use crate::model::AppId;
use futures::stream::{self, StreamExt};
use std::io::Write;

/// The options `kubectl logs` shares with this verb.
#[derive(Debug, Clone, Default)]
pub struct LogsArgs {
    pub object: Option<LogObject>,
    pub container: Option<String>,
    pub follow: bool,
    pub previous: bool,
    pub tail: Option<i64>,
    pub timestamps: bool,
}

/// How many lines of each pod kubectl shows by selector without `--tail`.
const SELECTOR_TAIL: i64 = 10;

pub async fn run(engine: &Engine, output: Output, app: &AppId, args: LogsArgs) -> i32 {
    if output == Output::Yaml {
        eprintln!("error: logs prints text, or JSON lines with -o json");
        return EXIT_ERROR;
    }
    let plan = match engine
        .log_plan(app, args.object.as_ref(), args.container.as_deref())
        .await
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    for note in &plan.notes {
        eprintln!("{note}");
    }
    // kubectl: -1 (everything), or 10 a pod by selector.
    let tail = match args.tail {
        Some(n) if n < 0 => None,
        Some(n) => Some(n),
        None if plan.by_selector => Some(SELECTOR_TAIL),
        None => None,
    };
    let request = |s: &LogSource| LogRequest {
        namespace: plan.namespace.clone(),
        pod: s.pod.clone(),
        container: Some(s.container.clone()),
        follow: args.follow,
        previous: args.previous,
        tail_lines: tail,
        since_seconds: None,
        timestamps: args.timestamps,
    };
    let json = output == Output::Json;
    let mut code = EXIT_OK;
    let print = |s: &LogSource, line: &[u8]| {
        let mut out = std::io::stdout().lock();
        let _ = if json {
            writeln!(out, "{}", json_line(s, line, args.timestamps))
        } else if plan.by_selector {
            out.write_all(format!("[pod/{}/{}] ", s.pod, s.container).as_bytes())
                .and_then(|_| out.write_all(line))
        } else {
            out.write_all(line)
        };
        let _ = out.flush();
    };
    if args.follow && plan.sources.len() > 1 {
        // As kubectl -f with several pods: all at once, lines as they come.
        let mut opened = vec![];
        for s in &plan.sources {
            match engine.log_lines(app, &request(s)).await {
                Ok(lines) => opened.push(lines.map(move |l| (s, l)).boxed()),
                Err(e) => {
                    eprintln!("error: {e}");
                    code = EXIT_ERROR;
                }
            }
        }
        let mut all = stream::select_all(opened);
        while let Some((s, line)) = all.next().await {
            match line {
                Ok(l) => print(s, &l),
                Err(e) => {
                    eprintln!("error: {e}");
                    code = EXIT_ERROR;
                }
            }
        }
        return code;
    }
    for s in &plan.sources {
        let mut lines = match engine.log_lines(app, &request(s)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                code = EXIT_ERROR;
                continue;
            }
        };
        while let Some(line) = lines.next().await {
            match line {
                Ok(l) => print(s, &l),
                Err(e) => {
                    eprintln!("error: {e}");
                    code = EXIT_ERROR;
                    break;
                }
            }
        }
    }
    code
}

fn json_line(s: &LogSource, line: &[u8], timestamps: bool) -> String {
    let (time, text) = if timestamps {
        split_timestamp(line)
    } else {
        let l = line.strip_suffix(b"\n").unwrap_or(line);
        (None, l)
    };
    let mut v = serde_json::json!({
        "pod": s.pod,
        "container": s.container,
        "line": String::from_utf8_lossy(text),
    });
    if let Some(t) = time {
        v["time"] = serde_json::json!(humantime::format_rfc3339_nanos(t).to_string());
    }
    v.to_string()
}
