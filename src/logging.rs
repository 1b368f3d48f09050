//! The function's log setup, as `lambda_runtime::tracing::init_default_subscriber` does it —
//! stdout, no timestamp (CloudWatch adds one), no target, JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`,
//! the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO — but with a plain level
//! filter instead of tracing-subscriber's `EnvFilter`, whose regular-expression engine
//! (regex-automata, regex-syntax) was about a tenth of the deployed binary (BENCHMARKS.md).
//! What is given up: `RUST_LOG` is read as one level (`debug`), not as per-module directives
//! (`rootwatch=debug,hyper=info`); Lambda's own setting is a single level anyway.

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The level to log at: Lambda's `AWS_LAMBDA_LOG_LEVEL` (TRACE … ERROR, or FATAL: errors only),
/// else `RUST_LOG` when it is a bare level, else INFO.
pub(crate) fn level(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>) -> LevelFilter {
    let parse = |value: &str| match value.trim().to_ascii_lowercase().as_str() {
        "fatal" => Some(LevelFilter::ERROR),
        other => other.parse().ok(),
    };
    aws_lambda_log_level
        .or(rust_log)
        .and_then(parse)
        .unwrap_or(LevelFilter::INFO)
}

/// Logs to stdout, as Lambda expects.
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// Logs to `writer` (the tests capture the function's log this way).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let var = |name: &str| std::env::var(name).ok();
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let level = level(
        var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
        var("RUST_LOG").as_deref(),
    );
    let subscriber = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(level)
        .with_writer(writer);
    if json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambdas_level_wins_then_rust_log_then_info() {
        assert_eq!(level(Some("DEBUG"), Some("error")), LevelFilter::DEBUG);
        assert_eq!(level(None, Some("warn")), LevelFilter::WARN);
        assert_eq!(level(None, None), LevelFilter::INFO);
        assert_eq!(level(Some("FATAL"), None), LevelFilter::ERROR);
        assert_eq!(level(Some("TRACE"), None), LevelFilter::TRACE);
    }

    #[test]
    fn what_is_not_a_level_means_info() {
        assert_eq!(level(Some("loud"), None), LevelFilter::INFO);
        assert_eq!(level(None, Some("rootwatch=debug")), LevelFilter::INFO);
    }
}
