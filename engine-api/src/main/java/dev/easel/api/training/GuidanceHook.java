package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Takes part in classifier-free guidance, during training (Dream Artist trains its negative embedding through the
 * guided prediction) and sampling (null-text inversion replays its optimised unconditional embeddings).
 */
@ConsumerType
public interface GuidanceHook {
    /**
     * The unconditional context for a sampling or training step.
     *
     * @param stepIndex the index of the step in the schedule
     * @param context   the default unconditional context (the empty or negative prompt)
     */
    default NDArray unconditional(int stepIndex, NDArray context) {
        return context;
    }

    /** Combines the two predictions; the default is standard classifier-free guidance. */
    default NDArray combine(NDArray uncond, NDArray cond, float scale) {
        return uncond.add(cond.sub(uncond).mul(scale));
    }
}
