//! The buggy-procedure library: every misconception the engine knows, as a name (the
//! `errorSubtag`), the family it belongs to, and its prior weight.
//!
//! The weight is the relative base rate of the procedure among the wrong answers of its family
//! when it applies. Procedures that need a special situation (a zero in the minuend, a negative
//! subtrahend, a power of ten) get more weight than general ones: when the situation is there,
//! it is what triggers them. The evaluation generator samples buggy answers with these same
//! weights, which is what makes the confidences calibrated on that set (docs/diagnosis.md).

macro_rules! procedures {
    ($($variant:ident => $name:literal, $weight:literal;)*) => {
        /// One buggy procedure (or slip) of the library.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Proc { $($variant,)* }

        impl Proc {
            pub const ALL: &'static [Proc] = &[$(Proc::$variant,)*];

            /// The `errorSubtag`: the procedure's name in the library.
            pub fn name(self) -> &'static str {
                match self { $(Proc::$variant => $name,)* }
            }

            pub fn weight(self) -> f64 {
                match self { $(Proc::$variant => $weight,)* }
            }

            pub fn from_name(name: &str) -> Option<Proc> {
                Proc::ALL.iter().copied().find(|p| p.name() == name)
            }
        }
    };
}

procedures! {
    // Multi-digit subtraction (Brown & Burton; VanLehn, Mind Bugs).
    SubSmallerFromLarger => "SMALLER-FROM-LARGER", 3.0;
    SubBorrowNoDecrement => "BORROW-NO-DECREMENT", 1.5;
    SubBorrowFromZero => "BORROW-FROM-ZERO", 2.0;
    SubDontDecrementZero => "DONT-DECREMENT-ZERO", 1.5;
    SubBorrowAcrossZero => "BORROW-ACROSS-ZERO", 1.5;
    SubStopsBorrowAtZero => "STOPS-BORROW-AT-ZERO", 0.7;
    SubZeroMinusNIsN => "ZERO-MINUS-N-IS-N", 1.5;
    SubZeroMinusNIsZero => "ZERO-MINUS-N-IS-ZERO", 1.0;
    SubNMinusZeroIsZero => "N-MINUS-ZERO-IS-ZERO", 1.0;
    SubZeroInsteadOfBorrow => "ZERO-INSTEAD-OF-BORROW", 0.7;
    SubAddInsteadOfSubtract => "ADD-INSTEAD-OF-SUBTRACT", 1.0;
    SubSwapped => "SWAPPED", 4.0;
    // Multi-digit addition.
    AddNoCarry => "NO-CARRY", 3.0;
    AddWritesWholeColumnSum => "WRITES-WHOLE-COLUMN-SUM", 1.5;
    AddCarryToWrongColumn => "CARRY-TO-WRONG-COLUMN", 1.0;
    AddCarryAlwaysOneExtra => "CARRY-ALWAYS-ONE-EXTRA", 0.7;
    // Multiplication.
    MulZeroTimesNIsN => "ZERO-TIMES-N-IS-N", 4.0;
    MulAddInstead => "ADD-INSTEAD", 1.5;
    MulPowerOfTenNoZeros => "POWER-OF-TEN-NO-ZEROS", 4.0;
    MulTableRecall => "TABLE-RECALL", 1.5;
    MulPartialNotShifted => "PARTIAL-NOT-SHIFTED", 2.0;
    MulOnlyCorrespondingDigits => "ONLY-CORRESPONDING-DIGITS", 1.0;
    MulCarryAddedBeforeMultiplying => "CARRY-ADDED-BEFORE-MULTIPLYING", 1.0;
    MulCarryIgnored => "CARRY-IGNORED", 1.0;
    // Division.
    DivSwapped => "DIVISOR-DIVIDEND-SWAPPED", 2.0;
    DivQuotientZeroSkipped => "QUOTIENT-ZERO-SKIPPED", 3.0;
    DivPartialQuotientTooLarge => "PARTIAL-QUOTIENT-TOO-LARGE", 1.5;
    DivRemainderGeDivisor => "REMAINDER-GE-DIVISOR", 1.5;
    // Transversal slips of whole-number arithmetic.
    DigitTransposition => "DIGIT-TRANSPOSITION", 1.0;
    PlaceValue => "PLACE-VALUE-SHIFT", 1.0;
    FactError => "BASIC-FACT-SLIP", 1.5;
    // Fractions.
    FracAddNumeratorsAndDenominators => "ADD-NUMERATORS-AND-DENOMINATORS", 3.0;
    FracImproperNotReduced => "IMPROPER-NOT-REDUCED", 1.0;
    FracInverted => "INVERTED-FRACTION", 1.0;
    FracWholeNumberLost => "WHOLE-NUMBER-LOST", 2.0;
    FracCrossMultiplies => "CROSS-MULTIPLIES", 2.0;
    FracNoReciprocal => "NO-RECIPROCAL", 2.0;
    FracInvertsFirst => "INVERTS-FIRST-FRACTION", 1.5;
    // Integers.
    IntSameSignSubtracts => "SAME-SIGN-SUBTRACTS", 1.5;
    IntDiffSignAddsMagnitudes => "DIFF-SIGN-ADDS-MAGNITUDES", 1.5;
    IntKeepsWrongSign => "KEEPS-WRONG-SIGN", 1.5;
    IntDoubleNegativeNotApplied => "DOUBLE-NEGATIVE-NOT-APPLIED", 3.0;
    IntSubAsAdd => "SUBTRACTION-AS-ADDITION", 1.0;
    IntNegTimesNegIsNeg => "NEG-TIMES-NEG-IS-NEG", 2.0;
    IntNegTimesPosIsPos => "NEG-TIMES-POS-IS-POS", 2.0;
    // Decimals.
    DecRightAligned => "RIGHT-ALIGNED-LIKE-INTEGERS", 2.0;
    DecPointPlacement => "POINT-PLACEMENT", 1.5;
    DecPowerOfTenWrongDirection => "POWER-OF-TEN-WRONG-DIRECTION", 3.0;
    DecDivisorNotShifted => "DIVISOR-DECIMAL-NOT-SHIFTED", 2.0;
    DecPointIgnored => "DIVIDEND-POINT-IGNORED", 2.0;
    // Ratio and percent.
    PctDividesByPercent => "DIVIDES-BY-PERCENT", 2.0;
    PctDecimalShift => "PERCENT-DECIMAL-SHIFT", 1.5;
    PropAdditive => "ADDITIVE-STRATEGY", 2.0;
    PropWrongCrossProduct => "WRONG-CROSS-PRODUCT", 1.5;
    // Linear equations.
    EqTransposeWithoutSignChange => "TRANSPOSE-WITHOUT-SIGN-CHANGE", 3.0;
    EqDividesOneTerm => "DIVIDES-ONE-TERM", 1.5;
    EqSubtractsCoefficient => "SUBTRACTS-COEFFICIENT", 1.5;
    EqDistributesFirstTermOnly => "DISTRIBUTES-FIRST-TERM-ONLY", 2.0;
    EqCombinesUnlikeTerms => "COMBINES-UNLIKE-TERMS", 1.5;
    // Powers and roots.
    PowProductMultipliesExponents => "PRODUCT-MULTIPLIES-EXPONENTS", 2.0;
    PowPowerAddsExponents => "POWER-OF-POWER-ADDS-EXPONENTS", 2.0;
    PowQuotientDividesExponents => "QUOTIENT-DIVIDES-EXPONENTS", 2.0;
    PowZeroExponentIsZero => "ZERO-EXPONENT-IS-ZERO", 3.0;
    PowBaseTimesExponent => "BASE-TIMES-EXPONENT", 1.5;
    RootOfSumDistributes => "ROOT-OF-SUM-DISTRIBUTES", 2.0;
    RootHalvesRadicand => "ROOT-HALVES-RADICAND", 1.5;
}
