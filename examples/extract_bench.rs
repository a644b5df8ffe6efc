//! Corpus benchmark of the cleaned-article extractor.
//!
//!     cargo run --release --example extract_bench -- [--corpus DIR] [--worst N]
//!         [--page ID [--repeat N]] aeb|zh|readability|all
//!
//! `--worst N` lists each corpus' N lowest-scoring pages; `--page ID` runs one page
//! and prints what was extracted next to the ground truth (`--repeat` runs it N more
//! times, for a profiler).
//!
//! The corpus directory defaults to `$NEWSMIRROR_CORPORA`, else `../shared/corpora`
//! beside the repository. Metrics are those of `shared/corpora/README.md`; times are
//! measured around `extract()` only (decoding and decompression excluded).

#[path = "extract_bench/corpus.rs"]
mod corpus;
#[path = "extract_bench/metrics.rs"]
mod metrics;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use corpus::{Case, Truth};
use newsmirror::extract::{Input, Limits, extract};

/// Pages slower than this are listed.
const SLOW: Duration = Duration::from_millis(10);

struct Options {
    dir: PathBuf,
    which: String,
    worst: usize,
    page: Option<String>,
    repeat: usize,
}

fn options() -> Result<Options, String> {
    let mut dir = std::env::var_os("NEWSMIRROR_CORPORA").map(PathBuf::from);
    let mut which = "all".to_string();
    let mut worst = 0;
    let mut page = None;
    let mut repeat = 0;
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
    let n = outcomes.len().max(1) as f64;
    let (metric, value, bar) = match name {
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
    };
    Summary {
        name,
        metric,
        value,
        bar,
        outcomes,
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
        println!(
            "{} failed: {}",
            s.name,
            if failed.is_empty() {
                "none".to_string()
            } else {
                failed.join(", ")
            }
        );
        println!(
            "{} over 10 ms: {}",
            s.name,
            if slow.is_empty() {
                "none".to_string()
            } else {
                slow.join(", ")
            }
        );
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
        summaries.push(run_corpus(name, &cases, &opts));
    }
    print_report(&summaries, &opts);
    ExitCode::SUCCESS
}
