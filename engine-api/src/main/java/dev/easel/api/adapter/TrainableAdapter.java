package dev.easel.api.adapter;

import ai.djl.ndarray.NDArray;
import dev.easel.api.model.BaseModule;
import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The trainable wrapper an {@link AdapterType} puts around one module for a training job: its own tensors, its
 * forward on top of the frozen base module, and the tensors it saves.
 */
@ConsumerType
public interface TrainableAdapter {
    /** The tensors to optimise, keyed by their file suffix ({@code lora_down.weight}). The engine attaches gradients. */
    Map<String, NDArray> trainableTensors();

    /**
     * The adapted forward. At initialisation it must equal {@code base.forward(x)} (an untrained adapter changes
     * nothing).
     *
     * @param training whether dropout-like regularisation applies
     */
    NDArray forward(NDArray x, BaseModule base, boolean training);

    /** The tensors to write, keyed by suffix, including non-trained ones such as {@code alpha}. */
    Map<String, NDArray> export();

    /** Called after each optimiser step, for variants that re-project their weights (OFT constraints). */
    default void afterOptimizerStep() {
    }
}
