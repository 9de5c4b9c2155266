package dev.easel.core.merge;

import ai.djl.ndarray.NDManager;
import dev.easel.api.merge.MergeContext;

/** The engine's {@link MergeContext}: one per key (and per slice of a sliced key), valid during one call. */
final class KeyMergeContext implements MergeContext {
    private final String key;
    private final String block;
    private final NDManager manager;
    private final long seed;

    KeyMergeContext(String key, String block, NDManager manager, long seed) {
        this.key = key;
        this.block = block;
        this.manager = manager;
        this.seed = seed;
    }

    @Override
    public String key() {
        return key;
    }

    @Override
    public String block() {
        return block;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public long seed() {
        return seed;
    }
}
