//! Images: which URL an `<img>` really shows, its caption, and the lead image.

use html5ever::local_name;

use super::Image;
use super::body::Body;
use super::dom::{Dom, NIL, NodeId};
use super::meta::PageMeta;
use super::selector::CompiledSelectors;
use super::text::collapse_whitespace;
use super::urls::Resolver;

/// Attributes where lazy-loading scripts keep the real image, best first.
const LAZY_SOURCES: &[&str] = &[
    "data-src",
    "data-original",
    "data-lazy-src",
    "data-url",
    "data-hi-res-src",
    "data-full-src",
    "data-srcset",
    "srcset",
];

/// The URL an `<img>` shows once its lazy-loading script has run, `None`
/// when all it would show is a placeholder or a tracking pixel.
///
/// A placeholder `src` (a 1x1 GIF, a spacer, a tiny `data:` image) or an
/// image sized 0–2 pixels (the size is the placeholder's) gives way to the
/// real URL in a lazy-loading attribute; without one there is no image.
pub(crate) fn image_source(dom: &Dom, img: NodeId) -> Option<&str> {
    let src = dom
        .attr(img, "src")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(src) = src
        && !is_placeholder(src)
        && !is_tiny(dom, img)
    {
        return Some(src);
    }
    LAZY_SOURCES
        .iter()
        .filter_map(|a| dom.attr(img, a))
        .filter_map(|v| v.split(',').next())
        .filter_map(|v| v.split_whitespace().next())
        .find(|v| !is_placeholder(v))
}

/// Whether `src` names a placeholder: a `data:` image (inline images are
/// placeholders or pixels; the article URL rule drops them anyway) or a
/// file whose name says it holds nothing (`px.gif`, `blank.gif`,
/// `spacer.png`, `1x1.gif`, `placeholder.svg`, `lazy.png`, ...).
fn is_placeholder(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    if lower.trim_start().starts_with("data:") {
        return true;
    }
    let path = lower.split(['?', '#']).next().unwrap_or("");
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.split('.').next().unwrap_or("");
    let named = [
        "px",
        "1x1",
        "1px",
        "pix",
        "clear",
        "trans",
        "transparent",
        "dot",
        "empty",
        "grey",
        "gray",
        "none",
    ];
    let contained = ["blank", "spacer", "placeholder", "1x1"];
    named.contains(&stem)
        || contained.iter().any(|p| stem.contains(p))
        || stem.ends_with("pixel")
        || stem.starts_with("lazy")
        || stem.starts_with("loading")
}

/// Images sized 0–2 pixels exist to count readers (or to hold a place), not
/// to be seen.
fn is_tiny(dom: &Dom, img: NodeId) -> bool {
    ["width", "height"].iter().any(|a| {
        dom.attr(img, a)
            .map(|v| v.trim().trim_end_matches("px").trim())
            .and_then(|v| v.parse::<f32>().ok())
            .is_some_and(|n| n <= 2.0)
    })
}

/// The caption of an image: its `<figure>`'s `<figcaption>`, or a caption-named
/// element right after it (`<div class="caption">`, WordPress' `wp-caption-text`).
pub(crate) fn caption_of(dom: &Dom, img: NodeId) -> Option<String> {
    let figure = dom
        .ancestors(img)
        .take(4)
        .find(|a| dom.is(*a, &local_name!("figure")));
    if let Some(figure) = figure
        && let Some(caption) = dom
            .descendants(figure)
            .find(|d| dom.is(*d, &local_name!("figcaption")))
    {
        return non_empty(dom.text_content(caption));
    }
    // The image, then up to two wrappers around it: the caption is a later sibling.
    let mut node = img;
    for _ in 0..3 {
        let mut sib = dom.node(node).next;
        while sib != NIL {
            if dom.element(sib).is_some() {
                if is_caption(dom, sib) {
                    return non_empty(dom.text_content(sib));
                }
                if dom.tag(sib) != Some(&local_name!("br")) {
                    break;
                }
            }
            sib = dom.node(sib).next;
        }
        node = dom.parent(node);
        if node == NIL || dom.element_children(node).count() > 3 {
            break;
        }
    }
    None
}

