//! docs/operations.md's configuration table stays true to `Config`: one row per option, in
//! the order of the struct's fields, each with its `PRACTICA_*` variable and its default. The
//! deployment files and the doc name only `PRACTICA_*` variables that exist, and the doc's
//! example practica.toml loads.

use std::collections::BTreeSet;

use practica::config::Config;
use serde_json::Value;

const DOC: &str = include_str!("../../../docs/operations.md");
const COMPOSE: &str = include_str!("../../../compose.yaml");
const DOCKERFILE: &str = include_str!("../../../Dockerfile");
const CONFIG_RS: &str = include_str!("../src/config.rs");

struct Row {
    option: String,
    env: String,
    default: String,
}

/// The rows between the table's markers.
fn table() -> Vec<Row> {
    let start = DOC.find("<!-- config-table:start -->").expect("start marker");
    let end = DOC.find("<!-- config-table:end -->").expect("end marker");
    DOC[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 5, "five cells: {line}");
            Row {
                option: cells[0].trim_matches('`').to_string(),
                env: cells[1].trim_matches('`').to_string(),
                default: cells[3].to_string(),
            }
        })
        .collect()
}

/// The options in declaration order (serde serializes a struct's fields in that order) with
/// their defaults.
fn options() -> Vec<(String, Value)> {
    match serde_json::to_value(Config::default()).expect("config serializes") {
        Value::Object(map) => map.into_iter().collect(),
        other => panic!("config is not an object: {other}"),
    }
}

/// How the table writes a default: `none` for an unset option, else the first code span.
fn written(default: &Value) -> String {
    match default {
        Value::Null => "none".to_string(),
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

#[test]
fn every_option_has_one_row_in_order() {
    let documented: Vec<String> = table().into_iter().map(|r| r.option).collect();
    let actual: BTreeSet<String> = options().into_iter().map(|(k, _)| k).collect();
    let doc_set: BTreeSet<String> = documented.iter().cloned().collect();
    assert_eq!(doc_set.len(), documented.len(), "an option has two rows");
    let missing: Vec<_> = actual.difference(&doc_set).collect();
    let unknown: Vec<_> = doc_set.difference(&actual).collect();
    assert!(
        missing.is_empty(),
        "options missing from docs/operations.md: {missing:?}"
    );
    assert!(unknown.is_empty(), "rows for options Config does not have: {unknown:?}");
    // The order of the fields in the source (serde_json's map here is sorted).
    let body = CONFIG_RS
        .split("pub struct Config {")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .expect("the Config struct");
    let declared: Vec<String> = body
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub "))
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.to_string()))
        .collect();
    assert_eq!(documented, declared, "the table follows the order of Config's fields");
}

#[test]
fn every_row_names_its_variable_and_its_default() {
    let defaults: std::collections::HashMap<String, Value> = options().into_iter().collect();
    for row in table() {
        assert_eq!(
            row.env,
            format!("PRACTICA_{}", row.option.to_uppercase()),
            "{}",
            row.option
        );
        let default = &defaults[&row.option];
        let want = written(default);
        assert!(
            row.default.starts_with(&want),
            "{}: the table says {:?}, the default is {want}",
            row.option,
            row.default
        );
    }
}

/// `PRACTICA_*` names in the deployment files are options (or the data dir the image sets).
#[test]
fn deployment_files_name_real_variables() {
    let mut known: BTreeSet<String> = options()
        .into_iter()
        .map(|(k, _)| format!("PRACTICA_{}", k.to_uppercase()))
        .collect();
    // Variables the command line reads for a flag of its own (clap's `env = "…"` in main.rs).
    let main = include_str!("../src/main.rs");
    known.extend(
        main.split("env = \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_owned),
    );
    // Compose's own variables (build args), not the service's.
    let compose_only = ["PRACTICA_FEATURES"];
    for (file, text) in [
        ("compose.yaml", COMPOSE),
        ("Dockerfile", DOCKERFILE),
        ("docs/operations.md", DOC),
    ] {
        let mut rest = text;
        while let Some(at) = rest.find("PRACTICA_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            rest = &rest[at + name.len()..];
            let name = name.trim_end_matches('_');
            // `PRACTICA_EVENTS` is the default stream's name, `PRACTICA_TEST_*` the test suites'
            // variables, `PRACTICA_<NAME>` the pattern.
            if name == "PRACTICA_EVENTS"
                || name.starts_with("PRACTICA_TEST")
                || name == "PRACTICA"
                || compose_only.contains(&name)
            {
                continue;
            }
            assert!(known.contains(name), "{file} names {name}, which is no option");
        }
    }
}

/// The example practica.toml in the doc loads, and says what it seems to say.
#[test]
fn the_example_toml_loads() {
    let start = DOC.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let end = start + DOC[start..].find("```").expect("its end");
    let dir = std::env::temp_dir().join(format!("practica-ops-doc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("practica.toml");
    std::fs::write(&file, &DOC[start..end]).unwrap();
    let config = Config::load(Some(&file), &serde_json::json!({})).expect("the example loads");
    assert_eq!(config.addr.to_string(), "0.0.0.0:8080");
    assert_eq!(config.rate_limit_per_ip_per_sec, 50);
    assert!(config.trust_forwarded_for);
    let _ = std::fs::remove_dir_all(&dir);
}
