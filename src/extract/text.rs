//! Character classes and counts shared by scoring, output and the API.

/// Han, Hiragana, Katakana or Hangul: scripts written without spaces, where one
/// character carries about as much as a short word elsewhere.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x309F        // Hiragana
        | 0x30A0..=0x30FF      // Katakana
        | 0x31F0..=0x31FF      // Katakana phonetic extensions
        | 0x3400..=0x4DBF      // Han extension A
        | 0x4E00..=0x9FFF      // Han
        | 0xF900..=0xFAFF      // Han compatibility
        | 0xFF66..=0xFF9D      // half-width Katakana
        | 0x1100..=0x11FF      // Hangul Jamo
        | 0x3130..=0x318F      // Hangul compatibility Jamo
        | 0xAC00..=0xD7AF      // Hangul syllables
        | 0x20000..=0x3134F    // Han extensions B..H
    )
}

/// Word count where each CJK character counts one and other scripts count runs of
/// letters and digits (`\w+`-like, apostrophes inside a word do not split it).
pub fn word_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_word = false;
    let mut prev_apostrophe = false;
    for c in text.chars() {
        if is_cjk(c) {
            count += 1;
            in_word = false;
        } else if c.is_alphanumeric() || c == '_' {
            if !in_word && !prev_apostrophe {
                count += 1;
            }
            in_word = true;
        } else {
            // "don't" is one word: keep the word open across a single apostrophe.
            prev_apostrophe = in_word && (c == '\'' || c == '’');
            in_word = false;
            continue;
        }
        prev_apostrophe = false;
    }
    count
}

/// Collapses runs of whitespace to one space and trims.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Sizes of a piece of text as scoring sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct TextSize {
    /// Characters with whitespace runs counted once.
    pub chars: u32,
    /// CJK characters among them.
    pub cjk: u32,
    /// Commas, including the full-width and ideographic ones.
    pub commas: u32,
}

impl TextSize {
    pub(crate) fn of(s: &str) -> TextSize {
        let mut size = TextSize::default();
        let mut in_space = true; // leading whitespace does not count
        for c in s.chars() {
            if c.is_whitespace() {
                if !in_space {
                    size.chars += 1;
                }
                in_space = true;
                continue;
            }
            in_space = false;
            size.chars += 1;
            if is_cjk(c) {
                size.cjk += 1;
            } else if matches!(c, ',' | '，' | '、' | '،' | '﹐' | '︐') {
                size.commas += 1;
            }
        }
        size
    }

    pub(crate) fn add(&mut self, other: TextSize) {
        self.chars = self.chars.saturating_add(other.chars);
        self.cjk = self.cjk.saturating_add(other.cjk);
        self.commas = self.commas.saturating_add(other.commas);
    }

    pub(crate) fn sub(&mut self, other: TextSize) {
        self.chars = self.chars.saturating_sub(other.chars);
        self.cjk = self.cjk.saturating_sub(other.cjk);
        self.commas = self.commas.saturating_sub(other.commas);
    }

    /// Length weighted so a CJK character counts like a few Latin letters: a
    /// 100-character Chinese paragraph says as much as a 350-letter English one
    /// (knob `cjk_weight`, 2.5 extra per character: 1.5 before, measured across
    /// folds in `docs/extraction.md`).
    pub(crate) fn weighted(&self) -> f32 {
        self.chars as f32 + super::tuning::get(super::tuning::K::CjkWeight) * self.cjk as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_are_counted_by_runs_of_letters() {
        assert_eq!(word_count("The quick brown fox, don't jump 42 times."), 8);
    }

    #[test]
    fn each_han_character_counts_one() {
        assert_eq!(word_count("拜登与习近平会晤。"), 8);
    }

    #[test]
    fn mixed_script_counts_both_ways() {
        assert_eq!(word_count("美国APEC峰会 in San Francisco"), 4 + 1 + 3);
    }

    #[test]
    fn kana_and_hangul_count_per_character() {
        assert_eq!(word_count("ひらがなカタカナ한국어"), 11);
    }

    #[test]
    fn a_cjk_character_weighs_three_and_a_half_letters() {
        assert_eq!(TextSize::of("中文ab").weighted(), 4.0 + 2.5 * 2.0);
    }

    #[test]
    fn collapse_whitespace_trims_and_joins() {
        assert_eq!(collapse_whitespace("  a \n\t b  "), "a b");
    }

    #[test]
    fn text_size_counts_whitespace_runs_once() {
        let s = TextSize::of("  ab  c，中 ");
        assert_eq!((s.chars, s.cjk, s.commas), (7, 1, 1));
    }
}
