//! The CSS selector subset that `[site.article]` needs: type, `*`, `#id`, `.class`,
//! attribute tests, descendant and child combinators, and `,` lists.
//!
//! A small engine of our own instead of the `selectors` crate: that crate wants a
//! large trait implemented over the DOM, and site configs use a handful of simple
//! selectors. Unsupported syntax is an error, so `newsmirror check` can say so.

use super::Selectors;
use super::dom::{Dom, NodeId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported or malformed CSS selector {selector:?}: {reason}")]
pub struct SelectorError {
    pub selector: String,
    pub reason: &'static str,
}

/// Compounds in one complex selector: far more than any config needs, and it bounds
/// the matcher's backtracking.
const MAX_COMPOUNDS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SelectorList(Vec<Complex>);

/// Compounds left to right; `combinators[i]` joins `compounds[i]` and `compounds[i + 1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Complex {
    compounds: Vec<Compound>,
    combinators: Vec<Combinator>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Combinator {
    Descendant,
    Child,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Compound {
    tag: Option<String>,
    tests: Vec<Test>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    Id(String),
    Class(String),
    Attr {
        name: String,
        op: Option<(AttrOp, String)>,
        ignore_case: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrOp {
    Equals,
    Includes,
    DashMatch,
    Prefix,
    Suffix,
    Substring,
}

impl SelectorList {
    pub(crate) fn parse(source: &str) -> Result<SelectorList, SelectorError> {
        let err = |reason| SelectorError {
            selector: source.to_string(),
            reason,
        };
        let mut list = Vec::new();
        for part in split_top_level_commas(source) {
            list.push(Parser::new(part).complex().map_err(err)?);
        }
        if list.is_empty() {
            return Err(err("empty selector"));
        }
        Ok(SelectorList(list))
    }

    pub(crate) fn matches(&self, dom: &Dom, id: NodeId) -> bool {
        dom.element(id).is_some() && self.0.iter().any(|c| c.matches(dom, id))
    }

    /// Matching elements under (and including) `root`, in document order.
    pub(crate) fn select_all(&self, dom: &Dom, root: NodeId) -> Vec<NodeId> {
        dom.descendants(root)
            .filter(|id| self.matches(dom, *id))
            .collect()
    }

    pub(crate) fn select_first(&self, dom: &Dom, root: NodeId) -> Option<NodeId> {
        dom.descendants(root).find(|id| self.matches(dom, *id))
    }
}

/// `[site.article]` selectors, parsed once per page; a selector that does not parse
/// is dropped, so that field falls back to generic extraction.
#[derive(Debug, Default)]
pub(crate) struct CompiledSelectors {
    pub title: Option<SelectorList>,
    pub body: Option<SelectorList>,
    pub byline: Option<SelectorList>,
    pub published: Option<SelectorList>,
    pub lead_image: Option<SelectorList>,
    pub caption: Option<SelectorList>,
    pub tags: Option<SelectorList>,
}

impl CompiledSelectors {
    pub(crate) fn compile(s: &Selectors) -> CompiledSelectors {
        let c = |s: &Option<String>| s.as_deref().and_then(|s| SelectorList::parse(s).ok());
        CompiledSelectors {
            title: c(&s.title),
            body: c(&s.body),
            byline: c(&s.byline),
            published: c(&s.published),
            lead_image: c(&s.lead_image),
            caption: c(&s.caption),
            tags: c(&s.tags),
        }
    }
}

impl Complex {
    fn matches(&self, dom: &Dom, id: NodeId) -> bool {
        self.matches_from(dom, id, self.compounds.len())
    }

    /// Does `id` match the first `upto` compounds (the last of them on `id` itself)?
    fn matches_from(&self, dom: &Dom, id: NodeId, upto: usize) -> bool {
        let Some(last) = upto.checked_sub(1) else {
            return true;
        };
        let Some(compound) = self.compounds.get(last) else {
            return false;
        };
        if !compound.matches(dom, id) {
            return false;
        }
        let Some(before) = last.checked_sub(1) else {
            return true;
        };
        match self.combinators.get(before) {
            Some(Combinator::Child) => {
                let parent = dom.parent(id);
                dom.element(parent).is_some() && self.matches_from(dom, parent, last)
            }
            Some(Combinator::Descendant) => dom
                .ancestors(id)
                .filter(|a| dom.element(*a).is_some())
                .any(|a| self.matches_from(dom, a, last)),
            None => false,
        }
    }
}

impl Compound {
    fn matches(&self, dom: &Dom, id: NodeId) -> bool {
        let Some(el) = dom.element(id) else {
            return false;
        };
        if let Some(tag) = &self.tag
            && !(*el.name.local).eq_ignore_ascii_case(tag)
        {
            return false;
        }
        self.tests.iter().all(|t| t.matches(el))
    }
}

impl Test {
    fn matches(&self, el: &super::dom::Element) -> bool {
        match self {
            Test::Id(id) => el.attr("id") == Some(id.as_str()),
            Test::Class(class) => el
                .attr("class")
                .is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class)),
            Test::Attr {
                name,
                op,
                ignore_case,
            } => {
                let Some(value) = el
                    .attrs
                    .iter()
                    .find(|a| (*a.name.local).eq_ignore_ascii_case(name))
                    .map(|a| a.value.as_ref())
                else {
                    return false;
                };
                let Some((op, want)) = op else {
                    return true;
                };
                let (value, want) = if *ignore_case {
                    (value.to_lowercase(), want.to_lowercase())
                } else {
                    (value.to_string(), want.clone())
                };
                match op {
                    AttrOp::Equals => value == want,
                    AttrOp::Includes => value.split_ascii_whitespace().any(|w| w == want),
                    AttrOp::DashMatch => value == want || value.starts_with(&format!("{want}-")),
                    AttrOp::Prefix => !want.is_empty() && value.starts_with(&want),
                    AttrOp::Suffix => !want.is_empty() && value.ends_with(&want),
                    AttrOp::Substring => !want.is_empty() && value.contains(&want),
                }
            }
        }
    }
}

/// Splits on commas outside brackets and quotes.
fn split_top_level_commas(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quote = None;
    let mut bracket = false;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => bracket = true,
            (None, ']') => bracket = false,
            (None, ',') if !bracket => {
                parts.push(s.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s.get(start..).unwrap_or_default());
    parts
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

type ParseResult<T> = Result<T, &'static str>;

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser {
            chars: s.trim().chars().peekable(),
        }
    }

    fn complex(&mut self) -> ParseResult<Complex> {
        let mut complex = Complex {
            compounds: vec![self.compound()?],
            combinators: vec![],
        };
        loop {
            let had_space = self.skip_space();
            let combinator = match self.chars.peek() {
                None => break,
                Some('>') => {
                    self.chars.next();
                    self.skip_space();
                    Combinator::Child
                }
                Some('+' | '~') => return Err("sibling combinators are not supported"),
                Some(_) if had_space => Combinator::Descendant,
                Some(_) => return Err("unexpected character"),
            };
            complex.combinators.push(combinator);
            complex.compounds.push(self.compound()?);
            if complex.compounds.len() > MAX_COMPOUNDS {
                return Err("too many compound selectors");
            }
        }
        Ok(complex)
    }

    fn skip_space(&mut self) -> bool {
        let mut any = false;
        while self.chars.next_if(|c| c.is_whitespace()).is_some() {
            any = true;
        }
        any
    }

    fn compound(&mut self) -> ParseResult<Compound> {
        let mut compound = Compound::default();
        let universal = self.chars.next_if_eq(&'*').is_some();
        if !universal {
            let name = self.ident();
            if !name.is_empty() {
                compound.tag = Some(name.to_ascii_lowercase());
            }
        }
        let mut any = compound.tag.is_some();
        loop {
            match self.chars.peek() {
                Some('#') => {
                    self.chars.next();
                    compound.tests.push(Test::Id(self.required_ident()?));
                }
                Some('.') => {
                    self.chars.next();
                    compound.tests.push(Test::Class(self.required_ident()?));
                }
                Some('[') => {
                    self.chars.next();
                    compound.tests.push(self.attribute()?);
                }
                Some(':') => return Err("pseudo-classes are not supported"),
                _ => break,
            }
            any = true;
        }
        if !any && !universal {
            return Err("expected a type, #id, .class or [attribute]");
        }
        Ok(compound)
    }

    fn attribute(&mut self) -> ParseResult<Test> {
        self.skip_space();
        let name = self.required_ident()?.to_ascii_lowercase();
        self.skip_space();
        let op = match self.chars.next() {
            Some(']') => {
                return Ok(Test::Attr {
                    name,
                    op: None,
                    ignore_case: false,
                });
            }
            Some('=') => AttrOp::Equals,
            Some(c @ ('~' | '|' | '^' | '$' | '*')) => {
                if self.chars.next() != Some('=') {
                    return Err("expected = in attribute test");
                }
                match c {
                    '~' => AttrOp::Includes,
                    '|' => AttrOp::DashMatch,
                    '^' => AttrOp::Prefix,
                    '$' => AttrOp::Suffix,
                    _ => AttrOp::Substring,
                }
            }
            _ => return Err("malformed attribute test"),
        };
        self.skip_space();
        let value = match self.chars.peek() {
            Some(&q @ ('"' | '\'')) => {
                self.chars.next();
                let mut v = String::new();
                loop {
                    match self.chars.next() {
                        Some(c) if c == q => break,
                        Some('\\') => v.extend(self.chars.next()),
                        Some(c) => v.push(c),
                        None => return Err("unterminated string"),
                    }
                }
                v
            }
            _ => self.required_ident()?,
        };
        self.skip_space();
        let ignore_case = self.chars.next_if(|c| *c == 'i' || *c == 'I').is_some();
        self.skip_space();
        if self.chars.next() != Some(']') {
            return Err("expected ] after attribute test");
        }
        Ok(Test::Attr {
            name,
            op: Some((op, value)),
            ignore_case,
        })
    }

    fn ident(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self
            .chars
            .next_if(|c| c.is_alphanumeric() || matches!(c, '-' | '_') || !c.is_ascii())
        {
            s.push(c);
        }
        s
    }

    fn required_ident(&mut self) -> ParseResult<String> {
        let s = self.ident();
        if s.is_empty() {
            Err("expected a name")
        } else {
            Ok(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::limits::Budget;
    use super::*;

    fn select(html: &str, sel: &str) -> Vec<String> {
        let Ok(dom) = Dom::parse(html, &mut Budget::new(None)) else {
            return vec![];
        };
        let Ok(list) = SelectorList::parse(sel) else {
            return vec!["<parse error>".into()];
        };
        list.select_all(&dom, Dom::ROOT)
            .into_iter()
            .map(|id| dom.text_content(id))
            .collect()
    }

    #[test]
    fn type_class_and_id_compounds_match() {
        let html = r#"<h1 class="title big">T</h1><h1>U</h1><div id="artbody">B</div>"#;
        assert_eq!(select(html, "h1.title"), ["T"]);
        assert_eq!(select(html, "#artbody"), ["B"]);
        assert_eq!(select(html, "h1"), ["T", "U"]);
    }

    #[test]
    fn descendant_and_child_combinators_match() {
        let html = r#"<div id="tagsdiv"><span><a>x</a></span><a>y</a></div><a>z</a>"#;
        assert_eq!(select(html, "#tagsdiv a"), ["x", "y"]);
        assert_eq!(select(html, "#tagsdiv > a"), ["y"]);
    }

    #[test]
    fn attribute_tests_match() {
        let html = r#"<meta property="article:published_time" content="c"><p lang="en-GB">e</p>"#;
        let dom = Dom::parse(html, &mut Budget::new(None));
        let list = SelectorList::parse("meta[property='article:published_time']");
        let found = match (&dom, &list) {
            (Ok(dom), Ok(list)) => list
                .select_first(dom, Dom::ROOT)
                .and_then(|id| dom.attr(id, "content")),
            _ => None,
        };
        assert_eq!(found, Some("c"));
        assert_eq!(select(html, "[lang|=en]"), ["e"]);
        assert_eq!(select(html, "p[lang^=EN i]"), ["e"]);
    }

    #[test]
    fn comma_lists_match_either() {
        assert_eq!(select("<b>1</b><i>2</i><u>3</u>", "b, u"), ["1", "3"]);
    }

    #[test]
    fn unsupported_syntax_is_an_error() {
        assert!(SelectorList::parse("a:hover").is_err());
        assert!(SelectorList::parse("a + b").is_err());
        assert!(SelectorList::parse("").is_err());
        assert!(SelectorList::parse("div[").is_err());
    }
}
