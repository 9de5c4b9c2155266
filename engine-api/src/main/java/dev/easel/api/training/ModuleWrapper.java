package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import dev.easel.api.model.BaseModule;
import org.osgi.annotation.versioning.ConsumerType;

/** Replaces the forward of one linear or conv module; an adapter's trainable wrapper is one. */
@FunctionalInterface
@ConsumerType
public interface ModuleWrapper {
    /** Computes the module's output; {@code base} gives the original weights and computation. */
    NDArray forward(NDArray x, BaseModule base, boolean training);
}
