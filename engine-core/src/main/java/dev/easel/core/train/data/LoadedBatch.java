package dev.easel.core.train.data;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A batch ready for a step.
 *
 * @param latents  {@code [batch, 4, h, w]}
 * @param captions processed captions
 * @param reg      whether each element is a regularisation image
 */
public record LoadedBatch(NDArray latents, List<String> captions, List<Boolean> reg) {
}
