//! Corpus benchmark of the cleaned-article extractor.
//!
//!     cargo run --release --example extract_bench -- [--corpus DIR] [--worst N]
//!         [--page ID [--repeat N]] aeb|zh|readability|all
//!
//! `--worst N` lists each corpus' N lowest-scoring pages; `--page ID` runs one page
//! and prints what was extracted next to the ground truth (`--repeat` runs it N more
//! times, for a profiler).
//!
//! K-fold (generalisation):
//!
//!     cargo run --release --example extract_bench -- --folds 5 [--vary KNOB=A,B,...]
//!         [--set KNOB=V]... [--knobs] aeb|zh|readability|all
//!
//! `--folds K` (or `--kfold`, K = 5) deals each corpus' sites (not pages: see
//! `extract_bench/folds.rs`) to K folds and prints every fold's score, then the
//! mean and spread over folds. `--set` changes one of the extractor's knobs
//! (`newsmirror::extract::tuning`; `--knobs` lists them) for the whole run.
//! `--vary KNOB=A,B` runs the corpus once per value, A being the baseline, and
//! prints per fold each value's score and its delta to A; then, per fold, the
//! value that scores best on the *other* K-1 folds (ties to A) and its score on
//! the held-out fold, so that a change only counts where it was not chosen: a
//! rule that only helps its own fold is not chosen when that fold is held out.
//!
//! The corpus directory defaults to `$NEWSMIRROR_CORPORA`, else `../shared/corpora`
//! beside the repository. Metrics are those of `shared/corpora/README.md`; times are
//! measured around `extract()` only (decoding and decompression excluded).

#[path = "extract_bench/corpus.rs"]
mod corpus;
#[path = "extract_bench/folds.rs"]
mod folds;
#[path = "extract_bench/metrics.rs"]
mod metrics;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use corpus::{Case, Truth};
use newsmirror::extract::{Input, Limits, extract, tuning};

/// Pages slower than this are listed.
const SLOW: Duration = Duration::from_millis(10);

struct Options {
    dir: PathBuf,
    which: String,
    worst: usize,
    page: Option<String>,
    repeat: usize,
    /// Folds for the k-fold report (0: none).
    folds: usize,
    /// A knob and the values to compare across folds (the first is the baseline).
    vary: Option<(String, Vec<f32>)>,
}

fn knob_value(arg: Option<String>, flag: &str) -> Result<(String, Vec<f32>), String> {
    let arg = arg.ok_or(format!("{flag} needs KNOB=VALUE"))?;
    let (name, values) = arg
        .split_once('=')
        .ok_or(format!("{flag} needs KNOB=VALUE"))?;
    let values = values
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f32>()
                .map_err(|e| format!("{flag} {v:?}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Check the name now, not after a corpus run.
    tuning::set(name, f32::NAN)?;
    Ok((name.to_string(), values))
}

fn options() -> Result<Options, String> {
    let mut dir = std::env::var_os("NEWSMIRROR_CORPORA").map(PathBuf::from);
    let mut which = "all".to_string();
    let mut worst = 0;
    let mut page = None;
    let mut repeat = 0;
    let mut folds = 0;
    let mut vary = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--corpus" => dir = Some(args.next().ok_or("--corpus needs a directory")?.into()),
            "--worst" => {
                worst = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--worst needs a number")?
            }
            "--page" => page = Some(args.next().ok_or("--page needs an id")?),
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--repeat needs a number")?
            }
            "--folds" => {
                folds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n >= 2)
                    .ok_or("--folds needs a number >= 2")?
            }
            "--kfold" => folds = 5,
            "--vary" => {
                let (name, values) = knob_value(args.next(), "--vary")?;
                if values.len() < 2 {
                    return Err("--vary needs two values or more".to_string());
                }
                vary = Some((name, values));
            }
            "--set" => {
                let (name, values) = knob_value(args.next(), "--set")?;
                tuning::set(&name, values.first().copied().unwrap_or(f32::NAN))?;
            }
            "--knobs" => {
                for k in tuning::knobs() {
                    println!("{:<22} {:>7}  {}", k.name, k.default, k.about);
                }
                std::process::exit(0);
            }
            "aeb" | "zh" | "readability" | "all" => which = arg,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let dir =
        dir.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    Ok(Options {
        dir,
        which,
        worst,
        page,
        repeat,
        folds: if vary.is_some() && folds == 0 {
            5
        } else {
            folds
        },
        vary,
    })
}

