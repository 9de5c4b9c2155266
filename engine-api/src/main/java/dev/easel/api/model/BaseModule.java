package dev.easel.api.model;

import ai.djl.ndarray.NDArray;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The original module behind an adapter, as the adapter's forward sees it: its frozen weights and its original
 * computation, also with substituted weights (what DoRA, OFT and IA3 need).
 */
@ProviderType
public interface BaseModule {
    /** Names and shape of the module. */
    NetworkModule info();

    /** The frozen weight. */
    NDArray weight();

    /** The frozen bias, or {@code null}. */
    NDArray bias();

    /** The original forward {@code f(x; W, b)}. */
    NDArray forward(NDArray x);

    /** The module's computation with another weight and bias ({@code bias} may be {@code null}). */
    NDArray forward(NDArray x, NDArray weight, NDArray bias);
}
