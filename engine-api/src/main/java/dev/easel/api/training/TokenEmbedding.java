package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * New token(s) added to the tokenizer and the text encoder's embedding table for a job. Only these rows train;
 * every other row of the table stays bit-identical.
 */
@ProviderType
public interface TokenEmbedding {
    /** The word users write in prompts ({@code my-concept}). */
    String name();

    /** The placeholder tokens the word expands to, one per vector ({@code my-concept}, {@code my-concept-1}, ...). */
    List<String> tokens();

    /** The trainable vectors, {@code [vectors, width]}. */
    NDArray vectors();
}
