//! Named switches and thresholds of the extractor, for measuring a rule change
//! across corpus folds (`examples/extract_bench.rs --vary NAME=a,b`).
//!
//! Every knob has the value the extractor ships with; nothing in the server sets
//! one. The values live in a thread-local table, so a benchmark setting one on its
//! thread changes nothing for other threads (the server's extraction pool, parallel
//! tests). A knob whose rule has been settled may still stay here: it documents
//! the alternative that was measured and lets the measurement be repeated.

use std::cell::Cell;

/// One knob: its name, the shipped value, and what it switches.
#[derive(Debug, Clone, Copy)]
pub struct Knob {
    pub name: &'static str,
    pub default: f32,
    pub about: &'static str,
}

#[derive(Debug, Clone, Copy)]
#[repr(usize)]
pub(crate) enum K {
    /// Weighted characters below which a result is retried with looser heuristics.
    EnoughText,
    /// Link density above which a sibling of the top node is not prose.
    SiblingLinkDensity,
    /// Weight of a CJK character against a Latin letter in text lengths (+1).
    CjkWeight,
    /// Credit, date and notice lines are trimmed at the body's edges: 1 on, 0 off.
    EdgeLines,
    /// A trailing list of headline links (and its lead-in line) is dropped: 1 on, 0 off
    /// (off: measured, not kept).
    TailLinks,
    /// A `<div>` without block children is a paragraph, not cleaned by its
    /// make-up: 1 on, 0 off.
    LeafDivParagraphs,
}

const KNOBS: [Knob; 6] = [
    Knob {
        name: "enough_text",
        default: 500.0,
        about: "weighted chars below which a looser pass is tried",
    },
    Knob {
        name: "sibling_link_density",
        default: 0.25,
        about: "link density above which a long sibling is not prose",
    },
    Knob {
        name: "cjk_weight",
        default: 2.5,
        about: "extra weight of a CJK character in text lengths",
    },
    Knob {
        name: "edge_lines",
        default: 1.0,
        about: "credit/date/notice lines trimmed at the body's edges (1 on, 0 off)",
    },
    Knob {
        name: "tail_links",
        // Measured and off: it helped one page of one fold (docs/extraction.md).
        default: 0.0,
        about: "a trailing list of headline links and its lead-in dropped (1 on, 0 off)",
    },
    Knob {
        name: "leaf_div_paragraphs",
        // On: held out, chosen in every fold where it changed a page (zh
        // +0.0003 mean; docs/extraction.md).
        default: 1.0,
        about: "a <div> without block children is a paragraph, not cleaned by its make-up (1 on, 0 off)",
    },
];

thread_local! {
    static VALUES: [Cell<f32>; KNOBS.len()] =
        const { [const { Cell::new(f32::NAN) }; KNOBS.len()] };
}

/// Every knob with its shipped value.
pub fn knobs() -> &'static [Knob] {
    &KNOBS
}

/// Sets a knob on this thread (`NAN` restores the shipped value).
pub fn set(name: &str, value: f32) -> Result<(), String> {
    let index = KNOBS
        .iter()
        .position(|k| k.name == name)
        .ok_or_else(|| format!("no knob named {name:?}"))?;
    VALUES.with(|v| {
        if let Some(cell) = v.get(index) {
            cell.set(value);
        }
    });
    Ok(())
}

/// Restores every knob on this thread to its shipped value.
pub fn reset() {
    VALUES.with(|v| v.iter().for_each(|c| c.set(f32::NAN)));
}

pub(crate) fn get(knob: K) -> f32 {
    let index = knob as usize;
    let set = VALUES.with(|v| v.get(index).map_or(f32::NAN, Cell::get));
    if set.is_nan() {
        KNOBS.get(index).map_or(0.0, |k| k.default)
    } else {
        set
    }
}

pub(crate) fn on(knob: K) -> bool {
    get(knob) >= 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_start_at_their_shipped_values_and_reset() {
        // Thread-local: this test's settings are invisible to the others.
        assert_eq!(get(K::EnoughText), 500.0);
        assert!(set("enough_text", 300.0).is_ok());
        assert_eq!(get(K::EnoughText), 300.0);
        reset();
        assert_eq!(get(K::EnoughText), 500.0);
    }

    #[test]
    fn unknown_knobs_are_refused() {
        assert!(set("no_such_knob", 1.0).is_err());
    }

    #[test]
    fn the_table_and_the_enum_agree() {
        assert_eq!(
            KNOBS.get(K::SiblingLinkDensity as usize).map(|k| k.name),
            Some("sibling_link_density")
        );
    }
}
