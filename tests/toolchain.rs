//! The minimum Rust version `Cargo.toml` states is the real one: no locked
//! dependency needs a newer compiler (their own `rust-version`, read from
//! the sources cargo fetched for this build), and the code's let-chains
//! need 1.88.

use std::path::{Path, PathBuf};

fn version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().trim_matches('"').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn rust_version_of(manifest: &str) -> Option<(u32, u32)> {
    manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("rust-version"))
        .and_then(|rest| rest.trim().strip_prefix('='))
        .and_then(version)
}

fn registry_sources() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    std::fs::read_dir(home.join("registry").join("src"))
        .map(|dirs| dirs.filter_map(|d| d.ok().map(|d| d.path())).collect())
        .unwrap_or_default()
}

#[test]
fn the_stated_minimum_rust_version_is_what_the_locked_dependencies_need() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = rust_version_of(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap())
        .expect("Cargo.toml states a rust-version");
    assert!(
        ours >= (1, 88),
        "let-chains need 1.88, Cargo.toml says {ours:?}"
    );
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    let sources = registry_sources();
    let mut checked = 0;
    let mut newest = ((0, 0), String::new());
    for package in lock.split("[[package]]").skip(1) {
        let field = |name: &str| {
            package
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} = ")))
                .map(|v| v.trim_matches('"').to_owned())
        };
        let (Some(name), Some(ver), Some(source)) =
            (field("name"), field("version"), field("source"))
        else {
            continue;
        };
        if !source.starts_with("registry+") {
            continue;
        }
        let Some(manifest) = sources
            .iter()
            .map(|s| s.join(format!("{name}-{ver}")).join("Cargo.toml"))
            .find(|p| p.exists())
        else {
            continue;
        };
        checked += 1;
        if let Some(v) = rust_version_of(&std::fs::read_to_string(manifest).unwrap())
            && v > newest.0
        {
            newest = (v, format!("{name} {ver}"));
        }
    }
    assert!(checked > 50, "only {checked} dependency sources found");
    assert!(
        newest.0 <= ours,
        "{} needs Rust {:?}, Cargo.toml says {ours:?}",
        newest.1,
        newest.0
    );
}
