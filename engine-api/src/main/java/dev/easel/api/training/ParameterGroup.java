package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Objects;

/**
 * Tensors optimised together with one learning rate (kohya's {@code unet_lr} and {@code text_encoder_lr} are two
 * groups).
 *
 * @param name         a label for logs and checkpoints ({@code unet}, {@code text_encoder}, {@code embeddings})
 * @param tensors      the tensors; the engine attaches gradients to them
 * @param learningRate the base learning rate of the group, before the schedule
 */
public record ParameterGroup(String name, List<NDArray> tensors, double learningRate) {
    public ParameterGroup {
        Objects.requireNonNull(name, "name is null");
        tensors = List.copyOf(tensors);
    }
}
