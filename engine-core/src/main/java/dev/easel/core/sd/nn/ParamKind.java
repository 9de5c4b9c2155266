package dev.easel.core.sd.nn;

/** What a parameter is, which decides how a random model initialises it. */
public enum ParamKind {
    /** Linear or conv weight: N(0, 1/fan_in). */
    WEIGHT,
    /** Bias: N(0, 0.01²). */
    BIAS,
    /** Norm scale: 1 + N(0, 0.01²). */
    NORM_SCALE,
    /** Norm shift: N(0, 0.01²). */
    NORM_SHIFT,
    /** Token or position embedding: N(0, 0.5²). */
    EMBEDDING,
    /** Integer buffer {@code position_ids}: 0, 1, 2, ... */
    POSITION_IDS
}
