/**
 * Task-vector merges: each model is seen as a base plus a delta ("task vector"), and the deltas are sparsified,
 * sign-reconciled and combined before being added back to the base (task arithmetic, TIES, DARE, DARE-TIES), or
 * the models are averaged robustly (model stock, geometric median). Also SuperMerger's train difference.
 *
 * <p>Every method works on one tensor key at a time, so TIES trims the top-k of each tensor, not of the whole
 * flattened model as the TIES authors' reference code does; this is what mergekit and sd-mecha do too, and what
 * lets the engine stream. Formulas and variants are documented in {@code docs/merging.md}.
 */
package dev.easel.plugins.merge.taskvectors;