pub(crate) fn is_caption(dom: &Dom, id: NodeId) -> bool {
    dom.is(id, &local_name!("figcaption"))
        || ["class", "id"].iter().any(|a| {
            dom.attr(id, a).is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.contains("caption") || v.contains("credit") || v.contains("img-desc")
            })
        })
}

fn non_empty(s: String) -> Option<String> {
    let s = collapse_whitespace(&s);
    (!s.is_empty()).then_some(s)
}

/// The article's lead image: configured selector, else an image between the title
/// heading and the body, else the body's first image, else `og:image`.
pub(crate) fn lead_image(
    dom: &Dom,
    page: &PageMeta,
    body: &Body,
    selectors: Option<&CompiledSelectors>,
    resolver: &Resolver,
    body_images: &[Image],
) -> Option<Image> {
    let configured_caption = || {
        let sel = selectors?.caption.as_ref()?;
        non_empty(dom.text_content(sel.select_first(dom, Dom::ROOT)?))
    };
    if let Some(sel) = selectors.and_then(|s| s.lead_image.as_ref())
        && let Some(found) = sel.select_first(dom, Dom::ROOT)
        && let Some(img) = dom
            .descendants(found)
            .find(|d| dom.is(*d, &local_name!("img")))
        && let Some(image) = image_at(dom, img, resolver)
    {
        return Some(Image {
            caption: configured_caption().or(image.caption),
            url: image.url,
        });
    }
    let image = image_before_body(dom, body, resolver)
        .or_else(|| body_images.first().cloned())
        .or_else(|| {
            let url = page
                .jsonld
                .image
                .as_deref()
                .or_else(|| page.meta(&["og:image", "og:image:url", "twitter:image"]))?;
            Some(Image {
                url: resolver.resolve(url)?,
                caption: None,
            })
        })?;
    Some(Image {
        caption: configured_caption().or(image.caption),
        url: image.url,
    })
}

fn image_at(dom: &Dom, img: NodeId, resolver: &Resolver) -> Option<Image> {
    Some(Image {
        url: resolver.resolve(image_source(dom, img)?)?,
        caption: caption_of(dom, img),
    })
}

/// An image after the page's `<h1>` and before the body (the seed page's layout:
/// headline, picture with a caption, then `#artbody`).
fn image_before_body(dom: &Dom, body: &Body, resolver: &Resolver) -> Option<Image> {
    let first_root = *body.roots.first()?;
    let h1 = dom
        .elements_named(&local_name!("h1"))
        .find(|h| !body.skipped(*h) || body.roots.iter().any(|r| dom.is_ancestor(*r, *h)))?;
    let mut found = None;
    let mut on_path = vec![false; dom.len()];
    for a in dom.ancestors(first_root) {
        if let Some(slot) = on_path.get_mut(a as usize) {
            *slot = true;
        }
    }
    // Walk forward in document order from the heading to the body; an image counts
    // only if the body really comes after the heading.
    let mut id = dom.next_outside(h1, Dom::ROOT);
    while id != NIL && id != first_root {
        if on_path.get(id as usize).copied().unwrap_or(false) {
            id = dom.node(id).first;
            continue;
        }
        if dom.is(id, &local_name!("img")) && !body.skipped(id) {
            found = image_at(dom, id, resolver).or(found);
        }
        let first = dom.node(id).first;
        id = if first != NIL && !body.skipped(id) {
            first
        } else {
            dom.next_outside(id, Dom::ROOT)
        };
    }
    if id == first_root { found } else { None }
}

/// The lead image first, then the body's images, without repeats.
pub(crate) fn merge_images(lead: Option<&Image>, body_images: &[Image]) -> Vec<Image> {
    let mut all: Vec<Image> = lead.into_iter().cloned().collect();
    for image in body_images {
        if !all.iter().any(|i| i.url == image.url) {
            all.push(image.clone());
        }
    }
    all
}
