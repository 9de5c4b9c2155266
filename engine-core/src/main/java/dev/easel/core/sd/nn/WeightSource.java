package dev.easel.core.sd.nn;

import ai.djl.ndarray.NDArray;

/**
 * Where a network takes its parameters while it is built: a checkpoint (checked key by key), a random initialiser,
 * or a planner that only records which keys of which shapes the network needs and allocates nothing.
 */
public interface WeightSource {
    /**
     * The float32 parameter stored under {@code key}, of exactly {@code shape}; {@code null} when planning.
     *
     * @throws dev.easel.core.sd.model.ModelLoadException naming the key if it is missing or mis-shaped
     */
    NDArray tensor(String key, long[] shape, ParamKind kind);

    /**
     * As {@link #tensor(String, long[], ParamKind)}, with the key the same parameter has in the diffusers layout
     * ({@code unet.…}, {@code vae.…}, {@code text_encoder.…}, as the diffusers folder format names them), used when
     * the ldm key is absent.
     */
    default NDArray tensor(String key, String alias, long[] shape, ParamKind kind) {
        return tensor(key, shape, kind);
    }

    /** Whether the source holds {@code key} (planning and random sources hold every key). */
    default boolean has(String key) {
        return true;
    }

    /** Whether this source only plans (returns {@code null} for every tensor). */
    default boolean planning() {
        return false;
    }
}
