package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import dev.easel.api.model.NetworkModule;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Transforms the text context before a cross-attention key or value projection reads it: A1111 hypernetworks
 * apply one small network for K and one for V per context width.
 */
@FunctionalInterface
@ConsumerType
public interface ContextHook {
    /**
     * @param projection the {@code to_k} or {@code to_v} module about to read the context
     * @param context    {@code [batch, tokens, width]}
     * @return the context that projection reads instead
     */
    NDArray apply(NetworkModule projection, NDArray context);
}
