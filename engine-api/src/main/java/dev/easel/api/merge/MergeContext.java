package dev.easel.api.merge;

import ai.djl.ndarray.NDManager;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What the engine tells an algorithm about the key being merged. Implemented by the engine; plugins only call it.
 */
@ProviderType
public interface MergeContext {
    /** The tensor key, in the layout of the first model (for example {@code model.diffusion_model.out.0.weight}). */
    String key();

    /** The block the key belongs to ({@code BASE}, {@code IN04}, {@code M00}, {@code OUT11}, ...), if known. */
    String block();

    /**
     * The manager that owns the inputs; arrays created here are freed after the key is written. Algorithms must
     * create their temporaries in it (or a child), never in a manager of their own that outlives the call.
     */
    NDManager manager();

    /**
     * A seed for this key derived from the user's seed and the key name, so seeded algorithms (DARE) give the
     * same result whatever the order or parallelism of the merge.
     */
    long seed();
}
