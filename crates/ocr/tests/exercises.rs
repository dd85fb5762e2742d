//! Whole photos without MNIST (CI has none): digits drawn here as plain strokes, operators from
//! `synth::render`, composed and photographed by `ocr::compose`.

use ocr::compose::{self, Camera, Canvas};
use ocr::synth::Rng;
use ocr::{GrayBitmap, Limits, read_photo};

/// A `1`: one upright stroke, which the classifier reads without any MNIST in sight.
fn one(_: u8, _: &mut Rng) -> GrayBitmap {
    GrayBitmap::from_fn(5, 28, |x, _| if (1..4).contains(&x) { 255 } else { 0 })
}

fn photo(lines: &[(&str, f32)], seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut canvas = Canvas::new(700, 720);
    for &(text, top) in lines {
        compose::draw_line(&mut canvas, text, 60.0, top, 50.0, &mut rng, &mut one);
    }
    let camera = Camera {
        rotation_deg: 1.5,
        noise: 3.0,
        paper: 225.0,
        ink: 40.0,
        gradient: 10.0,
    };
    compose::jpeg(&compose::photograph(&canvas, &camera, &mut rng), 85)
}

#[test]
fn blocks_separated_by_vertical_space_are_several_exercises() {
    // Two lines 80 px apart (30 px gap), then a blank stretch of 250 px, then one line.
    let bytes = photo(&[("11 + 11", 60.0), ("= 11", 140.0), ("111 - 11", 440.0)], 3);
    let reading = read_photo(&bytes, &Limits::default()).unwrap();
    let shape: Vec<usize> = reading.exercises.iter().map(|e| e.raw_steps.len()).collect();
    assert_eq!(shape, vec![2, 1], "{reading:#?}");
    let first = &reading.exercises[0];
    assert!(first.raw_steps[1].is_final && !first.raw_steps[0].is_final);
    assert!(first.confidence > 0.0 && first.confidence <= 1.0);
    // The second line is `= <answer>`: the final answer is what follows its `=`.
    assert_eq!(
        first.final_answer.as_deref(),
        first.raw_steps[1].expression.strip_prefix("= ")
    );
}

#[test]
fn operators_are_read_in_context_and_give_the_topic() {
    let cases = [
        ("11 + 11 = 11", "T-ADD-CARRY"),
        ("111 - 11 = 11", "T-SUB-BORROW"),
        ("11 × 11 = 111", "T-MUL"),
        ("11 : 11 = 1", "T-DIV"),
    ];
    let mut read = 0;
    for (i, (text, topic)) in cases.iter().enumerate() {
        let reading = read_photo(&photo(&[(text, 100.0)], 10 + i as u64), &Limits::default()).unwrap();
        let Some(e) = reading.exercises.first() else { continue };
        if e.raw_steps[0].expression == *text {
            read += 1;
            assert_eq!(e.topic_hint.as_deref(), Some(*topic));
            assert_eq!(e.problem, text.split(" = ").next().unwrap());
            assert_eq!(e.final_answer.as_deref(), text.split(" = ").nth(1));
        }
    }
    assert!(read >= 3, "only {read} of {} lines read exactly", cases.len());
}
