//! The chosen article body: what [`super::content`] finds and the output,
//! media and metadata steps read. Its own module so that its readers do not
//! depend on its producer.

use super::dom::NodeId;
use super::text::TextSize;

/// The chosen article body.
#[derive(Debug, Default)]
pub(crate) struct Body {
    /// Subtrees to output, in document order.
    pub roots: Vec<NodeId>,
    /// Per node: leave out of the output (with its subtree).
    pub skip: Vec<bool>,
    /// The first byline-looking element (taken out of the body).
    pub byline: Option<NodeId>,
    /// Text size of the output, for the "is this an article" test.
    pub size: TextSize,
    /// Share of the output's text inside links.
    pub link_density: f32,
    /// Links that fill their whole line (`<h2><a>headline</a></h2>`): teasers.
    pub standalone_links: u32,
    /// Characters in those links.
    pub standalone_chars: u32,
    /// Links in the output.
    pub links: u32,
    /// Whether some of the output's text is outside links.
    pub unlinked_text: bool,
    /// Caption-named elements (`class="caption"`, `"credit"`), in document order:
    /// written to the HTML but kept out of the text, like `<figcaption>`.
    pub captions: Vec<NodeId>,
}

impl Body {
    pub(crate) fn skipped(&self, id: NodeId) -> bool {
        self.skip.get(id as usize).copied().unwrap_or(false)
    }

    pub(crate) fn is_caption(&self, id: NodeId) -> bool {
        self.captions.binary_search(&id).is_ok()
    }
}
