/**
 * The synthetic shapes dataset Easel Tiny is trained on (coloured shapes on plain, striped or dotted backgrounds,
 * captioned), and the pixel-statistics check that decides whether a sample shows what its prompt asked for.
 */
package dev.easel.core.synth;
