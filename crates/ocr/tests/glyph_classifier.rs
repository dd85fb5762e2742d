//! The committed classifier on glyphs it was never trained on, without the MNIST download:
//! operators synthesised from a seed the training does not use, and a 40-digit fixture from the
//! MNIST test split (`tests/data/mnist-test-40.bin`: samples 800..803 of each digit, a record of
//! one label byte and 784 pixel bytes; written by `examples/eval_glyphs.rs --fixture`).

use ocr::classifier::{Classifier, best_class, normalize};
use ocr::glyphs::{Glyph, GrayBitmap};
use ocr::synth::{self, Rng, Style};

const FIXTURE: &[u8] = include_bytes!("data/mnist-test-40.bin");

#[test]
fn synthesised_operators_are_read_as_drawn() {
    let classifier = Classifier::builtin();
    let mut rng = Rng::new(0x7e57_0001);
    let (mut total, mut right) = (0usize, 0usize);
    let mut misread = Vec::new();
    let glyphs = Glyph::SYNTHESISED.iter().copied().chain([Glyph::MidDot]);
    for glyph in glyphs {
        for _ in 0..12 {
            let height = rng.range(20.0, 64.0);
            let style = Style::random(&mut rng, height);
            let bitmap = synth::render(glyph, &mut rng, &style).expect("an operator");
            let (read, _) = best_class(&classifier.classify(&normalize(&bitmap)));
            total += 1;
            if read.class() == glyph.class() {
                right += 1;
            } else {
                misread.push(format!("{glyph}→{read}"));
            }
        }
    }
    let accuracy = right as f64 / total as f64;
    assert!(
        accuracy >= 0.95,
        "{right}/{total} operators read as drawn; misread: {misread:?}"
    );
}

#[test]
fn test_split_digits_are_read() {
    let classifier = Classifier::builtin();
    let record = 1 + 28 * 28;
    assert_eq!(FIXTURE.len(), 40 * record);
    let mut right = 0;
    let mut misread = Vec::new();
    for r in FIXTURE.chunks_exact(record) {
        let digit = r[0];
        let bitmap = GrayBitmap::new(28, 28, r[1..].to_vec()).expect("28×28");
        let probabilities = classifier.classify(&normalize(&bitmap));
        let (read, p) = best_class(&probabilities);
        assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!((0.0..=1.0).contains(&p));
        if read.digit_value() == Some(digit) {
            right += 1;
        } else {
            misread.push(format!("{digit}→{read}"));
        }
    }
    assert!(right >= 37, "{right}/40 test digits read; misread: {misread:?}");
}

#[test]
fn a_digit_stays_a_digit_at_any_size() {
    // The same test digit enlarged 3× and binarised, as a photographed glyph would arrive:
    // normalisation brings it back to the network's scale.
    let classifier = Classifier::builtin();
    let record = 1 + 28 * 28;
    let mut right = 0;
    for r in FIXTURE.chunks_exact(record).step_by(2) {
        let small = GrayBitmap::new(28, 28, r[1..].to_vec()).expect("28×28");
        let large = GrayBitmap::from_fn(84, 84, |x, y| if small.get(x / 3, y / 3) > 100 { 255 } else { 0 });
        let (read, _) = best_class(&classifier.classify(&normalize(&large)));
        right += usize::from(read.digit_value() == Some(r[0]));
    }
    assert!(right >= 18, "{right}/20 enlarged digits read");
}
