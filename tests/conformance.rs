//! The public HTTP cache conformance suite (http-cache-tests 0.4.5) against
//! the real binary as a plain caching reverse proxy (`rewrite = false`),
//! through `conformance/run.sh`. `.ci/run` installs the suite (npm ci);
//! this test installs nothing and talks only to loopback.

use std::process::Command;

/// Required tests the suite itself makes impossible to pass all at once:
/// `age-parse-prefix` contradicts `age-parse-dup-0`, and the four
/// `stale-close-*` tests want an origin header on an answer made while the
/// origin is disconnected (every published cache fails them). 160/165.
const MIN_REQUIRED_RATE: &str = "96";

#[test]
fn http_cache_conformance_required_pass_rate() {
    let results = tempfile::tempdir().unwrap();
    let output = Command::new("bash")
        .arg("conformance/run.sh")
        .arg("newsmirror")
        .env("NEWSMIRROR_BIN", env!("CARGO_BIN_EXE_newsmirror"))
        .env("MIN_REQUIRED_RATE", MIN_REQUIRED_RATE)
        .env("CONFORMANCE_NO_INSTALL", "1")
        .env("CONFORMANCE_RESULTS", results.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failures =
        std::fs::read_to_string(results.path().join("newsmirror.failures.txt")).unwrap_or_default();
    assert!(
        output.status.success(),
        "conformance below {MIN_REQUIRED_RATE}% or not run:\n{stdout}\n{stderr}\n{failures}"
    );
    assert!(stdout.contains("newsmirror: required"), "{stdout}");
    // The score in CI's output on success too: written to the process's
    // standard error directly, past the test harness's capture.
    if let Some(line) = stdout.lines().find(|l| l.contains("newsmirror: required")) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "conformance: {}", line.trim());
    }
}
