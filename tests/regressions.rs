//! Every input the fuzzers (fuzz/, see fuzz/README.md) found failing,
//! replayed through the same checks (`fuzz/src/checks.rs`) as a plain test,
//! so CI runs them without cargo-fuzz; plus a direct test of each fix.

#[path = "../fuzz/src/checks.rs"]
mod checks;

use newsmirror::charset::{DocKind, Transcoder};
use newsmirror::url_map::{Mapped, Place};
use url::Url;

fn map_on_u(raw: &str, place: Place) -> Mapped {
    let f = checks::fixture();
    let page = Url::parse(checks::PAGES[0]).expect("page URL");
    f.mapper.map(f.sites[0].id, &page, raw, place)
}

// --- url_map -----------------------------------------------------------------

/// fuzz/artifacts/url_map/crash-fa6fcf1d (a seed): `https://www.u.test//two/slashes`
/// became `//two/slashes`, a link to host `two`.
#[test]
fn same_site_url_with_a_double_slash_path_stays_on_the_mirror() {
    checks::url_map(b"\x00https://www.u.test//two/slashes");
    assert_eq!(
        map_on_u("https://www.u.test//evil.example/x.js", Place::Resource),
        Mapped::Mirror("/evil.example/x.js".into())
    );
    assert_eq!(
        map_on_u("https://u.test/\\/evil.example/x", Place::Link),
        Mapped::Mirror("/evil.example/x".into())
    );
}

/// tests/properties.rs (asset_urls_route_back_to_the_asset, shrunk to
/// `https://img.u.test//=`): the asset route drops the leading slashes of
/// the path, the mapper kept them, so mapping what the route fetched gave
/// another mirror path for the same asset.
#[test]
fn asset_mirror_path_is_the_one_its_route_gives_back() {
    let f = checks::fixture();
    let Mapped::Mirror(p) = map_on_u("https://img.u.test//=", Place::Image) else {
        panic!("asset not mapped");
    };
    assert_eq!(p, "/_/asset/img.u.test/=");
    let rest = p.strip_prefix("/_/asset/").expect("asset route");
    let target = f.mapper.asset_target(rest).expect("asset host");
    assert_eq!(target.as_str(), "https://img.u.test/=");
    assert_eq!(map_on_u(target.as_str(), Place::Image), Mapped::Mirror(p));
}

/// tests/properties.rs (mapped_urls_cannot_break_out_of_an_attribute, after
/// the fast path landed): the scheme check cut the text at byte 8, inside a
/// four-byte character, and panicked.
#[test]
fn url_with_a_wide_character_where_a_scheme_would_end_is_mapped_without_panic() {
    // Byte 8 (the length of `https://`) falls inside the four-byte character.
    let raw = "rel/ati\u{108d2}ve";
    checks::url_map(format!("\x00{raw}").as_bytes());
    let Mapped::Mirror(p) = map_on_u(raw, Place::Link) else {
        panic!("relative link not mapped");
    };
    assert!(p.ends_with("rel/ati%F0%90%A3%92ve"), "{p}");
}

// --- charset -----------------------------------------------------------------

/// Transcodes `body` whole and cut into `size`-byte pieces.
fn transcode(kind: DocKind, header: Option<&str>, body: &[u8], size: usize) -> (Vec<u8>, Vec<u8>) {
    let mut t = Transcoder::new(kind, header, None);
    let mut whole = Vec::new();
    t.push(body, &mut whole);
    t.finish(&mut whole);
    let mut t = Transcoder::new(kind, header, None);
    let mut chunked = Vec::new();
    for piece in body.chunks(size) {
        t.push(piece, &mut chunked);
    }
    t.finish(&mut chunked);
    (whole, chunked)
}

