//! The module graph has no circles (issue 13): `tools/import_cycles.py`
//! reads every `crate::`/`super::` path in `src/` and fails on a strongly
//! connected component of more than one module.

use std::process::Command;

#[test]
fn the_module_graph_has_no_circles() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .arg(format!("{root}/tools/import_cycles.py"))
        .output()
        .expect("python3 runs (.ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" 0 circles"), "{text}");
}

/// Runs the checker on a copy of `src/` with `line` put first in `file`.
fn check_with(file: &str, line: &str) -> (bool, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!(
        "nm-cycles-{}-{}",
        std::process::id(),
        file.replace('/', "_")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tools")).unwrap();
    let status = Command::new("cp")
        .args(["-r", &format!("{root}/src"), dir.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::copy(
        format!("{root}/tools/import_cycles.py"),
        dir.join("tools/import_cycles.py"),
    )
    .unwrap();
    let path = dir.join("src").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{line}\n{text}")).unwrap();
    let out = Command::new("python3")
        .arg(dir.join("tools/import_cycles.py"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The checker finds a circle when there is one: between layers (the cache
/// naming the mirror, through a submodule) and between siblings.
#[test]
fn the_checker_sees_a_circle() {
    let (ok, text) = check_with("cache/clock.rs", "use crate::mirror::Target;");
    assert!(!ok && text.contains("cache <-> mirror"), "{text}");
    let (ok, text) = check_with("mirror/plan.rs", "use super::fill::run;");
    assert!(!ok && text.contains("mirror::fill"), "{text}");
}
