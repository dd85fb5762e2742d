//! Worst cases for `cas::assess` time: long problems near the parser's limits.
//! `cargo run --release -p cas --example assess_worst`
use std::time::Instant;

fn main() {
    let long_sum: String = (1..80).map(|i| format!("{i}(x+{i}) - ")).collect::<String>() + "x = 5";
    // Just under the procedures' size limit (cas::misconceptions::MAX_NODES).
    let at_limit: String = (1..17).map(|i| format!("{i}(x+{i}) - ")).collect::<String>() + "x = 5";
    let nested = "(".repeat(30) + "x+1)^2" + &")".repeat(29) + " = 4";
    let numeric: String = (1..70).map(|i| format!("{i} \\cdot 2 + ")).collect::<String>() + "1";
    for (name, p, steps) in [
        ("long linear", long_sum.as_str(), vec![long_sum.as_str(), "x = 1"]),
        (
            "long linear at the size limit",
            at_limit.as_str(),
            vec![at_limit.as_str(), "x = 1"],
        ),
        ("nested", nested.as_str(), vec!["x = 1"]),
        ("100 wrong steps", "2x + 3 = 11", vec!["2x = 14"; 100]),
        ("long numeric", numeric.as_str(), vec![numeric.as_str(), "5"]),
    ] {
        let t = Instant::now();
        let _ = cas::solve(p);
        let solve_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let _ = cas::assess(p, Some("x = 1"), &[]);
        let answer_ms = t.elapsed().as_secs_f64() * 1e3;
        println!("  solve {solve_ms:.2} ms, assess without steps {answer_ms:.2} ms");
        let t = Instant::now();
        let r = cas::assess(p, Some("x = 1"), &steps);
        let nodes = cas::parse(p).map(|s| cas::misconceptions::size(&s)).unwrap_or(0);
        println!(
            "{name} ({} bytes, {nodes} nodes): {:?} in {:.2} ms",
            p.len(),
            r.map(|a| a.error_tag_code),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
