package dev.easel.core.train.data;

import java.util.List;

/**
 * The images of one batch, all of one dataset and bucket.
 *
 * @param entries indices into {@link TrainingData#entries()}
 */
public record Batch(List<Integer> entries) {
    public Batch {
        entries = List.copyOf(entries);
    }
}
