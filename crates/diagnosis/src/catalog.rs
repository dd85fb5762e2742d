//! The built-in catalogue: every error tag the engine can emit and every topic it accepts.
//!
//! A tag is a stable code (`ARITH_SUB_BORROW_OMITTED_TENS_G3`) that names the misconception behind
//! a wrong answer, with its names in Spanish and English, a severity, a description of what the
//! student did and a remediation hint for the teacher. The `_G<n>` suffix is the school grade at
//! which the error is typically met; the three transversal `ARITH_TRANSV_*` tags and the two
//! outcome tags (`CORRECT`, `UNCLASSIFIED`) have none.
//!
//! The catalogue is compiled in rather than loaded from a file or a database because the codes are
//! part of the engine's contract: a procedure that emits a code and the entry that explains it are
//! versioned together, the engine stays pure (no I/O, nothing to fail at start-up), and the tests
//! below keep codes, grades and families consistent at build time.
//!
//! Worked examples use the notation Chilean students write: decimal comma (`2,5`), `:` or `÷` for
//! division.

use serde::Serialize;

/// How much an error says about the student's understanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// A slip: the procedure is known, one step went wrong.
    Low,
    /// A procedural bug: a systematic but local flaw in the algorithm.
    Med,
    /// A conceptual misconception: the student's model of the operation is wrong.
    High,
}

/// One entry of the error catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTag {
    pub code: &'static str,
    /// Family code that emits it ("ARITH_SUB", ...); "ARITH" for the transversal ARITH_TRANSV_* tags; "" for CORRECT and UNCLASSIFIED.
    pub family: &'static str,
    pub name_es: &'static str,
    pub name_en: &'static str,
    pub severity: Severity,
    /// School grade from the code's `_G<n>` suffix; `None` when there is none.
    pub grade: Option<u8>,
    pub description: &'static str,
    pub remediation: &'static str,
    /// A code of the peer platform's catalogue this tag corresponds to or refines, if any.
    pub parent: Option<&'static str>,
}

use Severity::{High, Low, Med};

