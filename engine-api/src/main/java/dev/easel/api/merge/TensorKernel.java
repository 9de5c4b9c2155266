package dev.easel.api.merge;

/**
 * The pure-Java form of a merge method that needs whole tensors (norms, selections, random masks: TIES, DARE,
 * model stock): every input of one key as a float32 array, the result as a float32 array.
 *
 * <p>Why it exists: with it the engine decodes the file bytes straight into Java arrays and encodes the result
 * straight into the output, so a key is held once, as float32, instead of as a libtorch array plus a Java copy.
 *
 * <p>Implementations must be stateless or thread-confined: the engine calls one kernel from several threads at once.
 */
@FunctionalInterface
public interface TensorKernel {
    /**
     * Merges one key.
     *
     * @param key    the tensor key (for messages)
     * @param seed   the key's seed, as {@link MergeContext#seed()} gives it
     * @param inputs one row-major array per input in {@link MergeAlgorithm#inputs()} order, all of the same length;
     *               the kernel may overwrite them
     * @return the result, of the same length (a new array or one of the inputs)
     */
    float[] apply(String key, long seed, float[][] inputs);
}