/// What one page produced.
struct Outcome {
    id: String,
    millis: f64,
    error: Option<String>,
    /// The page's score on its corpus' metric (F1, or 1/0 for a title).
    score: f64,
    shingles: metrics::Shingles,
    /// Page precision and recall (body corpora only).
    precision: f64,
    recall: f64,
    /// Whether `published` names the known publication day (pages with one).
    day: Option<Day>,
}

/// `published` against the publication day a page is known to have.
#[derive(Clone, Copy, PartialEq)]
enum Day {
    Right,
    /// A date, but another day.
    Wrong,
    /// No date at all.
    Missing,
}

/// Whether `published` falls on `day` (`YYYY-MM-DD`): a date must be that
/// day; an instant with a zone (`2019-11-19T04:58:46Z`) must be that day in
/// some zone from UTC-12 to UTC+14, since a URL's or a label's day is the
/// newsroom's local one.
fn on_day(published: &str, day: &str) -> bool {
    if published.starts_with(day) {
        return true;
    }
    let (Some(p), Some(d)) = (civil_day(published), civil_day(day)) else {
        return false;
    };
    let Some(time) = published.get(11..19) else {
        return false;
    };
    let mut hms = time.split(':').filter_map(|n| n.parse::<i64>().ok());
    let (Some(h), Some(m)) = (hms.next(), hms.next()) else {
        return false;
    };
    let zone = published.get(19..).unwrap_or("Z");
    let offset = if zone == "Z" {
        0
    } else {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let mut hm = zone
            .trim_start_matches(['+', '-'])
            .split(':')
            .filter_map(|n| n.parse::<i64>().ok());
        sign * (hm.next().unwrap_or(0) * 60 + hm.next().unwrap_or(0))
    };
    let utc_minutes = p * 1440 + h * 60 + m - offset;
    let day_start = d * 1440;
    // Local time = UTC + z for z in [-12 h, +14 h].
    (day_start - 14 * 60..day_start + 1440 + 12 * 60).contains(&utc_minutes)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` prefix (Howard Hinnant's
/// `days_from_civil`).
fn civil_day(s: &str) -> Option<i64> {
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: i64 = s.get(5..7)?.parse().ok()?;
    let d: i64 = s.get(8..10)?.parse().ok()?;
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Where a corpus' publication days come from.
fn day_source(corpus: &str) -> &'static str {
    match corpus {
        "zh" => "from the corpus' date/<id>.txt",
        _ => "from the date in the page's URL",
    }
}

/// A list for a report line: "none", or the items joined.
fn listed<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_case(case: &Case) -> (Outcome, Option<newsmirror::extract::Article>) {
    let start = Instant::now();
    let result = extract(Input {
        html: &case.html,
        page_url: &case.url,
        selectors: None,
        limits: Limits::default(),
    });
    let millis = start.elapsed().as_secs_f64() * 1000.0;
    let (text, title, error) = match &result {
        Ok(a) => (a.text.as_str(), a.title.as_str(), None),
        Err(e) => ("", "", Some(e.to_string())),
    };
    let mut shingles = metrics::Shingles::default();
    let mut precision_recall = (0.0, 0.0);
    let score = match &case.truth {
        Truth::Body(truth) => {
            shingles = metrics::shingle_match(truth, text);
            precision_recall = (shingles.precision(), shingles.recall());
            shingles.precision().min(shingles.recall())
        }
        Truth::ChineseBody(truth) => {
            let (p, r, f1) = metrics::char_prf(truth, text);
            precision_recall = (p, r);
            f1
        }
        Truth::Title(expected) => f64::from(u8::from(
            error.is_none() && metrics::same_title(expected, title),
        )),
    };
    let outcome = Outcome {
        id: case.id.clone(),
        millis,
        error,
        score,
        shingles,
        precision: precision_recall.0,
        recall: precision_recall.1,
        day: case.day.as_ref().map(|day| {
            match result.as_ref().ok().and_then(|a| a.published.as_deref()) {
                Some(p) if on_day(p, day) => Day::Right,
                Some(_) => Day::Wrong,
                None => Day::Missing,
            }
        }),
    };
    (outcome, result.ok())
}

struct Summary {
    name: &'static str,
    metric: String,
    value: f64,
    bar: f64,
    outcomes: Vec<Outcome>,
}

fn run_corpus(name: &'static str, cases: &[Case], opts: &Options) -> Summary {
    let mut outcomes = Vec::new();
    for case in cases {
        if opts.page.as_deref().is_some_and(|p| p != case.id) {
            continue;
        }
        let (outcome, article) = run_case(case);
        if opts.page.is_some() {
            // One page: run it again a few times so a profiler sees it, then show it.
            for _ in 0..opts.repeat {
                run_case(case);
            }
            dump(case, &outcome, article.as_ref());
        }
        outcomes.push(outcome);
    }
    let refs: Vec<&Outcome> = outcomes.iter().collect();
    let (metric, value, bar) = corpus_metric(name, &refs);
    Summary {
        name,
        metric,
        value,
        bar,
        outcomes,
    }
}

/// A corpus' metric over some of its pages: label, value, and the bar it should meet.
fn corpus_metric(name: &str, outcomes: &[&Outcome]) -> (String, f64, f64) {
    let n = outcomes.len().max(1) as f64;
    match name {
        "aeb" => {
            let pages: Vec<_> = outcomes.iter().map(|o| o.shingles).collect();
            let (p, r, f1) = metrics::aggregate(&pages);
            (format!("body F1 (P {p:.3} R {r:.3})"), f1, 0.96)
        }
        "zh" => (
            "char F1 (mean)".to_string(),
            outcomes.iter().map(|o| o.score).sum::<f64>() / n,
            0.94,
        ),
        _ => (
            "title exact".to_string(),
            outcomes.iter().map(|o| o.score).sum::<f64>() / n,
            0.95,
        ),
    }
}

/// The metric over the pages whose fold is (or, `inside` false, is not) `fold`.
fn fold_score(
    name: &str,
    outcomes: &[Outcome],
    fold_of: &[usize],
    fold: usize,
    inside: bool,
) -> f64 {
    let pages: Vec<&Outcome> = outcomes
        .iter()
        .zip(fold_of)
        .filter(|(_, f)| (**f == fold) == inside)
        .map(|(o, _)| o)
        .collect();
    corpus_metric(name, &pages).1
}

/// Mean, standard deviation (population), min and max.
fn spread(values: &[f64]) -> (f64, f64, f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, var.sqrt(), min, max)
}

fn format_spread(values: &[f64]) -> String {
    let (mean, std, min, max) = spread(values);
    format!("mean {mean:+.4} std {std:.4} min {min:+.4} max {max:+.4}")
}

/// The k-fold report of one corpus: per fold its held-out score under each value
/// of the varied knob, deltas to the baseline, and the value chosen on the other
/// folds.
fn kfold_report(name: &str, cases: &[Case], opts: &Options) {
    let k = opts.folds;
    let sites: Vec<String> = cases.iter().map(|c| c.site.clone()).collect();
    let fold_of = folds::assign(&sites, k);
    let (knob, values) = match &opts.vary {
        Some((knob, values)) => (Some(knob.as_str()), values.clone()),
        None => (None, vec![f32::NAN]),
    };
    let runs: Vec<Vec<Outcome>> = values
        .iter()
        .map(|v| {
            if let Some(knob) = knob {
                // Names were checked when the options were read.
                let _ = tuning::set(knob, *v);
            }
            cases.iter().map(|c| run_case(c).0).collect()
        })
        .collect();
    if let Some(knob) = knob {
        let _ = tuning::set(knob, f32::NAN);
    }
    let label = |v: f32| match knob {
        Some(knob) => format!("{knob}={v}"),
        None => "score".to_string(),
    };
    println!();
    println!(
        "k-fold {name}: {k} folds by site ({} sites, {} pages); score = {} of the fold's pages",
        {
            let mut s = sites.clone();
            s.sort();
            s.dedup();
            s.len()
        },
        cases.len(),
        match name {
            "aeb" => "body F1",
            "zh" => "mean char F1",
            _ => "title exact match",
        }
    );
    let mut header = format!("{:<6} {:>5} {:>5}", "fold", "pages", "sites");
    for v in &values {
        header.push_str(&format!(" {:>16}", label(*v)));
    }
    for v in values.iter().skip(1) {
        header.push_str(&format!(" {:>10}", format!("Δ {v}")));
    }
    if knob.is_some() {
        header.push_str(&format!(" {:>9} {:>10}", "chosen", "Δ chosen"));
    }
    println!("{header}");
    let mut per_value: Vec<Vec<f64>> = vec![Vec::new(); values.len()];
    let mut chosen_delta = Vec::new();
    for fold in 0..k {
        let pages = fold_of.iter().filter(|f| **f == fold).count();
        let mut fold_sites: Vec<&str> = sites
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| **f == fold)
            .map(|(s, _)| s.as_str())
            .collect();
        fold_sites.sort_unstable();
        fold_sites.dedup();
        let held: Vec<f64> = runs
            .iter()
            .map(|r| fold_score(name, r, &fold_of, fold, true))
            .collect();
        let mut line = format!("{:<6} {pages:>5} {:>5}", fold + 1, fold_sites.len());
        for h in &held {
            line.push_str(&format!(" {h:>16.4}"));
        }
        let base = held.first().copied().unwrap_or(0.0);
        for h in held.iter().skip(1) {
            line.push_str(&format!(" {:>+10.4}", h - base));
        }
        if knob.is_some() {
            // Chosen on the other folds only; ties keep the baseline.
            let mut best = 0;
            let mut best_train = f64::NEG_INFINITY;
            for (i, r) in runs.iter().enumerate() {
                let train = fold_score(name, r, &fold_of, fold, false);
                if train > best_train + 1e-9 {
                    best = i;
                    best_train = train;
                }
            }
            let delta = held.get(best).copied().unwrap_or(base) - base;
            chosen_delta.push(delta);
            line.push_str(&format!(
                " {:>9} {delta:>+10.4}",
                values.get(best).copied().unwrap_or(f32::NAN)
            ));
        }
        println!("{line}");
        for (i, h) in held.iter().enumerate() {
            if let Some(col) = per_value.get_mut(i) {
                col.push(*h);
            }
        }
    }
    for (i, v) in values.iter().enumerate() {
        let col = per_value.get(i).cloned().unwrap_or_default();
        let (mean, std, min, max) = spread(&col);
        let all: Vec<&Outcome> = runs.get(i).map(|r| r.iter().collect()).unwrap_or_default();
        println!(
            "{name} {:<22} held-out mean {mean:.4} std {std:.4} min {min:.4} max {max:.4}; all pages {:.4}",
            label(*v),
            corpus_metric(name, &all).1
        );
        if i > 0 {
            let base = per_value.first().cloned().unwrap_or_default();
            let deltas: Vec<f64> = col.iter().zip(&base).map(|(a, b)| a - b).collect();
            let improved = deltas.iter().filter(|d| **d > 1e-9).count();
            let hurt = deltas.iter().filter(|d| **d < -1e-9).count();
            println!(
                "{name} {:<22} Δ per fold {}; better in {improved}, worse in {hurt} of {k}",
                label(*v),
                format_spread(&deltas)
            );
        }
    }
    if knob.is_some() {
        println!(
            "{name} chosen on other folds   Δ held-out {}",
            format_spread(&chosen_delta)
        );
    }
}

fn dump(case: &Case, outcome: &Outcome, article: Option<&newsmirror::extract::Article>) {
    println!(
        "=== {} ({}) score {:.3} in {:.2} ms",
        case.id, case.url, outcome.score, outcome.millis
    );
    match article {
        Some(a) => {
            println!(
                "title: {}\nbyline: {:?}\npublished: {:?}\nlang: {:?}",
                a.title, a.byline, a.published, a.lang
            );
            println!("--- text ---\n{}\n--- end ---", a.text);
        }
        None => println!("error: {:?}", outcome.error),
    }
    let (Truth::Body(t) | Truth::ChineseBody(t) | Truth::Title(t)) = &case.truth;
    println!("--- truth ---\n{t}\n--- end ---");
}

fn times(outcomes: &[&Outcome]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = outcomes.iter().map(|o| o.millis).collect();
    ms.sort_by(f64::total_cmp);
    (
        metrics::percentile(&ms, 50.0),
        metrics::percentile(&ms, 95.0),
        ms.last().copied().unwrap_or(0.0),
    )
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn print_report(summaries: &[Summary], opts: &Options) {
    println!(
        "extract_bench on {} ({} build)",
        machine(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!();
    println!(
        "{:<12} {:>5} {:>6}  {:<28} {:>7} {:>7}  met",
        "corpus", "pages", "errors", "metric", "value", "bar"
    );
    for s in summaries {
        let errors = s.outcomes.iter().filter(|o| o.error.is_some()).count();
        let met = if s.value >= s.bar { "yes" } else { "NO" };
        println!(
            "{:<12} {:>5} {:>6}  {:<28} {:>7.4} {:>7}  {}",
            s.name,
            s.outcomes.len(),
            errors,
            s.metric,
            s.value,
            format!(">={:.2}", s.bar),
            met
        );
    }
    println!();
    println!(
        "{:<12} {:>9} {:>9} {:>9}   (ms per page, extract() only; bar p95 <= 10)",
        "time", "p50", "p95", "max"
    );
    let mut all = Vec::new();
    for s in summaries {
        let refs: Vec<&Outcome> = s.outcomes.iter().collect();
        let (p50, p95, max) = times(&refs);
        println!("{:<12} {p50:>9.2} {p95:>9.2} {max:>9.2}", s.name);
        all.extend(refs);
    }
    let (p50, p95, max) = times(&all);
    let met = if p95 <= 10.0 { "met" } else { "NOT met" };
    println!(
        "{:<12} {p50:>9.2} {p95:>9.2} {max:>9.2}   p95 bar {met}",
        "all"
    );
    println!();
    for s in summaries {
        let failed: Vec<String> = s
            .outcomes
            .iter()
            .filter_map(|o| o.error.as_ref().map(|e| format!("{} ({e})", o.id)))
            .collect();
        let slow: Vec<String> = s
            .outcomes
            .iter()
            .filter(|o| o.millis > SLOW.as_secs_f64() * 1000.0)
            .map(|o| format!("{} {:.1}ms", short(&o.id), o.millis))
            .collect();
        println!("{} failed: {}", s.name, listed(&failed));
        println!("{} over 10 ms: {}", s.name, listed(&slow));
        let days: Vec<(&str, Day)> = s
            .outcomes
            .iter()
            .filter_map(|o| o.day.map(|d| (short(&o.id), d)))
            .collect();
        if !days.is_empty() {
            let with = |want: Day| -> Vec<&str> {
                days.iter().filter(|d| d.1 == want).map(|d| d.0).collect()
            };
            println!(
                "{} published day: {} of {} pages with a known day ({}); wrong: {}; none: {}",
                s.name,
                with(Day::Right).len(),
                days.len(),
                day_source(s.name),
                listed(&with(Day::Wrong)),
                listed(&with(Day::Missing)),
            );
        }
        if opts.worst > 0 {
            let mut sorted: Vec<&Outcome> = s.outcomes.iter().collect();
            sorted.sort_by(|a, b| a.score.total_cmp(&b.score));
            let worst: Vec<String> = sorted
                .iter()
                .take(opts.worst)
                .map(|o| {
                    format!(
                        "{} {:.3} (P {:.2} R {:.2})",
                        short(&o.id),
                        o.score,
                        o.precision,
                        o.recall
                    )
                })
                .collect();
            println!("{} worst: {}", s.name, worst.join(", "));
        }
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Reads one corpus directory into cases.
type Loader = fn(&std::path::Path) -> Result<Vec<Case>, String>;

fn main() -> ExitCode {
    let opts = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("extract_bench: {e}");
            return ExitCode::from(2);
        }
    };
    let corpora: &[(&'static str, Loader)] = &[
        ("aeb", corpus::aeb),
        ("zh", corpus::zh),
        ("readability", corpus::readability),
    ];
    let mut summaries = Vec::new();
    for (name, load) in corpora {
        if opts.which != "all" && opts.which != *name {
            continue;
        }
        let cases = match load(&opts.dir.join(name)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!(
                    "extract_bench: cannot load {name} from {}: {e}",
                    opts.dir.display()
                );
                return ExitCode::from(2);
            }
        };
        if opts.folds > 0 {
            kfold_report(name, &cases, &opts);
        } else {
            summaries.push(run_corpus(name, &cases, &opts));
        }
    }
    if opts.folds == 0 {
        print_report(&summaries, &opts);
    }
    ExitCode::SUCCESS
}
