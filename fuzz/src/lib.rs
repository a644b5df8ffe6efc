//! Helpers of newsmirror's fuzz targets: the checks live in `checks.rs`,
//! shared with `tests/regressions.rs`.

pub mod checks;
