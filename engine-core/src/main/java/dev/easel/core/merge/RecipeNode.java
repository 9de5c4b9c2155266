package dev.easel.core.merge;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One node of a merge recipe: a model file, or a merge of other nodes. A plain {@code easel merge --method} is a
 * single {@link Merge} over {@link Model}s; a recipe file is a graph where the output of one merge feeds another.
 * The engine evaluates the graph key by key, so intermediate results never reach the disk.
 */
public sealed interface RecipeNode permits RecipeNode.Model, RecipeNode.Merge {

    /** A model file, read lazily. */
    record Model(Path path) implements RecipeNode {
        public Model {
            Objects.requireNonNull(path, "path is null");
            path = path.toAbsolutePath().normalize();
        }
    }

    /**
     * A merge method applied to other nodes.
     *
     * @param method       a plugin selector: an id ({@code weighted_sum/basic}), a family ({@code weighted_sum}) or
     *                     {@code id@range}
     * @param parameters   raw parameter values by name (text or numbers), validated against the plugin's schema
     * @param blockWeights per-block values of parameters the plugin marks as per-block, by parameter name
     * @param inputs       the nodes merged, in the order of the method's inputs (A, B, C, ...)
     */
    record Merge(String method, Map<String, Object> parameters, Map<String, BlockWeights> blockWeights,
                 List<RecipeNode> inputs) implements RecipeNode {
        public Merge {
            Objects.requireNonNull(method, "method is null");
            parameters = new LinkedHashMap<>(Objects.requireNonNullElse(parameters, Map.of()));
            blockWeights = new LinkedHashMap<>(Objects.requireNonNullElse(blockWeights, Map.of()));
            inputs = List.copyOf(inputs);
            if (inputs.isEmpty()) {
                throw new IllegalArgumentException("merge '" + method + "' has no inputs");
            }
        }
    }
}
