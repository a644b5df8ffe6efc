//! What lol_html itself costs on a page, by the handlers registered: none,
//! a do-nothing handler on `*` (what newsmirror's rules need: every
//! element's attributes are looked at), one on `a` only, and `*` reading
//! the tag name or the attribute names. The floor under any rewrite built
//! on lol_html; compare with `examples/profile_rewrite` on the same file.
//! Run under `valgrind --tool=callgrind` for instruction counts, which do
//! not move with the machine's load.
//!
//!   cargo run --release --example lol_html_floor -- MODE FILE N
//!   (MODE: none, noop, a, tagname, names)

use std::time::Instant;

use lol_html::{HtmlRewriter, Settings, element};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: lol_html_floor none|noop|a|tagname|names FILE N";
    let mode = args.next().ok_or(usage)?;
    let page = std::fs::read(args.next().ok_or(usage)?)?;
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let start = Instant::now();
    let mut total = 0;
    for _ in 0..n {
        let mut out = Vec::with_capacity(page.len());
        let handlers = match mode.as_str() {
            "none" => vec![],
            "noop" => vec![element!("*", |_el| Ok(()))],
            "a" => vec![element!("a", |_el| Ok(()))],
            "tagname" => vec![element!("*", |el| {
                std::hint::black_box(el.tag_name());
                Ok(())
            })],
            "names" => vec![element!("*", |el| {
                let names: Vec<String> = el.attributes().iter().map(|a| a.name()).collect();
                std::hint::black_box(names);
                Ok(())
            })],
            _ => return Err(usage.into()),
        };
        let mut settings = Settings::new();
        for h in handlers {
            settings = settings.append_element_content_handler(h);
        }
        let mut rw = HtmlRewriter::new(settings, |c: &[u8]| out.extend_from_slice(c));
        rw.write(&page)?;
        rw.end()?;
        total += out.len();
    }
    let each = start.elapsed().as_secs_f64() / n.max(1) as f64;
    println!(
        "{mode}: {n} passes over {} bytes ({total} out): {:.1} us each",
        page.len(),
        each * 1e6
    );
    Ok(())
}
