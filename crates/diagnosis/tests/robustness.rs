//! No input makes the engine panic, and every result it gives is well-formed: random bodies,
//! random step expressions, numbers at and past every limit.

use diagnosis::expr::Statement;
use diagnosis::{AttemptBody, DeepDiagnosis, Diagnosis, Family, Number, Options, UNCLASSIFIED};
use proptest::prelude::*;
use serde_json::{Value, json};

fn assert_well_formed(d: &Diagnosis) {
    assert!((0.0..=1.0).contains(&d.confidence), "confidence {}", d.confidence);
    assert_eq!(d.is_correct, d.error_tag_code == "CORRECT");
    if d.is_correct {
        assert_eq!(d.confidence, 1.0);
    }
    if d.error_tag_code == UNCLASSIFIED {
        assert_eq!(d.confidence, 0.0);
        assert!(d.error_subtag.is_none());
    } else if !d.is_correct {
        assert!(d.confidence >= 0.5);
        assert!(
            diagnosis::catalog::error_tag(d.error_tag_code).is_some(),
            "{} not in the catalog",
            d.error_tag_code
        );
        assert!(d.error_subtag.is_some());
    }
    for w in d.candidates.windows(2) {
        assert!(w[0].confidence >= w[1].confidence);
    }
    for c in &d.candidates {
        assert!((0.0..=1.0).contains(&c.confidence));
        assert!(
            diagnosis::catalog::error_tag(c.tag).is_some(),
            "{} not in the catalog",
            c.tag
        );
    }
    serde_json::to_string(d).expect("serializable");
}

/// Text that looks like school arithmetic often enough to reach the procedures.
fn mathy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[0-9]{1,4}",
            "[0-9]{1,3}[,.][0-9]{1,3}",
            "[0-9]{1,2}/[0-9]{1,2}",
            Just(" + ".to_string()),
            Just(" - ".to_string()),
            Just(" × ".to_string()),
            Just(" • ".to_string()),
            Just(" : ".to_string()),
            Just("^".to_string()),
            Just("√".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just(" = ".to_string()),
            Just("x".to_string()),
            Just("% de ".to_string()),
            Just("\\frac{".to_string()),
            Just("}".to_string()),
            "[ -~]{0,3}",
            "\\PC{0,2}",
        ],
        0..14,
    )
    .prop_map(|parts| parts.concat())
}

fn number_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        (-1000i64..1000).prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        (-100.0f64..100.0).prop_map(|f| json!(f)),
        "[0-9]{1,45}".prop_map(Value::String),
        "-?[0-9]{1,3}[,.][0-9]{1,20}".prop_map(Value::String),
        "[0-9]{1,3} ?/ ?[0-9]{1,3}".prop_map(Value::String),
        "\\PC{0,12}".prop_map(Value::String),
        Just(Value::Null),
        Just(json!([1, 2])),
        Just(json!({"a": 1})),
        Just(json!(true)),
    ]
}

fn family() -> impl Strategy<Value = Option<Family>> {
    prop_oneof![
        Just(None),
        prop::sample::select(
            [
                "ARITH_ADD",
                "ARITH_SUB",
                "ARITH_MUL",
                "ARITH_DIV",
                "FRACT_ADDSUB",
                "FRACT_MUL",
                "FRACT_DIV",
                "INT_ADD",
                "INT_SUB",
                "INT_MUL",
                "DEC_ADD",
                "DEC_SUB",
                "DEC_MUL",
                "DEC_DIV",
                "RATIO_PERCENT",
                "RATIO_PROPORTION",
                "ALGEBRA_EQ_LINEAR",
                "POW_POWER",
                "POW_ROOT",
                "ARITH",
                "FRACT",
                "INT",
                "DEC",
                "POW",
                "RATIO"
            ]
            .to_vec()
        )
        .prop_map(Family::from_code),
    ]
}

