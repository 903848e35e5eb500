//! `check` of the four shipped routines, warm: the whole pipeline in-process (load the templates,
//! read, parse, analyse and template-check every routine), repeated. Prints figures; asserts
//! nothing about time. Target: under 10 ms for all four.

use loggkoll::routine::{Context, loader};
use loggkoll::templates::Library;
use std::path::Path;
use std::time::Instant;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let routines = root.join("routines");
    let templates = root.join("templates");
    let run = || {
        let library = Library::load(&templates).expect("templates load");
        let ctx = Context {
            templates: Some(&library),
        };
        let set =
            loader::compile_all(std::slice::from_ref(&routines), &ctx).expect("routines load");
        assert!(!set.has_errors());
        set.routines.len()
    };
    for _ in 0..20 {
        run();
    }
    let mut times: Vec<f64> = (0..200)
        .map(|_| {
            let start = Instant::now();
            let n = run();
            assert_eq!(n, 4);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "check, 4 shipped routines, warm: mean {mean:.2} ms, median {:.2} ms, p99 {:.2} ms, max {:.2} ms (target < 10 ms)",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
}
