//! `cargo run -p cas --example assess_demo -- '2x+3=11' 'x=7' '2x = 14' 'x = 7'`: one
//! assessment as JSON.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let problem = args.first().map(String::as_str).unwrap_or("2x + 3 = 11");
    let answer = args.get(1).map(String::as_str);
    let steps: Vec<&str> = args.iter().skip(2).map(String::as_str).collect();
    match cas::assess(problem, answer, &steps) {
        Ok(a) => println!("{}", serde_json::to_string_pretty(&a).unwrap_or_default()),
        Err(e) => println!("error: {e}"),
    }
}
