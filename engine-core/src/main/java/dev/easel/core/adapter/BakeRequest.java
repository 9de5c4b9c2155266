package dev.easel.core.adapter;

import dev.easel.api.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What {@link LoraBaker} folds into which checkpoint.
 *
 * @param base          the checkpoint (never modified)
 * @param adapters      the adapter files with their strengths, applied in order
 * @param output        the file to write atomically
 * @param dtype         the type of the written float tensors, or {@code null} to keep each key's type
 * @param skipUnknown   whether modules that no type recognises or that match no checkpoint key are skipped with a
 *                      warning instead of failing the bake
 * @param preferredType an adapter type id to choose when several recognise a module, or {@code null}
 * @param threads       worker threads, 0 for the default (CPUs, at most 4)
 * @param memoryBudget  bytes of tensors in flight, 0 for the default (256 MiB)
 */
public record BakeRequest(Path base, List<Strength> adapters, Path output, DType dtype, boolean skipUnknown,
                          String preferredType, int threads, long memoryBudget) {
    /** Default working-memory budget. */
    public static final long DEFAULT_MEMORY_BUDGET = 256L << 20;

    public BakeRequest {
        Objects.requireNonNull(base, "base is null");
        Objects.requireNonNull(output, "output is null");
        adapters = List.copyOf(adapters);
        if (adapters.isEmpty()) {
            throw new IllegalArgumentException("no adapter to bake");
        }
    }

    /**
     * One adapter file and its multiplier.
     *
     * @param file     the adapter file
     * @param strength the multiplier m ({@code W' = W + m·ΔW} for additive types)
     */
    public record Strength(Path file, double strength) {
        /** Parses {@code FILE[:STRENGTH]} (the strength is the text after the last colon, when it is a number). */
        public static Strength parse(String spec) {
            int colon = spec.lastIndexOf(':');
            if (colon > 0) {
                try {
                    return new Strength(Path.of(spec.substring(0, colon)), Double.parseDouble(spec.substring(colon + 1)));
                } catch (NumberFormatException e) {
                    // a colon inside the path (Windows drive, odd names): the whole text is the file
                }
            }
            return new Strength(Path.of(spec), 1.0);
        }
    }

    int effectiveThreads() {
        return threads > 0 ? threads : Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 4));
    }

    long effectiveMemoryBudget() {
        return memoryBudget > 0 ? memoryBudget : DEFAULT_MEMORY_BUDGET;
    }
}
