//! Runs the peer suite in a loop: a fixed workload for instruction counts
//! (`valgrind --tool=callgrind target/release/examples/suite_loop 200`), which unlike wall time
//! does not move with the load of a shared machine. `NO_COMPOSITIONS=1` turns the composition
//! search off, to count what it costs.

use diagnosis::Options;

#[path = "../benches/support/suite.rs"]
mod suite;

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let options = Options {
        compositions: std::env::var_os("NO_COMPOSITIONS").is_none(),
        ..Options::default()
    };
    let cases = suite::peer_suite();
    let mut tagged = 0usize;
    for _ in 0..rounds {
        for (body, family) in &cases {
            tagged += usize::from(body.diagnose_as(*family, &options).unwrap().confidence > 0.0);
        }
    }
    println!("{} diagnoses, {tagged} with a tag", rounds * cases.len());
}
