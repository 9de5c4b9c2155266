/**
 * The {@link dev.easel.api.merge.MergeAlgorithm} SPI: a pure function applied to one tensor key at a time.
 * The engine opens the models, plans the keys, converts every input to float32 {@code NDArray}s, maps block
 * weights to per-key parameter values, runs the algorithm in parallel under a memory budget and writes the result;
 * an algorithm sees only the tensors of one key and its parameters.
 *
 * <p>1.2.0 added {@link dev.easel.api.merge.ElementwiseKernel} with {@code MergeAlgorithm.kernel} (a pure-Java fast
 * path for element-wise methods), {@link dev.easel.api.merge.TensorKernel} with {@code MergeAlgorithm.tensorKernel}
 * (the same for whole-tensor methods) and {@code MergeAlgorithm.checkInputs} (parameter checks that depend on the
 * number of models); all are default methods, so 1.1 plugins keep working unchanged.
 */
@Export
@Version("1.2.0")
package dev.easel.api.merge;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
