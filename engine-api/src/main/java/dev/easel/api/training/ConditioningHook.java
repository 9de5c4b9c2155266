package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Replaces or blends the text conditioning of a prompt at sampling time. Aesthetic gradients personalise a copy
 * of the text encoder per prompt and blend its hidden states with the original ones.
 */
@FunctionalInterface
@ConsumerType
public interface ConditioningHook {
    /**
     * @param prompt  the prompt being encoded
     * @param hidden  the original per-token hidden states, {@code [1, tokens, width]}
     * @param network the hooks, to encode text or features with (a copy of) the text encoder
     * @return the conditioning to use instead
     */
    NDArray condition(String prompt, NDArray hidden, NetworkHooks network);
}