pub static ERROR_TAGS: &[ErrorTag] = &[
    // ── Outcomes ────────────────────────────────────────────────────────────────────────────
    ErrorTag {
        code: "CORRECT",
        family: "",
        name_es: "Correcto",
        name_en: "Correct",
        severity: Low,
        grade: None,
        description: "The answer matches the expected result; there is no error to diagnose.",
        remediation: "No remediation needed; if the student answers this kind of item correctly and consistently, move on to the next level of difficulty.",
        parent: None,
    },
    ErrorTag {
        code: "UNCLASSIFIED",
        family: "",
        name_es: "Sin clasificar",
        name_en: "Unclassified",
        severity: Med,
        grade: None,
        description: "The answer is wrong and no modelled procedure reproduces it with enough confidence; the item is sent to the asynchronous classifier for a second look.",
        remediation: "Ask the student to redo the item aloud or show every step; the written steps usually reveal the procedure the engine could not infer.",
        parent: None,
    },
    // ── ARITH_ADD: whole-number column addition ─────────────────────────────────────────────
    ErrorTag {
        code: "ARITH_ADD_CARRY_OMITTED_G3",
        family: "ARITH_ADD",
        name_es: "Llevada omitida",
        name_en: "Carry omitted",
        severity: Med,
        grade: Some(3),
        description: "A column sum of 10 or more is written as its units digit and the ten is never carried: 38 + 27 → 55 (8 + 7 = 15, writes 5, then 3 + 2 = 5).",
        remediation: "Redo the sum with base-ten blocks, trading ten units for one ten-rod in front of the student; then have them write the carried 1 above the next column before adding it.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_ADD_CARRY_WRONG_COLUMN_G3",
        family: "ARITH_ADD",
        name_es: "Llevada en columna incorrecta",
        name_en: "Carry in the wrong column",
        severity: Med,
        grade: Some(3),
        description: "The carry is added two columns to the left instead of to the next one: 38 + 27 → 155 (8 + 7 = 15, the 1 lands in the hundreds, tens 3 + 2 = 5).",
        remediation: "Use a place-value chart with labelled columns (C, D, U) and ask where ten units go when they are traded: always to the column immediately to the left.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_ADD_WRITES_WHOLE_COLUMN_SUM_G3",
        family: "ARITH_ADD",
        name_es: "Escribe la suma completa de la columna",
        name_en: "Writes the whole column sum",
        severity: High,
        grade: Some(3),
        description: "Each column's full sum is written down side by side, with no carrying: 47 + 38 → 715 (4 + 3 = 7, 7 + 8 = 15).",
        remediation: "Ask for an estimate first (about 50 + 40 = 90, so 715 is impossible), then rebuild 15 units as 1 ten and 5 units with blocks so the student sees why only one digit fits in a column.",
        parent: Some("ARITH_ADD_WRITES_FULL_SUM_IN_COLUMN_G2"),
    },
    ErrorTag {
        code: "ARITH_ADD_CARRY_ALWAYS_ONE_EXTRA_G3",
        family: "ARITH_ADD",
        name_es: "Llevada agregada siempre",
        name_en: "Carries a 1 every time",
        severity: Med,
        grade: Some(3),
        description: "A 1 is carried into the next column even when the column sum is below 10: 23 + 45 → 78 (3 + 5 = 8, yet 2 + 4 + 1 = 7).",
        remediation: "Before each column, have the student say whether the sum reached ten and write the carried 1 only then; contrast a sum that needs a carry with one that does not.",
        parent: None,
    },
    // ── ARITH_SUB: whole-number column subtraction ──────────────────────────────────────────
    ErrorTag {
        code: "ARITH_SUB_MINUEND_SUBTRAHEND_SWAPPED_G3",
        family: "ARITH_SUB",
        name_es: "Minuendo y sustraendo invertidos",
        name_en: "Minuend and subtrahend swapped",
        severity: High,
        grade: Some(3),
        description: "When the subtrahend is the larger number the order is reversed, as if subtraction were commutative: 26 − 53 → 27 (computes 53 − 26).",
        remediation: "Contrast 8 − 3 and 3 − 8 on a number line (moving left from the first number) so the student sees that order changes the result; read each subtraction aloud as \"from 26 take away 53\".",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_SUB_BORROW_OMITTED_TENS_G3",
        family: "ARITH_SUB",
        name_es: "Borrow omitido — decenas",
        name_en: "Borrow omitted — tens",
        severity: Med,
        grade: Some(3),
        description: "A units column needed a borrow from the tens and none was made: the smaller digit is subtracted from the larger (53 − 26 → 33), or 10 is added to the units without decrementing the tens (53 − 26 → 37).",
        remediation: "Model the trade with base-ten blocks: 53 becomes 4 tens and 13 units before taking 26 away; have the student cross out the 5, write 4 and write the small 1 beside the 3 every time.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_SUB_BORROW_OMITTED_HUNDREDS_G3",
        family: "ARITH_SUB",
        name_es: "Borrow omitido — centenas",
        name_en: "Borrow omitted — hundreds",
        severity: Med,
        grade: Some(3),
        description: "A tens (or higher) column needed a borrow from the hundreds or beyond and none was made: 523 − 281 → 362 (tens: 8 − 2 instead of 12 − 8), or 342 when the hundreds are not decremented.",
        remediation: "Show that trading works the same in every column: one hundred becomes ten tens. Practise items whose only borrow is in the tens column so the student checks each column, not just the units.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_SUB_BORROW_FROM_ZERO_G3",
        family: "ARITH_SUB",
        name_es: "Borrow desde cero — error",
        name_en: "Borrowing across zero",
        severity: High,
        grade: Some(3),
        description: "Borrowing through a 0 goes wrong: the 0 becomes 10 instead of 9 (100 − 27 → 83), or becomes 9 without the next digit being decremented (100 − 27 → 173), or the 0 is skipped.",
        remediation: "Rename the minuend as a whole before subtracting: 100 is 9 tens and 10 units (or 10 tens), shown with blocks; practise minuends like 100, 302 and 4005 until the student renames the zeros in one step.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_SUB_BORROW_PROPAGATION_STOP_G3",
        family: "ARITH_SUB",
        name_es: "Propagación del borrow detenida",
        name_en: "Borrow propagation stopped",
        severity: Med,
        grade: Some(3),
        description: "10 is added to the column that needs it but the 0 to its left is left unchanged instead of becoming 9: 404 − 187 → 227 (14 − 7 = 7, the tens 0 stays 0, then 10 − 8 = 2 and 3 − 1 = 2).",
        remediation: "Insist that every borrow has a source: the student must find the digit that actually gives up a unit and mark every 0 crossed on the way as 9; check with the inverse addition 227 + 187.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_SUB_ZERO_MINUS_N_IS_N_G3",
        family: "ARITH_SUB",
        name_es: "Cero menos N da N",
        name_en: "0 − N = N",
        severity: Med,
        grade: Some(3),
        description: "In a column with 0 on top, the bottom digit is written as the result instead of borrowing: 140 − 21 → 121 (0 − 1 → 1).",
        remediation: "Ask what 0 − 1 would mean with blocks (there is nothing to take) to show that a 0 on top always calls for a trade; practise minuends ending in 0.",
        parent: Some("ARITH_SUB_ZERO_MINUS_N_EQUALS_N_G3"),
    },
    ErrorTag {
        code: "ARITH_SUB_ZERO_MINUS_N_IS_ZERO_G3",
        family: "ARITH_SUB",
        name_es: "Cero menos N da cero",
        name_en: "0 − N = 0",
        severity: Med,
        grade: Some(3),
        description: "In a column with 0 on top, 0 is written as the result instead of borrowing: 140 − 21 → 120 (0 − 1 → 0).",
        remediation: "Contrast \"nothing to take from\" with \"the answer is nothing\": trade one ten for ten units with blocks so 10 − 1 = 9, and verify with the inverse addition 120 + 21 ≠ 140.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_SUB_N_MINUS_ZERO_IS_ZERO_G3",
        family: "ARITH_SUB",
        name_es: "N menos cero da cero",
        name_en: "N − 0 = 0",
        severity: Med,
        grade: Some(3),
        description: "A column with 0 at the bottom gives 0 instead of the top digit: 47 − 20 → 20 (7 − 0 → 0).",
        remediation: "Drill the zero facts with meaning (7 units, take away none, 7 remain) and contrast N − 0 with N − N; include subtrahends ending in 0 in practice.",
        parent: Some("ARITH_SUB_N_MINUS_ZERO_EQUALS_ZERO_G3"),
    },
    ErrorTag {
        code: "ARITH_SUB_ZERO_INSTEAD_OF_BORROW_G3",
        family: "ARITH_SUB",
        name_es: "Cero en lugar de canje",
        name_en: "Zero instead of borrowing",
        severity: Med,
        grade: Some(3),
        description: "A column whose top digit is smaller than the bottom one gets a 0 instead of a borrow: 53 − 26 → 30 (3 − 6 \"can't be done\", writes 0).",
        remediation: "Replace \"can't be done\" with \"trade a ten\": redo the column with blocks so 13 − 6 = 7, and check each answer with the inverse addition (30 + 26 ≠ 53).",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_SUB_ADD_INSTEAD_OF_SUBTRACT_G3",
        family: "ARITH_SUB",
        name_es: "Suma en lugar de restar",
        name_en: "Adds instead of subtracting",
        severity: High,
        grade: Some(3),
        description: "The numbers are added instead of subtracted: 53 − 26 → 79.",
        remediation: "First check whether the sign was misread (have the student read the exercise aloud); if not, work on the meaning of subtraction with take-away and comparison stories, and ask whether the result should be larger or smaller than 53.",
        parent: Some("ARITH_SUB_ADDS_INSTEAD_G2"),
    },
    // ── ARITH_MUL: whole-number multiplication ──────────────────────────────────────────────
    ErrorTag {
        code: "ARITH_MUL_ZERO_TIMES_N_EQUALS_N_G3",
        family: "ARITH_MUL",
        name_es: "Cero por N da N",
        name_en: "0 × N = N",
        severity: High,
        grade: Some(3),
        description: "Multiplying by 0 leaves the other factor unchanged, as adding 0 would: 0 × 5 → 5.",
        remediation: "Read 0 × 5 as \"0 groups of 5\" and 5 × 0 as \"5 groups of nothing\" with drawings; contrast explicitly with 5 + 0 = 5 so the student separates the two zero rules.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_MUL_ADD_INSTEAD_G3",
        family: "ARITH_MUL",
        name_es: "Suma en lugar de multiplicar",
        name_en: "Adds instead of multiplying",
        severity: High,
        grade: Some(3),
        description: "The factors are added instead of multiplied: 7 × 8 → 15.",
        remediation: "Check whether the × sign was misread; then rebuild multiplication as equal groups or an array (7 rows of 8) and have the student compare 7 + 8 with 7 × 8 on the same picture.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_MUL_BY_POWER_OF_TEN_NO_ZEROS_G4",
        family: "ARITH_MUL",
        name_es: "Multiplicación por potencia de 10 sin ceros",
        name_en: "Power of ten multiplied without adding zeros",
        severity: High,
        grade: Some(4),
        description: "Multiplying by 10, 100 or 1000 returns the number unchanged, as if the power of ten were 1: 34 × 100 → 34.",
        remediation: "Use a place-value chart: ×100 moves every digit two places to the left (34 units become 34 hundreds), and the empty places are filled with zeros; ask for an estimate before computing.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_MUL_TABLE_RECALL_ERROR_G3",
        family: "ARITH_MUL",
        name_es: "Error en la tabla de multiplicar",
        name_en: "Times-table recall error",
        severity: Low,
        grade: Some(3),
        description: "A neighbouring multiplication fact is retrieved instead of the right one: 7 × 8 → 49 (7 × 7).",
        remediation: "Give derivation strategies for the facts that fail (7 × 8 = 7 × 7 + 7, or 5 × 8 + 2 × 8) and short daily retrieval practice focused on those facts.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_MUL_PARTIAL_NOT_SHIFTED_G5",
        family: "ARITH_MUL",
        name_es: "Producto parcial sin desplazar",
        name_en: "Partial product not shifted",
        severity: High,
        grade: Some(5),
        description: "In long multiplication the second partial product is not shifted one place (the placeholder 0 is forgotten): 12 × 13 → 36 + 12 = 48 instead of 36 + 120 = 156.",
        remediation: "Have the student say what the tens digit is worth (12 × 10, not 12 × 1) and write the 0 before the partial product; an estimate (about 10 × 13 = 130) exposes 48 as too small.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_MUL_ONLY_CORRESPONDING_DIGITS_G5",
        family: "ARITH_MUL",
        name_es: "Multiplica solo cifras correspondientes",
        name_en: "Multiplies only corresponding digits",
        severity: High,
        grade: Some(5),
        description: "Digits are multiplied column by column as in addition, units by units and tens by tens: 12 × 13 → 16 (1 × 1 = 1, 2 × 3 = 6) instead of 156.",
        remediation: "Draw the area model of 12 × 13 (10 + 2 by 10 + 3) so the student sees four partial products, not two; then link each rectangle to a line of the written algorithm.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_MUL_CARRY_ADDED_BEFORE_MULTIPLYING_G4",
        family: "ARITH_MUL",
        name_es: "Reserva sumada antes de multiplicar",
        name_en: "Carry added before multiplying",
        severity: Med,
        grade: Some(4),
        description: "The carry is added to the next digit before multiplying rather than to its product: 27 × 4 → 168 (7 × 4 = 28, then (2 + 2) × 4 = 16) instead of 2 × 4 + 2 = 10, giving 108.",
        remediation: "Write each step in words, \"multiply, then add what I carried\", and check with the expanded form 20 × 4 + 7 × 4 = 80 + 28 = 108.",
        parent: Some("ARITH_MUL_CARRY_ADDED_BEFORE_MULT_G4"),
    },
    ErrorTag {
        code: "ARITH_MUL_CARRY_IGNORED_G4",
        family: "ARITH_MUL",
        name_es: "Reserva omitida en la multiplicación",
        name_en: "Carry ignored in multiplication",
        severity: Med,
        grade: Some(4),
        description: "Carries in a partial product are dropped: 27 × 4 → 88 (7 × 4 = 28, writes 8, then 2 × 4 = 8 without adding the 2).",
        remediation: "Have the student write the carried digit small above the next column and tick it off once added; verify with the expanded form 80 + 28 = 108.",
        parent: Some("ARITH_MUL_CARRY_OMITTED_G4"),
    },
    // ── ARITH_DIV: whole-number division ────────────────────────────────────────────────────
    ErrorTag {
        code: "ARITH_DIV_DIVISOR_DIVIDEND_SWAPPED_G4",
        family: "ARITH_DIV",
        name_es: "Dividendo y divisor invertidos",
        name_en: "Dividend and divisor swapped",
        severity: High,
        grade: Some(4),
        description: "The divisor is divided by the dividend: 84 ÷ 4 → 0 (4 ÷ 84 has whole quotient 0).",
        remediation: "Frame division as sharing: 84 items shared among 4 children, and ask how many each gets; have the student name dividend and divisor before computing and check with quotient × divisor = dividend.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_DIV_QUOTIENT_ZERO_SKIPPED_G5",
        family: "ARITH_DIV",
        name_es: "Cero omitido en el cociente",
        name_en: "Zero skipped in the quotient",
        severity: Med,
        grade: Some(5),
        description: "When a brought-down partial dividend is smaller than the divisor, no 0 is written in the quotient: 420 ÷ 4 → 15 instead of 105 (2 < 4 is passed over).",
        remediation: "Rule for every step: each digit brought down produces one quotient digit, even if it is 0; estimate first (400 ÷ 4 = 100) and check 15 × 4 = 60 ≠ 420.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_DIV_PARTIAL_QUOTIENT_TOO_LARGE_G5",
        family: "ARITH_DIV",
        name_es: "Cifra del cociente demasiado grande",
        name_en: "Quotient digit too large",
        severity: Med,
        grade: Some(5),
        description: "A quotient digit is one too large, so its product exceeds the partial dividend and the negative remainder goes unnoticed: 84 ÷ 4 → 22 (4 ÷ 4 taken as 2).",
        remediation: "After each quotient digit, have the student write the product and subtract: if the product is larger than what is being divided, the digit must go down; check with 22 × 4 = 88 > 84.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_DIV_REMAINDER_GE_DIVISOR_G4",
        family: "ARITH_DIV",
        name_es: "Resto mayor o igual que el divisor",
        name_en: "Remainder not less than the divisor",
        severity: Med,
        grade: Some(4),
        description: "A quotient digit is one too small, leaving a remainder equal to or larger than the divisor: 96 ÷ 8 → 11 (16 ÷ 8 taken as 1, remainder 8).",
        remediation: "Make comparing the remainder with the divisor an explicit step after each subtraction: if the remainder is at least the divisor, another group fits and the quotient digit goes up by one.",
        parent: None,
    },
    // ── Transversal arithmetic errors (any operation) ───────────────────────────────────────
    ErrorTag {
        code: "ARITH_TRANSV_DIGIT_TRANSPOSITION",
        family: "ARITH",
        name_es: "Transposición de dígitos",
        name_en: "Digit transposition",
        severity: Low,
        grade: None,
        description: "The right digits are written in the wrong order: 27 → 72 (53 − 26 answered 72).",
        remediation: "Have the student read the answer back aloud and compare it with an estimate; if it recurs, check for a writing-direction or visual-processing difficulty.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_TRANSV_PLACE_VALUE_ERROR",
        family: "ARITH",
        name_es: "Error de valor posicional",
        name_en: "Place-value error",
        severity: Med,
        grade: None,
        description: "The digits are right but the result is off by a factor of 10 or 100: 53 − 26 → 270 (or 2,7) instead of 27.",
        remediation: "Ask for an estimate before computing and compare (about 50 − 30 = 20, so 270 is too large); use squared paper so each digit stays in its column.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_TRANSV_FACT_ERROR",
        family: "ARITH",
        name_es: "Error en hecho básico",
        name_en: "Basic fact error",
        severity: Low,
        grade: None,
        description: "The procedure is right but one basic fact is off by 1 or 2 in a single column: 38 + 27 → 64 (8 + 7 taken as 14).",
        remediation: "Point the student to the faulty column and have them recheck that fact; if the same facts keep failing, give short targeted fact practice with a derivation strategy (8 + 7 = 8 + 2 + 5).",
        parent: None,
    },
    // ── FRACT_ADDSUB: adding and subtracting fractions ──────────────────────────────────────
    ErrorTag {
        code: "FRACT_ADDSUB_SUM_NUMERATOR_AND_DENOMINATOR_G5",
        family: "FRACT_ADDSUB",
        name_es: "Suma numeradores y denominadores por separado",
        name_en: "Adds numerators and denominators separately",
        severity: High,
        grade: Some(5),
        description: "Numerators are added together and denominators together, treating a fraction as two whole numbers: 1/2 + 1/3 → 2/5.",
        remediation: "Show with fraction strips or a number line that 2/5 is smaller than 1/2 alone, so it cannot be the sum; then rebuild addition as counting same-size parts (3/6 + 2/6).",
        parent: None,
    },
    ErrorTag {
        code: "FRACT_ADDSUB_IMPROPER_NOT_REDUCED_G5",
        family: "FRACT_ADDSUB",
        name_es: "Fracción impropia sin reducir",
        name_en: "Improper fraction not reduced",
        severity: Low,
        grade: Some(5),
        description: "The result is left as an unreduced improper fraction, or only its numerator is given: 5/2 + 1/2 = 6/2 answered 6 (or 6/2) instead of 3.",
        remediation: "Ask how many wholes 6/2 is (six halves make three wholes) and make \"simplify and write as a whole or mixed number\" the last step of every sum.",
        parent: None,
    },
    ErrorTag {
        code: "FRACT_ADDSUB_INVERTED_FRACTION_G5",
        family: "FRACT_ADDSUB",
        name_es: "Fracción invertida",
        name_en: "Inverted fraction",
        severity: Med,
        grade: Some(5),
        description: "The answer is the reciprocal of the correct one, numerator and denominator swapped: 1/4 + 2/4 → 4/3.",
        remediation: "Have the student say what the result means (\"3 parts of size one quarter\") and compare it with 1: 1/4 + 2/4 is less than a whole, so 4/3 is impossible.",
        parent: None,
    },
    ErrorTag {
        code: "FRACT_ADDSUB_WHOLE_NUMBER_LOST_G5",
        family: "FRACT_ADDSUB",
        name_es: "Parte entera perdida",
        name_en: "Whole part lost",
        severity: High,
        grade: Some(5),
        description: "The whole part of a mixed number is dropped and only the fractional parts are operated on: 2 1/4 + 1/2 → 3/4 instead of 2 3/4.",
        remediation: "Represent the mixed number with concrete wholes plus a part, and have the student write it as whole + fraction (2 + 1/4) before operating; an estimate (\"a bit more than 2\") catches the loss.",
        parent: None,
    },
    // ── FRACT_MUL / FRACT_DIV ───────────────────────────────────────────────────────────────
    ErrorTag {
        code: "FRACT_MUL_CROSS_MULTIPLIES_G6",
        family: "FRACT_MUL",
        name_es: "Multiplicación cruzada de fracciones",
        name_en: "Cross-multiplies fractions",
        severity: Med,
        grade: Some(6),
        description: "Each numerator is multiplied by the other fraction's denominator, mixing up the rule with cross-multiplication: 2/3 × 4/5 → 10/12 instead of 8/15.",
        remediation: "Use the area model (2/3 of 4/5 of a rectangle) to justify numerator × numerator over denominator × denominator, and state when cross products are used (comparing fractions, checking proportions).",
        parent: None,
    },
    ErrorTag {
        code: "FRACT_DIV_NO_RECIPROCAL_G7",
        family: "FRACT_DIV",
        name_es: "División sin invertir el divisor",
        name_en: "Divides without taking the reciprocal",
        severity: Med,
        grade: Some(7),
        description: "Fractions are multiplied straight across without inverting the divisor: 2/3 ÷ 4/5 → 8/15 instead of 10/12 = 5/6.",
        remediation: "Ask \"how many 4/5 fit in 2/3?\" with a number line (a bit less than one), then justify multiplying by 5/4; have the student write the rewritten product before computing.",
        parent: None,
    },
    ErrorTag {
        code: "FRACT_DIV_INVERTS_FIRST_FRACTION_G7",
        family: "FRACT_DIV",
        name_es: "Invierte la primera fracción",
        name_en: "Inverts the first fraction",
        severity: Med,
        grade: Some(7),
        description: "The dividend is inverted instead of the divisor: 2/3 ÷ 4/5 → 3/2 × 4/5 = 12/10 instead of 2/3 × 5/4 = 10/12.",
        remediation: "Link the rule to its meaning (dividing by 4/5 is multiplying by 5/4, the number being divided stays) and check with the inverse: quotient × 4/5 must give back 2/3.",
        parent: None,
    },
    // ── INT_ADD / INT_SUB / INT_MUL: integers ───────────────────────────────────────────────
    ErrorTag {
        code: "INT_ADD_SAME_SIGN_SUBTRACTS_G7",
        family: "INT_ADD",
        name_es: "Resta valores absolutos con igual signo",
        name_en: "Subtracts magnitudes with like signs",
        severity: High,
        grade: Some(7),
        description: "Two numbers with the same sign are combined by subtracting their absolute values: −3 + (−5) → −2 instead of −8.",
        remediation: "Use a debts or number-line model: owing 3 and then owing 5 means owing 8; state the rule as \"same sign: add the absolute values and keep the sign\".",
        parent: None,
    },
    ErrorTag {
        code: "INT_ADD_DIFF_SIGN_ADDS_MAGNITUDES_G7",
        family: "INT_ADD",
        name_es: "Suma valores absolutos con distinto signo",
        name_en: "Adds magnitudes with unlike signs",
        severity: High,
        grade: Some(7),
        description: "Two numbers with different signs are combined by adding their absolute values: −3 + 5 → 8 instead of 2.",
        remediation: "Model with two-colour counters: each positive–negative pair cancels out, so −3 + 5 leaves 2 positives; state the rule as \"different signs: subtract the absolute values\".",
        parent: None,
    },
    ErrorTag {
        code: "INT_ADD_KEEPS_WRONG_SIGN_G7",
        family: "INT_ADD",
        name_es: "Signo del resultado incorrecto",
        name_en: "Wrong sign kept",
        severity: Med,
        grade: Some(7),
        description: "The magnitude is right but the result takes the wrong sign, typically the first addend's instead of the one with the larger absolute value: −3 + 5 → −2 instead of 2.",
        remediation: "Before computing, have the student mark which number has the larger absolute value and write its sign first; check on a number line (from −3, five steps right).",
        parent: None,
    },
    ErrorTag {
        code: "INT_SUB_DOUBLE_NEGATIVE_NOT_APPLIED_G7",
        family: "INT_SUB",
        name_es: "Doble signo negativo no aplicado",
        name_en: "Double negative not applied",
        severity: High,
        grade: Some(7),
        description: "Subtracting a negative is treated as subtracting a positive: 5 − (−3) → 2 instead of 8.",
        remediation: "Rewrite every subtraction as adding the opposite, 5 − (−3) = 5 + 3, and show it as a distance on the number line (from −3 up to 5 is 8 steps); a removed debt is a gain.",
        parent: None,
    },
    ErrorTag {
        code: "INT_SUB_AS_ADD_SIGN_ERROR_G7",
        family: "INT_SUB",
        name_es: "Resta convertida en suma sin opuesto",
        name_en: "Subtraction turned into addition without the opposite",
        severity: Med,
        grade: Some(7),
        description: "The subtraction is rewritten as an addition but the subtrahend keeps its sign: 7 − 3 → 7 + 3 = 10 instead of 7 + (−3) = 4.",
        remediation: "Make the two changes explicit and written: minus becomes plus AND the second number becomes its opposite; check with the inverse, 10 + 3 ≠ 7.",
        parent: None,
    },
    ErrorTag {
        code: "INT_SIGN_NEG_TIMES_NEG_IS_NEG_G7",
        family: "INT_MUL",
        name_es: "Negativo por negativo da negativo",
        name_en: "Negative times negative is negative",
        severity: High,
        grade: Some(7),
        description: "The product of two negatives is given as negative, often by carrying over the addition rule \"same sign, keep the sign\": (−4) · (−6) → −24.",
        remediation: "Derive the rule from a pattern: (−4)·2 = −8, (−4)·1 = −4, (−4)·0 = 0, so (−4)·(−1) = 4; then contrast the sign rules of addition and multiplication side by side.",
        parent: None,
    },
    ErrorTag {
        code: "INT_SIGN_NEG_TIMES_POS_IS_POS_G7",
        family: "INT_MUL",
        name_es: "Negativo por positivo da positivo",
        name_en: "Negative times positive is positive",
        severity: Med,
        grade: Some(7),
        description: "The product of a negative and a positive is given as positive, or the minus sign is simply dropped: (−4) · 6 → 24.",
        remediation: "Read (−4) · 6 as six debts of 4 (−4 added six times) and have the student decide the sign before multiplying the absolute values.",
        parent: None,
    },
    // ── DEC_*: decimals ─────────────────────────────────────────────────────────────────────
    ErrorTag {
        code: "DEC_ADD_RIGHT_ALIGNED_LIKE_INTEGERS_G5",
        family: "DEC_ADD",
        name_es: "Decimales alineados a la derecha como enteros",
        name_en: "Decimals right-aligned like whole numbers",
        severity: High,
        grade: Some(5),
        description: "Digits are aligned on the right as in whole-number addition instead of on the decimal comma: 2,5 + 1,25 → 1,50 (25 + 125 = 150).",
        remediation: "Write both numbers in a place-value chart with tenths and hundredths columns, filling with 0 (2,50 + 1,25); estimate first (about 2 + 1 = 3) to catch results that are too small.",
        parent: None,
    },
    ErrorTag {
        code: "DEC_SUB_MISALIGNED_POINTS_G5",
        family: "DEC_SUB",
        name_es: "Comas decimales desalineadas",
        name_en: "Decimal commas misaligned",
        severity: High,
        grade: Some(5),
        description: "The numbers are aligned on their last digit instead of the decimal comma: 5,25 − 1,5 → 5,10 (computed as 5,25 − 0,15).",
        remediation: "Have the student write 1,5 as 1,50 so both have the same number of decimals, align the commas vertically, and say what each digit is worth (1 unit, 5 tenths).",
        parent: None,
    },
    ErrorTag {
        code: "DEC_MUL_POINT_PLACEMENT_ERROR_G6",
        family: "DEC_MUL",
        name_es: "Coma mal ubicada en el producto",
        name_en: "Decimal comma misplaced in the product",
        severity: Med,
        grade: Some(6),
        description: "The product's digits are right but the comma is omitted or placed as in addition: 0,3 × 0,2 → 6 or 0,6 instead of 0,06.",
        remediation: "Use fractions to justify the rule (3/10 × 2/10 = 6/100), so the product has as many decimals as both factors together; estimate that the product of two numbers below 1 is smaller than each.",
        parent: None,
    },
    ErrorTag {
        code: "DEC_MUL_BY_POWER_TEN_POINT_WRONG_DIRECTION_G6",
        family: "DEC_MUL",
        name_es: "Coma desplazada en sentido contrario",
        name_en: "Comma moved the wrong way",
        severity: High,
        grade: Some(6),
        description: "Multiplying by 0,1, 0,01, … moves the comma to the right, as multiplying by 10 would, from the belief that multiplication always makes larger: 3,5 × 0,1 → 35 instead of 0,35.",
        remediation: "Read × 0,1 as \"one tenth of\" (3,5 × 0,1 = 3,5 : 10) and ask whether the result should be larger or smaller than 3,5; contrast ×10 and ×0,1 on a place-value chart.",
        parent: None,
    },
    ErrorTag {
        code: "DEC_DIV_DIVISOR_DECIMAL_NOT_SHIFTED_G6",
        family: "DEC_DIV",
        name_es: "Divisor decimal sin convertir a entero",
        name_en: "Decimal divisor not converted to a whole number",
        severity: High,
        grade: Some(6),
        description: "The comma of a decimal divisor is ignored instead of multiplying dividend and divisor by the same power of ten: 6 : 0,2 → 3 (6 : 2) instead of 60 : 2 = 30.",
        remediation: "Ask how many 0,2 fit in 6 (five in each unit, so 30) to show that dividing by a number below 1 gives more; then practise the equivalent division 6 : 0,2 = 60 : 2.",
        parent: None,
    },
    ErrorTag {
        code: "DEC_DIV_POINT_IGNORED_G6",
        family: "DEC_DIV",
        name_es: "Coma ignorada en el cociente",
        name_en: "Decimal comma ignored in the quotient",
        severity: Med,
        grade: Some(6),
        description: "The dividend's comma is ignored and the quotient is given as a whole number: 1,2 : 4 → 3 instead of 0,3.",
        remediation: "Have the student place the comma in the quotient as soon as the division reaches the dividend's comma, and estimate first (1,2 shared among 4 is less than 1).",
        parent: None,
    },
    // ── RATIO_*: percentages and proportions ────────────────────────────────────────────────
    ErrorTag {
        code: "RATIO_PERCENT_DIVIDE_BY_PERCENT_G7",
        family: "RATIO_PERCENT",
        name_es: "Divide por el porcentaje",
        name_en: "Divides by the percentage",
        severity: High,
        grade: Some(7),
        description: "The quantity is divided by the percentage number instead of taking that many hundredths of it: 15% de 200 → 200 : 15 ≈ 13,3 instead of 30.",
        remediation: "Read 15% as 15 out of every 100: with a 100-grid or a double number line (100 → 15, 200 → 30), then write it as 15/100 × 200; check that 10% of 200 is 20, so 15% must be a little more.",
        parent: None,
    },
    ErrorTag {
        code: "RATIO_PERCENT_DECIMAL_SHIFT_ERROR_G7",
        family: "RATIO_PERCENT",
        name_es: "Porcentaje mal convertido a decimal",
        name_en: "Percentage converted to the wrong decimal",
        severity: Med,
        grade: Some(7),
        description: "The percentage is converted to a decimal with the comma in the wrong place: 15% de 200 → 3 (uses 0,015 instead of 0,15).",
        remediation: "Anchor with benchmarks (10% of 200 is 20, 1% is 2) so the student can judge the size of the result, and practise 15% = 15/100 = 0,15 explicitly.",
        parent: None,
    },
    ErrorTag {
        code: "RATIO_PROPORTION_ADDITIVE_STRATEGY_G7",
        family: "RATIO_PROPORTION",
        name_es: "Estrategia aditiva en proporciones",
        name_en: "Additive strategy in proportions",
        severity: High,
        grade: Some(7),
        description: "The difference between the terms is kept instead of the ratio: 2 : 4 = 3 : x → 5 (4 is 2 more than 2, so x is 2 more than 3) instead of 6.",
        remediation: "Use a ratio table or a recipe context (2 cups of flour for 4 eggs) to show that the quantities scale by multiplying; test the additive answer with an extreme case (2 : 4 = 100 : 102?).",
        parent: None,
    },
    ErrorTag {
        code: "RATIO_PROPORTION_CROSS_PRODUCT_ERROR_G7",
        family: "RATIO_PROPORTION",
        name_es: "Error en el producto cruzado",
        name_en: "Cross-product error",
        severity: Med,
        grade: Some(7),
        description: "The wrong pair of terms is multiplied when solving by cross products: 2 : 4 = 3 : x → x = 2 · 3 : 4 = 1,5 instead of 4 · 3 : 2 = 6.",
        remediation: "Have the student write the equation 2 · x = 4 · 3 before solving, and check the answer by substituting it back (2 : 4 should equal 3 : 6).",
        parent: None,
    },
    // ── ALGEBRA_EQ_LINEAR: linear equations ─────────────────────────────────────────────────
    ErrorTag {
        code: "ALGEBRA_EQ_LINEAR_SIGN_FLIP_TRANSPOSE_G8",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "Transposición sin cambio de signo",
        name_en: "Term moved without changing its sign",
        severity: Med,
        grade: Some(8),
        description: "A term is moved to the other side keeping its sign: 2x + 3 = 11 → 2x = 11 + 3 → x = 7 instead of 4.",
        remediation: "Replace \"move it across\" with doing the same operation to both sides (subtract 3 from each side) using a balance model, and substitute the answer back to check (2 · 7 + 3 ≠ 11).",
        parent: Some("ALGEBRA_EQ_LINEAR_TRANSPOSE_NO_SIGN_CHANGE_G8"),
    },
    ErrorTag {
        code: "ALGEBRA_EQ_LINEAR_DIVIDES_ONE_TERM_G8",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "Divide solo un término",
        name_en: "Divides only one term",
        severity: High,
        grade: Some(8),
        description: "The coefficient divides only one term of a side instead of the whole side: 2x + 3 = 11 → x = 11/2 − 3 = 2,5 instead of 4.",
        remediation: "Have the student isolate 2x completely before dividing, and when dividing a sum show with brackets that every term is divided: (2x + 3) : 2 = x + 3/2.",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_EQ_LINEAR_SUBTRACTS_COEFFICIENT_G8",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "Resta el coeficiente en vez de dividir",
        name_en: "Subtracts the coefficient instead of dividing",
        severity: High,
        grade: Some(8),
        description: "The coefficient is removed by subtraction, as if 2x meant 2 + x: 2x = 8 → x = 6 instead of 4.",
        remediation: "Read 2x aloud as \"2 times x\" and undo it with the inverse operation, division; substitute to check (2 · 6 = 12 ≠ 8).",
        parent: Some("ALGEBRA_EQ_LINEAR_DIVISION_AS_SUBTRACTION_G7"),
    },
    ErrorTag {
        code: "ALGEBRA_EQ_LINEAR_MULTIPLIES_BY_COEFFICIENT_G8",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "Multiplica por el coeficiente en vez de dividir",
        name_en: "Multiplies by the coefficient instead of dividing",
        severity: High,
        grade: Some(8),
        description: "The coefficient is moved to the other side with the wrong inverse operation: 3x = 12 → x = 36 instead of 4.",
        remediation: "Ask what is done to x (it is multiplied by 3) and undo it with the opposite operation; substitute to check (3 · 36 ≠ 12).",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_EQ_LINEAR_COEFFICIENT_NOT_DIVIDED_G8",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "No divide por el coeficiente",
        name_en: "Coefficient not divided out",
        severity: Med,
        grade: Some(8),
        description: "The work stops one step early: 3x + 5 = 20 → 3x = 15 is written as x = 15, the coefficient of the unknown dropped.",
        remediation: "Have the student say what is left on the unknown's side before writing the answer (3x, not x) and check by substitution.",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_EQ_LINEAR_DISTRIBUTES_FIRST_TERM_ONLY_G8",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "Distribución incompleta",
        name_en: "Distributes over the first term only",
        severity: Med,
        grade: Some(8),
        description: "The factor multiplies only the first term inside the brackets: 2(x + 3) → 2x + 3 instead of 2x + 6.",
        remediation: "Use the area model (a 2 by (x + 3) rectangle has two parts, 2x and 6) and have the student draw an arrow from the factor to every term before writing the product.",
        parent: Some("ALGEBRA_EQ_LINEAR_DISTRIBUTE_OMITS_TERM_G8"),
    },
    ErrorTag {
        code: "ALGEBRA_EQ_LINEAR_COMBINES_UNLIKE_TERMS_G8",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "Reduce términos no semejantes",
        name_en: "Combines unlike terms",
        severity: High,
        grade: Some(8),
        description: "A variable term and a constant are added into one term: 2x + 3 → 5x.",
        remediation: "Substitute a value to test the simplification (x = 2: 2x + 3 = 7 but 5x = 10), and sort terms by kind with algebra tiles or colours before reducing.",
        parent: Some("ALGEBRA_EQ_LINEAR_VARS_NOT_GROUPED_G8"),
    },
    // ── POW_*: powers and roots ─────────────────────────────────────────────────────────────
    ErrorTag {
        code: "POW_POWER_PRODUCT_MULTIPLIES_EXPONENTS_G8",
        family: "POW_POWER",
        name_es: "Multiplica exponentes en un producto de potencias",
        name_en: "Multiplies exponents in a product of powers",
        severity: Med,
        grade: Some(8),
        description: "Powers of the same base are multiplied by multiplying the exponents: 2³ · 2² → 2⁶ = 64 instead of 2⁵ = 32.",
        remediation: "Expand both powers, (2·2·2)·(2·2), and count the factors: five 2s; have the student derive the rule a^m · a^n = a^(m+n) from a few such expansions.",
        parent: None,
    },
    ErrorTag {
        code: "POW_POWER_OF_POWER_ADDS_EXPONENTS_G8",
        family: "POW_POWER",
        name_es: "Suma exponentes en potencia de potencia",
        name_en: "Adds exponents in a power of a power",
        severity: Med,
        grade: Some(8),
        description: "A power raised to a power gets the sum of the exponents: (2³)² → 2⁵ = 32 instead of 2⁶ = 64.",
        remediation: "Expand (2³)² as 2³ · 2³, which is 2·2·2 twice, six factors; contrast it with 2³ · 2² in the same exercise so the student tells the two rules apart.",
        parent: None,
    },
    ErrorTag {
        code: "POW_POWER_QUOTIENT_DIVIDES_EXPONENTS_G8",
        family: "POW_POWER",
        name_es: "Divide exponentes en un cociente de potencias",
        name_en: "Divides exponents in a quotient of powers",
        severity: Med,
        grade: Some(8),
        description: "Powers of the same base are divided by dividing the exponents: 2⁶ : 2³ → 2² = 4 instead of 2³ = 8.",
        remediation: "Write the quotient as a fraction with the factors expanded and cancel pairs: six 2s over three 2s leaves three; derive a^m : a^n = a^(m−n).",
        parent: None,
    },
    ErrorTag {
        code: "POW_POWER_ZERO_EXPONENT_EQUALS_ZERO_G8",
        family: "POW_POWER",
        name_es: "Exponente cero da cero",
        name_en: "Zero exponent gives zero",
        severity: High,
        grade: Some(8),
        description: "A power with exponent 0 is taken to be 0: 5⁰ → 0 instead of 1.",
        remediation: "Follow the pattern 5³ = 125, 5² = 25, 5¹ = 5, each step dividing by 5, so 5⁰ = 1; or use the quotient rule on 5² : 5² = 1.",
        parent: None,
    },
    ErrorTag {
        code: "POW_POWER_BASE_TIMES_EXPONENT_G7",
        family: "POW_POWER",
        name_es: "Multiplica base por exponente",
        name_en: "Multiplies base by exponent",
        severity: High,
        grade: Some(7),
        description: "The power is computed as base × exponent: 2³ → 6 instead of 8.",
        remediation: "Have the student always write the power as repeated multiplication before computing (2³ = 2 · 2 · 2), and contrast 3 · 2 with 2³ and 2 · 2 · 2 side by side.",
        parent: None,
    },
    ErrorTag {
        code: "POW_ROOT_OF_SUM_DISTRIBUTES_G9",
        family: "POW_ROOT",
        name_es: "Raíz distribuida sobre una suma",
        name_en: "Root distributed over a sum",
        severity: High,
        grade: Some(9),
        description: "The square root of a sum is taken term by term: √(9 + 16) → 3 + 4 = 7 instead of √25 = 5.",
        remediation: "Check the claim numerically (7² = 49 ≠ 25) and insist on evaluating inside the radical first; contrast with √(9 · 16) = 3 · 4, where splitting is valid.",
        parent: None,
    },
    ErrorTag {
        code: "POW_ROOT_SQUARE_ROOT_HALVES_RADICAND_G8",
        family: "POW_ROOT",
        name_es: "Raíz cuadrada como mitad",
        name_en: "Square root taken as half",
        severity: High,
        grade: Some(8),
        description: "The square root is computed as half of the radicand: √16 → 8 instead of 4.",
        remediation: "Define the root by its check, \"which number times itself gives 16?\" (8 · 8 = 64), and use a square of 16 tiles whose side is 4.",
        parent: None,
    },
    // ── Algebra and order of operations checked step by step (cas::assess) ────────────────
    ErrorTag {
        code: "ALGEBRA_EXPR_SIGN_LOST_PARENTHESES_G7",
        family: "ALGEBRA_EXPR",
        name_es: "Signo perdido al eliminar paréntesis",
        name_en: "Sign lost when removing parentheses",
        severity: Med,
        grade: Some(7),
        description: "A minus sign in front of a bracket changes only the first term inside it: 10 − (x + 3) → 10 − x + 3 instead of 10 − x − 3; also −2(x − 4) → −2x − 8.",
        remediation: "Rewrite −(x + 3) as −1 · (x + 3) and distribute the −1 to every term with arrows; check by substituting a value (x = 1: 10 − 4 = 6, but 10 − 1 + 3 = 12).",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_EXPR_SQUARE_OF_SUM_G9",
        family: "ALGEBRA_EXPR",
        name_es: "Cuadrado de binomio como suma de cuadrados",
        name_en: "Square of a sum taken as the sum of squares",
        severity: High,
        grade: Some(9),
        description: "A power is distributed over a sum: (x + 3)² → x² + 9 instead of x² + 6x + 9; (a − b)² → a² − b².",
        remediation: "Draw the square of side x + 3 and its four pieces (x², two 3x rectangles, 9); test with numbers: (2 + 3)² = 25 but 2² + 3² = 13.",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_EXPR_CANCELS_TERMS_ACROSS_FRACTION_G8",
        family: "ALGEBRA_EXPR",
        name_es: "Simplifica términos de una suma en una fracción",
        name_en: "Cancels terms across a fraction",
        severity: High,
        grade: Some(8),
        description: "A term of a sum is cancelled with the denominator, or only one term is divided: (x + 3)/3 → x, (x + 6)/3 → x + 2, (x + 2)/(x + 5) → 2/5.",
        remediation: "Only factors cancel: write (x + 6)/3 as x/3 + 6/3 and check with a number (x = 3: 9/3 = 3, but 3 + 2 = 5).",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_ORDER_OPS_LEFT_TO_RIGHT_G6",
        family: "ARITH_ORDER_OPS",
        name_es: "Operaciones de izquierda a derecha sin prioridad",
        name_en: "Order of operations ignored (left to right)",
        severity: High,
        grade: Some(6),
        description: "The operations are done in the order they are written, ignoring that multiplication and division come before addition and subtraction: 3 + 4 · 2 → 14 instead of 11.",
        remediation: "Have the student underline the products and quotients first and compute them before any sum; contrast 3 + 4 · 2 with (3 + 4) · 2 and ask what the parentheses are for.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_ORDER_OPS_PEMDAS_LITERAL_G6",
        family: "ARITH_ORDER_OPS",
        name_es: "Multiplica antes de dividir, suma antes de restar",
        name_en: "Multiplication before division, addition before subtraction",
        severity: Med,
        grade: Some(6),
        description: "A priority mnemonic is read literally: every multiplication before any division and every addition before any subtraction: 12 : 2 · 3 → 2 instead of 18; 10 − 3 + 2 → 5 instead of 9.",
        remediation: "Multiplication and division have the same priority, as do addition and subtraction: within a level, go from left to right. Compare 10 − 3 + 2 with the number line.",
        parent: None,
    },
    ErrorTag {
        code: "ARITH_ORDER_OPS_NEGATIVE_BASE_SQUARED_G7",
        family: "ARITH_ORDER_OPS",
        name_es: "El signo menos se eleva con la base",
        name_en: "Minus sign raised with the power",
        severity: Med,
        grade: Some(7),
        description: "The power is applied to the minus sign too: −3² → 9 instead of −9 (only (−3)² is 9).",
        remediation: "Read −3² as \"the opposite of 3²\" and write it as −(3²); contrast with (−3)² = (−3) · (−3).",
        parent: None,
    },
    ErrorTag {
        code: "RATIO_PERCENT_WRONG_BASE_G7",
        family: "RATIO_PERCENT",
        name_es: "Porcentaje sobre la base equivocada",
        name_en: "Percent of the wrong base",
        severity: High,
        grade: Some(7),
        description: "The percentage is taken of the wrong quantity: a price of 40 after a 20% discount gives 40 + 20% of 40 = 48 instead of 50 (the discount was on the original price); p% of the part instead of the whole.",
        remediation: "Ask \"20% of what?\" before computing and draw the bar of the original quantity as 100%; check the answer by applying the percentage back (50 − 20% of 50 = 40).",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_EQ_QUADRATIC_ROOT_LOST_G10",
        family: "ALGEBRA_EQ_QUADRATIC",
        name_es: "Pierde una solución de la ecuación cuadrática",
        name_en: "A root of the quadratic lost",
        severity: Med,
        grade: Some(10),
        description: "Only one of the two solutions is given: x² = 9 → x = 3 (forgets −3); x² = 3x → x = 3 (divides by x and loses x = 0).",
        remediation: "Write √(x²) = |x| and solve |x| = 3; never divide by an expression that may be zero: factor x(x − 3) = 0 instead; check how many solutions the discriminant predicts.",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_EQ_QUADRATIC_FORMULA_SIGN_G10",
        family: "ALGEBRA_EQ_QUADRATIC",
        name_es: "Error de signo en la fórmula general",
        name_en: "Sign error in the quadratic formula",
        severity: Med,
        grade: Some(10),
        description: "The −b of the formula is written as b: x² − 5x + 6 = 0 → x = (−5 ± 1)/2, giving −2 and −3 instead of 2 and 3.",
        remediation: "Write a, b and c with their signs before substituting, put b in parentheses (−(−5) = 5) and check one root in the equation.",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_INEQ_LINEAR_NOT_FLIPPED_G8",
        family: "ALGEBRA_INEQ_LINEAR",
        name_es: "No invierte la desigualdad al dividir por un negativo",
        name_en: "Inequality not reversed when dividing by a negative",
        severity: High,
        grade: Some(8),
        description: "Both sides are divided (or multiplied) by a negative number and the inequality keeps its direction: −2x > 8 → x > −4 instead of x < −4.",
        remediation: "Test a value: x = 0 satisfies x > −4 but not −2x > 8; show on the number line that multiplying by −1 mirrors the order (2 < 3 but −2 > −3).",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_SYSTEM_LINEAR_VALUES_SWAPPED_G9",
        family: "ALGEBRA_SYSTEM_LINEAR",
        name_es: "Valores de las incógnitas intercambiados",
        name_en: "Values of the unknowns swapped",
        severity: Low,
        grade: Some(9),
        description: "The system is solved but each value is written against the other unknown: x + y = 5, x − y = 1 answered x = 2, y = 3 instead of x = 3, y = 2.",
        remediation: "Write each value as soon as it is found next to its unknown, and check the pair in both equations (2 − 3 ≠ 1).",
        parent: None,
    },
    ErrorTag {
        code: "ALGEBRA_SYSTEM_LINEAR_SUBSTITUTION_SIGN_G9",
        family: "ALGEBRA_SYSTEM_LINEAR",
        name_es: "Error de signo al sustituir en un sistema",
        name_en: "Sign error substituting in a system",
        severity: Med,
        grade: Some(9),
        description: "When one unknown is isolated and substituted into the other equation, a term keeps the wrong sign: from x + y = 5 it takes x = 5 + y (or substitutes without brackets, 2x − 5 − x instead of 2x − (5 − x)).",
        remediation: "Isolate by doing the same operation on both sides, put the substituted expression in brackets, and check the pair in both equations.",
        parent: None,
    },
];

