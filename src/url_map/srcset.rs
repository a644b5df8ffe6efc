//! `srcset` / `imagesrcset` values, parsed as the HTML standard does, so that
//! URLs containing commas survive.

/// One image candidate: its URL and its descriptor (`800w`, `2x`, or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub url: &'a str,
    pub descriptor: &'a str,
}

/// Splits a srcset value into candidates (HTML standard, "parse a srcset
/// attribute", keeping descriptors as text).
pub fn parse(input: &str) -> Vec<Candidate<'_>> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b',') {
            pos += 1;
        }
        if pos >= bytes.len() {
            return out;
        }
        let start = pos;
        while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let mut url = &input[start..pos];
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
            if !url.is_empty() {
                out.push(Candidate {
                    url,
                    descriptor: "",
                });
            }
            continue;
        }
        // Descriptors run to the next comma outside parentheses.
        let desc_start = pos;
        let mut depth = 0usize;
        while pos < bytes.len() {
            match bytes[pos] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => break,
                _ => {}
            }
            pos += 1;
        }
        out.push(Candidate {
            url,
            descriptor: input[desc_start..pos].trim(),
        });
        if pos < bytes.len() {
            pos += 1; // the comma
        }
    }
}

/// Rewrites every candidate's URL with `map` (`None` keeps it). Returns
/// `None` when nothing changed.
pub fn rewrite(input: &str, mut map: impl FnMut(&str) -> Option<String>) -> Option<String> {
    let candidates = parse(input);
    let mut changed = false;
    let mut out = String::with_capacity(input.len() + 32);
    for (i, c) in candidates.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match map(c.url) {
            Some(mapped) => {
                changed = true;
                // A trailing comma would end the URL early when parsed again.
                let trailing = mapped.len() - mapped.trim_end_matches(',').len();
                out.push_str(mapped.trim_end_matches(','));
                for _ in 0..trailing {
                    out.push_str("%2C");
                }
            }
            None => out.push_str(c.url),
        }
        if !c.descriptor.is_empty() {
            out.push(' ');
            out.push_str(c.descriptor);
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(s: &str) -> Vec<(&str, &str)> {
        parse(s)
            .into_iter()
            .map(|c| (c.url, c.descriptor))
            .collect()
    }

    #[test]
    fn parses_width_and_density_descriptors() {
        assert_eq!(
            urls("a.jpg 480w, b.jpg 800w"),
            [("a.jpg", "480w"), ("b.jpg", "800w")]
        );
        assert_eq!(urls(" a.jpg, b.jpg 2x "), [("a.jpg", ""), ("b.jpg", "2x")]);
        // As in browsers: a comma not followed by whitespace is part of the URL.
        assert_eq!(urls("a.jpg,b.jpg 2x"), [("a.jpg,b.jpg", "2x")]);
        assert_eq!(urls("a.jpg"), [("a.jpg", "")]);
        assert_eq!(urls(""), []);
        assert_eq!(urls(" , ,"), []);
    }

    #[test]
    fn commas_inside_urls_are_kept() {
        assert_eq!(
            urls("https://i.com/a,b_800.jpg 800w, https://i.com/c,d.jpg 2x"),
            [
                ("https://i.com/a,b_800.jpg", "800w"),
                ("https://i.com/c,d.jpg", "2x")
            ]
        );
        assert_eq!(
            urls("/img/w_400,h_300/x.jpg 400w,/img/w_800,h_600/x.jpg 800w"),
            [
                ("/img/w_400,h_300/x.jpg", "400w"),
                ("/img/w_800,h_600/x.jpg", "800w")
            ]
        );
    }

    #[test]
    fn rewrite_maps_every_candidate() {
        let out = rewrite("a.jpg 1x, b.jpg 2x", |u| Some(format!("/m/{u}"))).unwrap();
        assert_eq!(out, "/m/a.jpg 1x, /m/b.jpg 2x");
        assert_eq!(rewrite("a.jpg 1x", |_| None), None);
    }

    #[test]
    fn rewritten_trailing_comma_is_encoded() {
        let out = rewrite("a 1x", |_| Some("/x,".into())).unwrap();
        assert_eq!(out, "/x%2C 1x");
    }
}
