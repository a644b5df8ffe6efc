//! Hostile pages: bounded work, typed errors, no stack overflow.

mod extract_fixtures;

use std::time::{Duration, Instant};

use extract_fixtures::*;
use newsmirror::extract::{ExtractError, Limits};

#[test]
fn fifty_thousand_nested_divs_are_refused_as_too_deep_before_parsing() {
    let html = "<div>".repeat(50_000);
    assert_eq!(html.len(), 250_000);
    let start = Instant::now();
    let result = run(&html, ENGLISH_URL);
    let elapsed = start.elapsed();
    assert_eq!(
        result.err(),
        Some(ExtractError::TooDeep {
            limit: Limits::default().max_depth
        })
    );
    // Generous even for a debug build on a busy machine: the pre-scan is one pass.
    assert!(elapsed < Duration::from_millis(500), "took {elapsed:?}");
}

#[test]
fn unclosed_formatting_elements_count_as_depth() {
    let html = "<b>x".repeat(100_000);
    assert!(matches!(
        run(&html, ENGLISH_URL),
        Err(ExtractError::TooDeep { .. })
    ));
}

#[test]
fn page_over_max_bytes_is_too_large() {
    let page = english_news_page();
    let limits = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    assert_eq!(
        run_with(&page, ENGLISH_URL, None, limits).err(),
        Some(ExtractError::TooLarge {
            size: page.len(),
            limit: 1000
        })
    );
}

#[test]
fn default_limit_refuses_a_six_mebibyte_page() {
    let html = format!("<p>{}</p>", "a ".repeat(3 * 1024 * 1024));
    assert!(matches!(
        run(&html, ENGLISH_URL),
        Err(ExtractError::TooLarge { .. })
    ));
}

#[test]
fn deep_page_within_the_limit_extracts_without_overflowing_the_stack() {
    let depth = 500;
    let prose = "<p>A sentence of ordinary prose, long enough, with commas, to be scored as a paragraph.</p>".repeat(5);
    let html = format!("{}{prose}{}", "<div>".repeat(depth), "</div>".repeat(depth));
    // A small stack makes any recursion over the tree fail loudly.
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || run(&html, ENGLISH_URL).map(|a| a.word_count))
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let words = handle
        .join()
        .unwrap_or_else(|_| panic!("extraction panicked"));
    assert!(words.is_ok_and(|w| w > 50));
}

#[test]
fn passed_deadline_times_out() {
    let limits = Limits {
        deadline: Some(Instant::now()),
        ..Limits::default()
    };
    assert_eq!(
        run_with(&english_news_page(), ENGLISH_URL, None, limits).err(),
        Some(ExtractError::Timeout)
    );
}

#[test]
fn garbage_input_does_not_panic() {
    for html in [
        "<",
        "</div></div></p>",
        "<<<>>><!--",
        "<script>",
        "<svg><path/><path/></svg><math><mi>x</mi>",
        "<table><td><table><td><p>x</table>",
        "\u{0}\u{feff}<p>\u{fffd}</p>",
        "<a href='javascript:alert(1)'>x</a><img src='data:,'>",
    ] {
        let _ = run(html, ENGLISH_URL);
    }
}