/// The catalogue entry for `code`, if it is a known error tag.
pub fn error_tag(code: &str) -> Option<&'static ErrorTag> {
    ERROR_TAGS.iter().find(|t| t.code == code)
}

/// A topic an exercise can declare: either a family code itself or a curriculum topic (`T-*`).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Topic {
    pub code: &'static str,
    /// The family whose procedures diagnose it; a broad family (FRACT, INT, DEC, POW, RATIO)
    /// means the concrete operation is read from the exercise's steps.
    pub family: &'static str,
    pub name_es: &'static str,
    pub name_en: &'static str,
}

pub static TOPICS: &[Topic] = &[
    // One topic per concrete family, coded by the family itself.
    Topic {
        code: "ARITH_ADD",
        family: "ARITH_ADD",
        name_es: "Adición de números naturales",
        name_en: "Whole-number addition",
    },
    Topic {
        code: "ARITH_SUB",
        family: "ARITH_SUB",
        name_es: "Sustracción de números naturales",
        name_en: "Whole-number subtraction",
    },
    Topic {
        code: "ARITH_MUL",
        family: "ARITH_MUL",
        name_es: "Multiplicación de números naturales",
        name_en: "Whole-number multiplication",
    },
    Topic {
        code: "ARITH_DIV",
        family: "ARITH_DIV",
        name_es: "División de números naturales",
        name_en: "Whole-number division",
    },
    Topic {
        code: "FRACT_ADDSUB",
        family: "FRACT_ADDSUB",
        name_es: "Adición y sustracción de fracciones",
        name_en: "Adding and subtracting fractions",
    },
    Topic {
        code: "FRACT_MUL",
        family: "FRACT_MUL",
        name_es: "Multiplicación de fracciones",
        name_en: "Multiplying fractions",
    },
    Topic {
        code: "FRACT_DIV",
        family: "FRACT_DIV",
        name_es: "División de fracciones",
        name_en: "Dividing fractions",
    },
    Topic {
        code: "INT_ADD",
        family: "INT_ADD",
        name_es: "Adición de números enteros",
        name_en: "Adding integers",
    },
    Topic {
        code: "INT_SUB",
        family: "INT_SUB",
        name_es: "Sustracción de números enteros",
        name_en: "Subtracting integers",
    },
    Topic {
        code: "INT_MUL",
        family: "INT_MUL",
        name_es: "Multiplicación de números enteros",
        name_en: "Multiplying integers",
    },
    Topic {
        code: "DEC_ADD",
        family: "DEC_ADD",
        name_es: "Adición de números decimales",
        name_en: "Adding decimals",
    },
    Topic {
        code: "DEC_SUB",
        family: "DEC_SUB",
        name_es: "Sustracción de números decimales",
        name_en: "Subtracting decimals",
    },
    Topic {
        code: "DEC_MUL",
        family: "DEC_MUL",
        name_es: "Multiplicación de números decimales",
        name_en: "Multiplying decimals",
    },
    Topic {
        code: "DEC_DIV",
        family: "DEC_DIV",
        name_es: "División de números decimales",
        name_en: "Dividing decimals",
    },
    Topic {
        code: "RATIO_PERCENT",
        family: "RATIO_PERCENT",
        name_es: "Porcentajes",
        name_en: "Percentages",
    },
    Topic {
        code: "RATIO_PROPORTION",
        family: "RATIO_PROPORTION",
        name_es: "Proporcionalidad directa",
        name_en: "Direct proportion",
    },
    Topic {
        code: "ALGEBRA_EQ_LINEAR",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "Ecuaciones lineales",
        name_en: "Linear equations",
    },
    Topic {
        code: "POW_POWER",
        family: "POW_POWER",
        name_es: "Potencias",
        name_en: "Powers",
    },
    Topic {
        code: "POW_ROOT",
        family: "POW_ROOT",
        name_es: "Raíces cuadradas",
        name_en: "Square roots",
    },
    // Problem kinds of the step-by-step checker (cas::assess) and the ad-hoc solver.
    Topic {
        code: "ARITH_ORDER_OPS",
        family: "ARITH_ORDER_OPS",
        name_es: "Prioridad de las operaciones",
        name_en: "Order of operations",
    },
    Topic {
        code: "ALGEBRA_EXPR",
        family: "ALGEBRA_EXPR",
        name_es: "Reducción de expresiones algebraicas",
        name_en: "Simplifying algebraic expressions",
    },
    Topic {
        code: "ALGEBRA_EQ_QUADRATIC",
        family: "ALGEBRA_EQ_QUADRATIC",
        name_es: "Ecuaciones cuadráticas",
        name_en: "Quadratic equations",
    },
    Topic {
        code: "ALGEBRA_INEQ_LINEAR",
        family: "ALGEBRA_INEQ_LINEAR",
        name_es: "Inecuaciones lineales",
        name_en: "Linear inequalities",
    },
    Topic {
        code: "ALGEBRA_SYSTEM_LINEAR",
        family: "ALGEBRA_SYSTEM_LINEAR",
        name_es: "Sistemas de ecuaciones lineales",
        name_en: "Systems of linear equations",
    },
    Topic {
        code: "ADHOC",
        family: "ADHOC",
        name_es: "Problema sin guía",
        name_en: "Ad-hoc problem",
    },
    // Curriculum topics.
    Topic {
        code: "T-SUB-BORROW",
        family: "ARITH_SUB",
        name_es: "Resta con reserva",
        name_en: "Subtraction with borrowing",
    },
    Topic {
        code: "T-ADD-CARRY",
        family: "ARITH_ADD",
        name_es: "Suma con reserva",
        name_en: "Addition with carrying",
    },
    Topic {
        code: "T-MUL",
        family: "ARITH_MUL",
        name_es: "Multiplicación",
        name_en: "Multiplication",
    },
    Topic {
        code: "T-DIV",
        family: "ARITH_DIV",
        name_es: "División",
        name_en: "Division",
    },
    Topic {
        code: "T-FRAC-SAME-DENOM",
        family: "FRACT_ADDSUB",
        name_es: "Fracciones de igual denominador",
        name_en: "Fractions with like denominators",
    },
    Topic {
        code: "T-FRACT",
        family: "FRACT",
        name_es: "Operaciones con fracciones",
        name_en: "Operations with fractions",
    },
    Topic {
        code: "T-INT",
        family: "INT",
        name_es: "Números enteros",
        name_en: "Integers",
    },
    Topic {
        code: "T-DEC",
        family: "DEC",
        name_es: "Números decimales",
        name_en: "Decimals",
    },
    Topic {
        code: "T-POW",
        family: "POW",
        name_es: "Potencias y raíces",
        name_en: "Powers and roots",
    },
    Topic {
        code: "T-RATIO",
        family: "RATIO",
        name_es: "Razones, proporciones y porcentajes",
        name_en: "Ratios, proportions and percentages",
    },
    Topic {
        code: "T-ALG",
        family: "ALGEBRA_EQ_LINEAR",
        name_es: "Ecuaciones de primer grado",
        name_en: "First-degree equations",
    },
];

