/**
 * Tensors as files hold them: dtype, shape and raw little-endian bytes, read lazily from a
 * {@link dev.easel.api.tensor.TensorSource} and written in a stream to a {@link dev.easel.api.tensor.TensorSink}.
 *
 * <p>This layer never holds a whole model: a source hands out one tensor's bytes at a time (a memory-mapped view
 * where the format allows it), and a sink takes tensors in any order once it knows the full plan, so multi-gigabyte
 * checkpoints are converted and merged with flat memory. Compute happens elsewhere, on DJL {@code NDArray}s.
 */
@Export
@Version("1.1.0")
package dev.easel.api.tensor;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