fn body() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("T-SUB-BORROW".to_string()), "\\PC{0,10}"],
        number_value(),
        number_value(),
        prop::option::of(number_value()),
        prop::option::of(number_value()),
        prop::collection::vec((mathy(), any::<bool>()), 0..5),
    )
        .prop_map(|(topic, expected, answer, a, b, steps)| {
            let mut v = json!({
                "topicCode": topic,
                "expectedAnswer": expected,
                "studentAnswer": answer,
                "rawSteps": steps.into_iter().map(|(e, f)| json!({"expression": e, "isFinal": f})).collect::<Vec<_>>(),
            });
            if let Some(a) = a {
                v["minuend"] = a;
            }
            if let Some(b) = b {
                v["subtrahend"] = b;
            }
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_never_panic_and_results_are_well_formed(body in body(), family in family()) {
        let text = body.to_string();
        if let Ok(parsed) = AttemptBody::from_json(&text)
            && let Ok(d) = parsed.diagnose_as(family, &Options::default())
        {
            assert_well_formed(&d);
        }
    }

    #[test]
    fn operands_matching_the_expected_answer_are_diagnosed(a in 0u64..100_000, b in 0u64..100_000, slip in -50i64..50, family in family()) {
        let (big, small) = (a.max(b), a.min(b));
        let expected = big - small;
        let answer = expected as i64 + slip;
        let body = json!({"topicCode": "T-SUB-BORROW", "expectedAnswer": expected, "studentAnswer": answer,
                          "minuend": big, "subtrahend": small, "rawSteps": [{"expression": format!("{big} - {small} = {answer}"), "isFinal": true}]});
        let d = AttemptBody::from_json(&body.to_string()).unwrap().diagnose_as(family, &Options::default());
        if let Ok(d) = d {
            assert_well_formed(&d);
        }
    }

    #[test]
    fn steps_never_panic_the_parser(text in mathy()) {
        if let Ok(st) = Statement::parse(&text) {
            for &side in st.sides() {
                let _ = st.eval(side);
                let _ = st.linear(side);
            }
        }
    }

    #[test]
    fn numbers_never_panic_the_reader(text in "\\PC{0,40}", f in any::<f64>()) {
        let _ = Number::parse(&text);
        let _ = Number::from_f64(f);
    }
}

#[test]
fn limits_give_errors_or_unclassified_never_panics() {
    let run = |body: Value, family: &str| {
        AttemptBody::from_json(&body.to_string())
            .unwrap()
            .diagnose_as(Family::from_code(family), &Options::default())
    };
    // A 40-digit number is refused with a clear error.
    let e = run(
        json!({"topicCode": "T", "expectedAnswer": "1".repeat(40), "studentAnswer": 1, "rawSteps": []}),
        "ARITH_ADD",
    );
    assert!(e.unwrap_err().to_string().contains("expectedAnswer"));
    // Negative operands under a column topic: diagnosed as integers, and said so.
    let d = run(
        json!({"topicCode": "T", "expectedAnswer": -2, "studentAnswer": -8, "minuend": -5, "subtrahend": -3, "rawSteps": []}),
        "ARITH_SUB",
    )
    .unwrap();
    assert_eq!(d.family, Some(Family::IntSub));
    assert_eq!(d.error_tag_code, "INT_SUB_DOUBLE_NEGATIVE_NOT_APPLIED_G7");
    assert!(
        d.evidence
            .iter()
            .any(|e| matches!(e, diagnosis::Evidence::FamilyInferred { .. }))
    );
    assert_well_formed(&d);
    // Integers have no division family: the reason is in the evidence.
    let d = run(
        json!({"topicCode": "T", "expectedAnswer": -2, "studentAnswer": 7, "minuend": -6, "subtrahend": 3, "rawSteps": []}),
        "ARITH_DIV",
    )
    .unwrap();
    assert!(
        d.evidence
            .iter()
            .any(|e| matches!(e, diagnosis::Evidence::OutOfRange { .. }))
    );
    assert_eq!(d.error_tag_code, UNCLASSIFIED);
    // Empty answer: an error naming the field.
    let e = run(
        json!({"topicCode": "T", "expectedAnswer": 3, "studentAnswer": "", "rawSteps": []}),
        "ARITH_ADD",
    );
    assert!(e.unwrap_err().to_string().contains("studentAnswer"));
    // 1e308 parses as a float but is out of range.
    let e = run(
        json!({"topicCode": "T", "expectedAnswer": 1e308, "studentAnswer": 1, "rawSteps": []}),
        "ARITH_ADD",
    );
    assert!(e.is_err());
    // 1e309 is not even JSON serde accepts.
    assert!(
        AttemptBody::from_json(r#"{"topicCode":"T","expectedAnswer":1e309,"studentAnswer":1,"rawSteps":[]}"#).is_err()
    );
    // Unparseable steps are evidence, not failures.
    let d = run(
        json!({"topicCode": "T", "expectedAnswer": 27, "studentAnswer": 33, "minuend": 53, "subtrahend": 26,
                       "rawSteps": [{"expression": "53 - - = ?", "isFinal": false}]}),
        "ARITH_SUB",
    )
    .unwrap();
    assert!(matches!(
        d.evidence[0],
        diagnosis::Evidence::UnparseableStep { step: 0, .. }
    ));
    assert_eq!(d.error_tag_code, "ARITH_SUB_BORROW_OMITTED_TENS_G3");
    // Too many steps.
    let steps: Vec<Value> = (0..101).map(|_| json!({"expression": "1 + 1"})).collect();
    assert!(
        run(
            json!({"topicCode": "T", "expectedAnswer": 2, "studentAnswer": 2, "rawSteps": steps}),
            "ARITH_ADD"
        )
        .is_err()
    );
}

fn assert_deep_well_formed(deep: &DeepDiagnosis) {
    let d = &deep.diagnosis;
    assert!(
        ["engine", "step-replay", "all-families", "lower-bar", "none"].contains(&deep.strategy),
        "{}",
        deep.strategy
    );
    assert!((0.0..=1.0).contains(&d.confidence), "confidence {}", d.confidence);
    assert_eq!(d.is_correct, d.error_tag_code == "CORRECT");
    if deep.strategy == "engine" {
        assert_well_formed(d);
    }
    if deep.is_classified() {
        assert!(
            diagnosis::catalog::error_tag(d.error_tag_code).is_some(),
            "{} not in the catalog",
            d.error_tag_code
        );
        assert!(d.error_subtag.is_some());
        assert!(deep.reason.is_none());
        if deep.strategy == "lower-bar" {
            assert!(
                (diagnosis::LOWER_BAR_FLOOR..0.5).contains(&d.confidence),
                "{}",
                d.confidence
            );
        } else {
            assert!(d.confidence >= 0.5, "{} {}", deep.strategy, d.confidence);
        }
    }
    if deep.strategy == "none" {
        assert_eq!(d.error_tag_code, UNCLASSIFIED);
        assert_eq!(d.confidence, 0.0);
        assert!(deep.reason.is_some());
    }
    for w in d.candidates.windows(2) {
        assert!(w[0].confidence >= w[1].confidence);
    }
    for c in &d.candidates {
        assert!((0.0..=1.0).contains(&c.confidence));
        assert!(diagnosis::catalog::error_tag(c.tag).is_some(), "{}", c.tag);
    }
    serde_json::to_string(deep).expect("serializable");
}

fn assert_signature_well_formed(sig: Option<String>, d: &Diagnosis) {
    assert_eq!(sig.is_none(), d.is_correct);
    if let Some(s) = sig {
        assert!(s.len() <= diagnosis::MAX_SIGNATURE_LEN, "{s}");
        assert!(s.is_ascii(), "{s}");
        assert!(s.starts_with("v1|"), "{s}");
        assert_eq!(s.split('|').count(), 7, "{s}");
    }
}

/// Multi-step arithmetic: a step `a op b = c` whose claim is right, a sum, off by ten, reversed
/// or random, then often a step that uses the claim, an answer and an expected answer that
/// follow the steps or not: what reaches the deep search's step replay, its chains and the
/// other strategies.
fn arithmetic_attempt() -> impl Strategy<Value = Value> {
    let family = prop_oneof![
        1 => Just(None),
        6 => prop::sample::select(vec!["ARITH_ADD", "ARITH_SUB", "ARITH_MUL", "ARITH_DIV", "INT_SUB", "INT_ADD", "ARITH", "FRACT_ADDSUB", "DEC_ADD"])
            .prop_map(Some),
    ];
    (
        family,
        (0i64..300, 0i64..60, 0usize..4),
        (0usize..6, -2000i64..2000),
        (0usize..3, 0i64..50),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(family, (a, b, op), (claim_kind, random), (chain, d), (answer_last, expected_true, operands))| {
                let (symbol, a, value) = match op {
                    0 => ("+", a, a + b),
                    1 => ("-", a, a - b),
                    2 => ("•", a, a * b),
                    // The dividend a multiple of the divisor.
                    _ => (":", a * b.max(1), a),
                };
                let b = if op == 3 { b.max(1) } else { b };
                let reversed = value
                    .abs()
                    .to_string()
                    .chars()
                    .rev()
                    .collect::<String>()
                    .parse::<i64>()
                    .unwrap_or(0);
                let claim = [value, a + b, value + 10, value - 10, reversed, random][claim_kind];
                let mut steps = vec![format!("{a} {symbol} {b} = {claim}")];
                let mut last = claim;
                let mut truth = value;
                match chain {
                    1 => {
                        steps.push(format!("{claim} + {d} = {}", claim + d));
                        last = claim + d;
                        truth += d;
                    }
                    2 => {
                        steps.insert(0, format!("{} + {d} = {a}", a - d));
                    }
                    _ => {}
                }
                let mut v = json!({
                    "topicCode": family.unwrap_or("T-X"),
                    "expectedAnswer": if expected_true { truth } else { random / 3 },
                    "studentAnswer": if answer_last { last } else { random },
                    "rawSteps": steps.iter().map(|e| json!({"expression": e})).collect::<Vec<_>>(),
                });
                if operands {
                    v["minuend"] = json!(a);
                    v["subtrahend"] = json!(b);
                }
                v
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn deep_search_and_signatures_never_panic(body in body(), family in family()) {
        if let Ok(parsed) = AttemptBody::from_json(&body.to_string()) {
            if let Ok(deep) = parsed.deep_diagnose_as(family, &Options::default()) {
                assert_deep_well_formed(&deep);
                assert_signature_well_formed(parsed.signature_as(family, &deep.diagnosis).unwrap(), &deep.diagnosis);
            }
            if let Ok(d) = parsed.diagnose_as(family, &Options::default()) {
                assert_signature_well_formed(parsed.signature_as(family, &d).unwrap(), &d);
            }
        }
    }

    #[test]
    fn deep_search_on_multi_step_arithmetic_is_well_formed(body in arithmetic_attempt()) {
        let parsed = AttemptBody::from_json(&body.to_string()).unwrap();
        let family = Family::from_code(&parsed.topic_code);
        if let Ok(deep) = parsed.deep_diagnose_as(family, &Options::default()) {
            assert_deep_well_formed(&deep);
            let base = parsed.diagnose_as(family, &Options::default()).unwrap();
            assert_eq!(base.is_correct, deep.diagnosis.is_correct);
            assert_eq!(base.correct_answer, deep.diagnosis.correct_answer);
            if base.error_tag_code != UNCLASSIFIED {
                assert_eq!(deep.strategy, "engine");
                assert_eq!(deep.diagnosis.error_tag_code, base.error_tag_code);
            }
            assert_signature_well_formed(parsed.signature_as(family, &base).unwrap(), &base);
        }
    }
}