/// The topic declared by `code`, if it is known.
pub fn topic(code: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The grade encoded in a code's `_G<n>` suffix, if any.
    fn suffix_grade(code: &str) -> Option<u8> {
        let (_, last) = code.rsplit_once('_')?;
        let digits = last.strip_prefix('G')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    #[test]
    fn tag_codes_are_unique() {
        let mut seen = HashSet::new();
        for t in ERROR_TAGS {
            assert!(seen.insert(t.code), "duplicate tag code {}", t.code);
        }
    }

    #[test]
    fn grade_matches_code_suffix() {
        for t in ERROR_TAGS {
            assert_eq!(t.grade, suffix_grade(t.code), "grade of {}", t.code);
        }
    }

    #[test]
    fn tag_families_are_known() {
        let families: HashSet<&str> = TOPICS.iter().map(|t| t.family).collect();
        for t in ERROR_TAGS {
            if t.family.is_empty() {
                assert!(
                    t.code == "CORRECT" || t.code == "UNCLASSIFIED",
                    "{} has no family",
                    t.code
                );
                continue;
            }
            assert!(
                t.family == "ARITH" || families.contains(t.family),
                "{} has unknown family {}",
                t.code,
                t.family
            );
        }
    }

    #[test]
    fn topic_codes_are_unique() {
        let mut seen = HashSet::new();
        for t in TOPICS {
            assert!(seen.insert(t.code), "duplicate topic code {}", t.code);
        }
    }

    #[test]
    fn texts_are_filled_and_parents_differ() {
        for t in ERROR_TAGS {
            for (field, text) in [
                ("name_es", t.name_es),
                ("name_en", t.name_en),
                ("description", t.description),
                ("remediation", t.remediation),
            ] {
                assert!(!text.trim().is_empty(), "{} has an empty {field}", t.code);
            }
            assert_ne!(t.parent, Some(t.code), "{} is its own parent", t.code);
        }
        for t in TOPICS {
            assert!(!t.name_es.is_empty() && !t.name_en.is_empty(), "{}", t.code);
        }
    }

    #[test]
    fn lookups_and_serialization() {
        let tag = error_tag("ARITH_SUB_BORROW_OMITTED_TENS_G3").unwrap();
        assert_eq!(tag.family, "ARITH_SUB");
        assert_eq!(tag.grade, Some(3));
        assert!(error_tag("NOPE").is_none());
        assert_eq!(topic("T-SUB-BORROW").unwrap().family, "ARITH_SUB");
        assert!(topic("NOPE").is_none());

        let json = serde_json::to_value(tag).unwrap();
        assert_eq!(json["severity"], "MED");
        assert_eq!(json["nameEs"], "Borrow omitido — decenas");
        assert_eq!(json["parent"], serde_json::Value::Null);
    }
}