/// fuzz/artifacts/charset/crash-67089f7b (minimized to 1195 bytes): an
/// undeclared page, valid UTF-8 for its first KiB of non-ASCII and not
/// after, was guessed UTF-8 when it came in small pieces and windows-1252
/// when it came whole: the guess looked at whatever had arrived.
#[test]
fn undeclared_encoding_guess_does_not_depend_on_chunking() {
    let mut body = b"<!doctype html><p>".to_vec();
    body.extend_from_slice("村里的老人也常来借阅".repeat(40).as_bytes());
    body.extend_from_slice(b"\xff\xfe<p>\xe9t\xe9</p>");
    for size in [1, 7, 500, 1024, 4096] {
        let (whole, chunked) = transcode(DocKind::Html, None, &body, size);
        assert_eq!(whole, chunked, "chunks of {size}");
    }
    checks::charset(
        &[0x00, 0x04, 0x07]
            .iter()
            .chain(&body)
            .copied()
            .collect::<Vec<_>>(),
    );
}

/// A page that declares ISO-2022-JP in its `<meta>` after its first KiB
/// has escape sequences in its ASCII-looking head; they went out raw
/// (`$B...`) when the head arrived in small pieces.
#[test]
fn iso_2022_jp_escapes_before_the_meta_decision_are_decoded() {
    let title = encoding_rs::ISO_2022_JP
        .encode("東京のニュース")
        .0
        .into_owned();
    let mut body = b"<html><head><title>".to_vec();
    body.extend_from_slice(&title);
    body.extend_from_slice(b"</title><meta charset=\"iso-2022-jp\">");
    body.extend_from_slice(&b" ".repeat(1200));
    body.extend_from_slice(&title);
    for size in [1, 10, 100, 4096] {
        let (whole, chunked) = transcode(DocKind::Html, None, &body, size);
        assert_eq!(whole, chunked, "chunks of {size}");
        let text = String::from_utf8(chunked).expect("UTF-8");
        assert_eq!(text.matches("東京のニュース").count(), 2, "{text}");
    }
}

/// The "replacement" encoding (a `<meta>` naming ISO-2022-KR) gives the
/// leading ASCII and one U+FFFD, however the body is cut.
#[test]
fn replacement_encoding_output_does_not_depend_on_chunking() {
    let mut body = b"<html><head><meta charset=\"iso-2022-kr\">".to_vec();
    body.extend_from_slice(&b"<p>x</p>".repeat(200));
    body.extend_from_slice(b"\x1b$)C\x0e!!\x0f");
    for size in [1, 3, 64, 4096] {
        let (whole, chunked) = transcode(DocKind::Html, None, &body, size);
        assert_eq!(whole, chunked, "chunks of {size}");
        assert!(
            String::from_utf8(chunked)
                .expect("UTF-8")
                .ends_with("</p>\u{FFFD}")
        );
    }
}

/// A byte-order mark after the leading ASCII is text, not a mark: it was
/// dropped only when the ASCII arrived in an earlier piece.
#[test]
fn byte_order_mark_after_leading_ascii_is_kept_however_the_body_is_cut() {
    let body = b"<p>a</p>\xEF\xBB\xBF<p>b</p>";
    for size in [1, 3, 8, 64] {
        let (whole, chunked) = transcode(DocKind::Html, None, body, size);
        assert_eq!(whole, chunked, "chunks of {size}");
        assert_eq!(whole, body);
    }
}

// --- pipeline ----------------------------------------------------------------

/// fuzz/artifacts/pipeline (first minute of the pipeline target): a
/// `<meta http-equiv=refresh>` whose `content` has a multi-byte character
/// where `url` would start panicked in `headers::map_refresh` (a byte slice
/// inside a character), killing the response.
#[test]
fn meta_refresh_with_non_ascii_before_the_url_does_not_panic() {
    let page = "<meta http-equiv=\"refresh\" content=\"0;Åèurl=https://www.u.test/news/\">";
    let out =
        checks::run_pipeline(DocKind::Html, 0, Some("utf-8"), [page.as_bytes()]).expect("rewrites");
    // As in browsers, the URL is everything after the `;`: a relative one.
    assert!(
        String::from_utf8_lossy(&out).contains("content=\"0; url=/news/2026/11/%C3%85%C3%A8url=")
    );
    assert_eq!(
        newsmirror::headers::map_refresh("1;é€", |_| Some("/y".into())),
        Some("1; url=/y".into())
    );
    let mut input = vec![0x00, 0x00, 0x00];
    input.extend_from_slice(page.as_bytes());
    checks::pipeline(&input);
}
