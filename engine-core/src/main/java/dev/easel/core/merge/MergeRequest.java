package dev.easel.core.merge;

import dev.easel.api.tensor.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything one merge needs: the recipe graph, the output file and the run options. Build one with
 * {@link #of(String, Map, List, Path)} for a single method over model files, or from a recipe file with
 * {@link RecipeJson#read(Path)}.
 *
 * @param recipe       the graph to evaluate; its root is written to {@code output}
 * @param output       the file to create (written to a temporary file beside it, then renamed)
 * @param outputDType  the element type of merged float tensors, or {@code null} for each key's type in the first
 *                     model (non-float tensors always keep theirs)
 * @param seed         the user seed; each key gets its own seed derived from it and the key name
 * @param keepEma      whether {@code model_ema.*} keys are merged into the output (dropped by default)
 * @param threads      keys merged at once; 0 for the default (the number of CPUs, at most 4)
 * @param memoryBudget bytes of tensor working memory in flight across threads; 0 for the default (256 MiB)
 */
public record MergeRequest(RecipeNode recipe, Path output, DType outputDType, long seed, boolean keepEma,
                           int threads, long memoryBudget) {
    /** The default working-memory budget. */
    public static final long DEFAULT_MEMORY_BUDGET = 256L << 20;

    public MergeRequest {
        Objects.requireNonNull(recipe, "recipe is null");
        Objects.requireNonNull(output, "output is null");
        output = output.toAbsolutePath().normalize();
        if (!(recipe instanceof RecipeNode.Merge)) {
            throw new IllegalArgumentException("the recipe root must be a merge, not a model file");
        }
        if (outputDType != null && !outputDType.isFloatingPoint()) {
            throw new IllegalArgumentException("output dtype " + outputDType + " is not a float type");
        }
        if (threads < 0 || memoryBudget < 0) {
            throw new IllegalArgumentException("threads and memory budget must not be negative");
        }
    }

    /** One method over model files, with default options. */
    public static MergeRequest of(String method, Map<String, ?> parameters, List<Path> models, Path output) {
        List<RecipeNode> inputs = new ArrayList<>();
        for (Path p : models) {
            inputs.add(new RecipeNode.Model(p));
        }
        return new MergeRequest(new RecipeNode.Merge(method, Map.copyOf(parameters), Map.of(), inputs), output,
                null, 0L, false, 0, 0L);
    }

    /** The same request with another output dtype ({@code null}: the first model's). */
    public MergeRequest withOutputDType(DType dtype) {
        return new MergeRequest(recipe, output, dtype, seed, keepEma, threads, memoryBudget);
    }

    /** The same request with another seed. */
    public MergeRequest withSeed(long newSeed) {
        return new MergeRequest(recipe, output, outputDType, newSeed, keepEma, threads, memoryBudget);
    }

    /** The same request keeping or dropping EMA keys. */
    public MergeRequest withKeepEma(boolean keep) {
        return new MergeRequest(recipe, output, outputDType, seed, keep, threads, memoryBudget);
    }

    /** The same request with other concurrency and memory limits (0 = default). */
    public MergeRequest withLimits(int newThreads, long newMemoryBudget) {
        return new MergeRequest(recipe, output, outputDType, seed, keepEma, newThreads, newMemoryBudget);
    }

    /** The threads to use. */
    public int effectiveThreads() {
        return threads > 0 ? threads : Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 4));
    }

    /** The memory budget to use. */
    public long effectiveMemoryBudget() {
        return memoryBudget > 0 ? memoryBudget : DEFAULT_MEMORY_BUDGET;
    }
}
