/**
 * The streaming merge engine: turns a {@link dev.easel.core.merge.MergeRequest} (a recipe graph over model files)
 * into one output file without ever holding a whole model.
 *
 * <p>It exists because the merge tools users know either load every model into RAM (AUTOMATIC1111, SuperMerger:
 * 64 GB for SDXL) or stream without policies for the awkward keys. Planning ({@link dev.easel.core.merge.MergePlanner})
 * opens inputs lazily, reads only headers and rejects every bad input (mismatched architectures, shapes, parameter
 * values, block weights) before a tensor is read; execution ({@link dev.easel.core.merge.MergeExecutor}) streams keys
 * through {@link dev.easel.api.merge.MergeAlgorithm} plugins in parallel under a memory budget, in float32, and
 * writes the output atomically with the recipe in its metadata.
 */
package dev.easel.core.merge;
