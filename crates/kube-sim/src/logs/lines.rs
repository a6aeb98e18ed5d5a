//! What a simulated container prints: deterministic lines from the Pod's
//! name, the container and the run, at deterministic times, so two reads
//! of the same log agree and `follow` only adds. A run prints three
//! start-up lines when it starts, then one request line a second while it
//! runs; a run of a `broken` image ends in a Go panic trace.

use crate::controllers::hash_of;
use time::{Duration, OffsetDateTime};

/// One run of a container, as its status describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpan {
    pub started: OffsetDateTime,
    /// When it ended (None while running).
    pub finished: Option<OffsetDateTime>,
    pub crashed: bool,
    /// Which run this is (the restart count it started under).
    pub run: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub at: OffsetDateTime,
    pub text: String,
}

/// Who is printing: the Pod, the container and its image and port.
#[derive(Debug, Clone)]
pub struct Source {
    pub pod: String,
    pub container: String,
    pub image: String,
    pub port: i64,
}

const PATHS: &[&str] = &[
    "/",
    "/healthz",
    "/api/items",
    "/api/items/42",
    "/metrics",
    "/api/orders",
    "/static/app.js",
    "/readyz",
];

fn seed(src: &Source, run: i64, k: i64) -> u64 {
    hash_of(&format!("{}/{}/{run}/{k}", src.pod, src.container))
}

/// The lines of `span` with a time at or before `until`.
pub fn lines(src: &Source, span: &RunSpan, until: OffsetDateTime) -> Vec<Line> {
    let mut out = Vec::new();
    // Timestamps in a status have whole seconds, so a short run may seem to
    // end as it starts: it still prints its start-up lines first.
    let finished = span
        .finished
        .map(|f| f.max(span.started + Duration::milliseconds(20)));
    let end = finished.map_or(until, |f| f.min(until));
    let image = src.image.rsplit('/').next().unwrap_or(&src.image);
    let startup = [
        format!(
            "starting {image} (container {}, pod {})",
            src.container, src.pod
        ),
        format!(
            "loaded configuration from /etc/{}/config.yaml",
            src.container
        ),
        format!("listening on 0.0.0.0:{}", src.port),
    ];
    for (i, text) in startup.into_iter().enumerate() {
        let at = span.started + Duration::milliseconds(i as i64 * 3 + 1);
        if at <= end {
            out.push(Line { at, text });
        }
    }
    let mut k = 1i64;
    loop {
        let h = seed(src, span.run, k);
        let at = span.started + Duration::seconds(k) + Duration::milliseconds((h % 1000) as i64);
        if at > end || finished.is_some_and(|f| at >= f) {
            break;
        }
        let path = PATHS[(h / 1000 % PATHS.len() as u64) as usize];
        let code = match h / 7 % 20 {
            0 => 404,
            1 => 304,
            _ => 200,
        };
        let client = format!("10.244.{}.{}", h / 13 % 4, 2 + h / 17 % 250);
        out.push(Line {
            at,
            text: format!(
                "{client} \"GET {path} HTTP/1.1\" {code} {} {}ms",
                100 + h / 19 % 4000,
                1 + h / 23 % 40
            ),
        });
        k += 1;
    }
    if span.crashed {
        if let Some(f) = finished.filter(|f| *f <= until) {
            let pc = seed(src, span.run, -1) % 0xffffff;
            let trace = [
                "panic: runtime error: invalid memory address or nil pointer dereference"
                    .to_string(),
                format!("[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x{pc:x}]"),
                String::new(),
                "goroutine 1 [running]:".to_string(),
                "main.(*server).loadConfig(0x0)".to_string(),
                "\t/src/server.go:42 +0x1d".to_string(),
                "main.main()".to_string(),
                "\t/src/main.go:17 +0x25".to_string(),
            ];
            for (i, text) in trace.into_iter().enumerate() {
                out.push(Line {
                    at: f - Duration::milliseconds(8 - i as i64),
                    text,
                });
            }
        }
    }
    out
}

/// RFC 3339 with the fraction Go's `RFC3339Nano` prints (trailing zeros
/// trimmed), as the kubelet prefixes lines with `timestamps=true`.
pub fn rfc3339_nano(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let nanos = t.nanosecond();
    if nanos == 0 {
        return format!("{base}Z");
    }
    let frac = format!("{nanos:09}");
    format!("{base}.{}Z", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> Source {
        Source {
            pod: "web-abc".into(),
            container: "web".into(),
            image: "nginx:1.25".into(),
            port: 80,
        }
    }

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time")
    }

    #[test]
    fn a_running_container_prints_start_up_then_a_line_a_second() {
        let span = RunSpan {
            started: t0(),
            finished: None,
            crashed: false,
            run: 0,
        };
        let early = lines(&src(), &span, t0() + Duration::milliseconds(100));
        assert_eq!(early.len(), 3);
        assert!(early[0].text.contains("starting nginx:1.25"));
        let later = lines(&src(), &span, t0() + Duration::seconds(10));
        assert!((11..=13).contains(&later.len()), "{}", later.len());
        // Deterministic, and following only adds.
        assert_eq!(later[..early.len()], early[..]);
        assert_eq!(later, lines(&src(), &span, t0() + Duration::seconds(10)));
        assert!(later.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn a_crashed_run_ends_in_a_panic() {
        let span = RunSpan {
            started: t0(),
            finished: Some(t0() + Duration::milliseconds(500)),
            crashed: true,
            run: 2,
        };
        let out = lines(&src(), &span, t0() + Duration::seconds(60));
        assert_eq!(out.len(), 3 + 8);
        assert!(out[3].text.starts_with("panic: runtime error"));
        assert!(out.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn timestamps_read_as_go_prints_them() {
        assert_eq!(rfc3339_nano(t0()), "2027-01-15T08:00:00Z");
        assert_eq!(
            rfc3339_nano(t0() + Duration::milliseconds(417)),
            "2027-01-15T08:00:00.417Z"
        );
    }
}
