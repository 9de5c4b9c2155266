package dev.easel.core.merge;

import dev.easel.api.tensor.DType;

/**
 * A recipe read from a JSON file: the graph and the run options it sets (command-line flags override them).
 *
 * @param root  the merge whose result is written
 * @param dtype the output dtype, or {@code null}
 * @param seed  the seed, or {@code null}
 */
public record RecipeFile(RecipeNode root, DType dtype, Long seed) {
}
