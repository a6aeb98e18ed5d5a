//! `refresh APP [--hard]`: Argo CD's refresh, waited for; kept out of
//! commands.rs as the one verb only one source has.

use super::args::Output;
use super::commands::{fail, print, EXIT_DRIFT, EXIT_OK};
use crate::engine::Engine;
use crate::model::AppId;

pub async fn run(engine: &Engine, output: Output, app: &AppId, hard: bool) -> i32 {
    match engine.refresh(app, hard).await {
        Ok(report) => {
            print(output, &report, || format!("{}\n", report.summary()));
            if report.comparison_error {
                EXIT_DRIFT
            } else {
                EXIT_OK
            }
        }
        Err(e) => fail(&e),
    }
}
