//! Evaluation: log-likelihood, one-step-ahead predictions, AUC and RMSE.

use crate::{BktParams, Sequences};

/// P(correct) of every response given the previous responses of the same sequence (the standard
/// BKT prediction: [`BktParams::predict_correct`] before the answer, then [`BktParams::update`]),
/// flat, in the order of [`Sequences::responses`].
pub fn predict(params: &BktParams, seqs: &Sequences) -> Vec<f64> {
    let mut out = Vec::with_capacity(seqs.total_responses());
    for seq in seqs.iter() {
        let mut known = params.p_init;
        for &correct in seq {
            out.push(params.predict_correct(known));
            known = params.update(known, correct);
        }
    }
    out
}

/// Natural-log likelihood of the sequences under `params`: the sum over responses of
/// ln P(response | previous responses).
pub fn log_likelihood(params: &BktParams, seqs: &Sequences) -> f64 {
    predict(params, seqs)
        .iter()
        .zip(seqs.responses())
        .map(|(&p, &correct)| if correct { p } else { 1.0 - p }.ln())
        .sum()
}

/// Area under the ROC curve, from ranks (Mann–Whitney U), tied predictions getting their average
/// rank. `None` when `actual` lacks either class.
///
/// # Panics
/// When `pred` and `actual` differ in length.
pub fn auc(pred: &[f64], actual: &[bool]) -> Option<f64> {
    assert_eq!(pred.len(), actual.len(), "auc: one prediction per response");
    let positives = actual.iter().filter(|&&a| a).count();
    let negatives = actual.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..pred.len()).collect();
    order.sort_unstable_by(|&a, &b| pred[a].total_cmp(&pred[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && pred[order[j]].total_cmp(&pred[order[i]]).is_eq() {
            j += 1;
        }
        let average_rank = (i + 1 + j) as f64 / 2.0;
        let tied_positives = order[i..j].iter().filter(|&&k| actual[k]).count();
        rank_sum += average_rank * tied_positives as f64;
        i = j;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Root mean squared error of the predictions against the responses (1 = correct); `None` when
/// there is no response.
///
/// # Panics
/// When `pred` and `actual` differ in length.
pub fn rmse(pred: &[f64], actual: &[bool]) -> Option<f64> {
    assert_eq!(pred.len(), actual.len(), "rmse: one prediction per response");
    if pred.is_empty() {
        return None;
    }
    let sum: f64 = pred
        .iter()
        .zip(actual)
        .map(|(&p, &a)| (p - f64::from(u8::from(a))).powi(2))
        .sum();
    Some((sum / pred.len() as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_hand_computed_values() {
        // Positives at 0.8, 0.4, 0.35; negatives at 0.7, 0.3, 0.1. Pairs (pos > neg): 0.8 beats
        // 3, 0.4 beats 2, 0.35 beats 2 → 7 of 9.
        let pred = [0.8, 0.7, 0.4, 0.35, 0.3, 0.1];
        let actual = [true, false, true, true, false, false];
        assert!((auc(&pred, &actual).unwrap() - 7.0 / 9.0).abs() < 1e-12);
        // Ties count one half: positives {0.5, 0.9}, negatives {0.5, 0.2} → (0.5 + 1 + 1 + 1) / 4.
        let pred = [0.5, 0.9, 0.5, 0.2];
        let actual = [true, true, false, false];
        assert!((auc(&pred, &actual).unwrap() - 3.5 / 4.0).abs() < 1e-12);
        // All tied: 0.5. Perfect and reversed orders: 1 and 0.
        assert_eq!(auc(&[0.3; 4], &actual), Some(0.5));
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), Some(1.0));
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), Some(0.0));
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn rmse_and_predictions_by_hand() {
        assert_eq!(rmse(&[], &[]), None);
        let r = rmse(&[1.0, 0.5, 0.0, 0.0], &[true, true, true, false]).unwrap();
        assert!((r - ((0.25 + 1.0) / 4.0_f64).sqrt()).abs() < 1e-12);

        let p = BktParams::default();
        let seqs = Sequences::from_nested([vec![true, false], vec![false]]);
        let pred = predict(&p, &seqs);
        let first = 0.3 * 0.9 + 0.7 * 0.2;
        let known = p.update(0.3, true);
        assert_eq!(pred.len(), 3);
        assert!((pred[0] - first).abs() < 1e-12);
        assert!((pred[1] - (known * 0.9 + (1.0 - known) * 0.2)).abs() < 1e-12);
        assert!((pred[2] - first).abs() < 1e-12);
        let ll = log_likelihood(&p, &seqs);
        assert!((ll - (pred[0].ln() + (1.0 - pred[1]).ln() + (1.0 - pred[2]).ln())).abs() < 1e-12);
    }
}
