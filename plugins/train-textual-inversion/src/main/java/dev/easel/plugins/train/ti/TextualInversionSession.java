package dev.easel.plugins.train.ti;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.ParameterValues;
import dev.easel.api.training.ParameterGroup;
import dev.easel.api.training.TokenEmbedding;
import dev.easel.api.training.TrainingContext;
import dev.easel.api.training.TrainingExport;
import dev.easel.api.training.TrainingSession;
import dev.easel.api.training.TrainingStep;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One textual-inversion job: the new word added to the tokenizer and embedding table (only its rows train; the
 * engine never hands the rest of the table to the optimiser, so every other row stays bit-identical), the prompts
 * built from the templates each step, and the export in the three formats.
 */
final class TextualInversionSession implements TrainingSession {
    private static final Logger LOG = LoggerFactory.getLogger(TextualInversionSession.class);

    private final TokenEmbedding embedding;
    private final PromptTemplates templates;
    private final List<ParameterGroup> groups;
    private final EmbeddingExport export;
    private boolean warnedMissingWord;

    private TextualInversionSession(TokenEmbedding embedding, PromptTemplates templates, double learningRate,
                                    EmbeddingExport export) {
        this.embedding = embedding;
        this.templates = templates;
        this.groups = List.of(new ParameterGroup("embeddings", List.of(embedding.vectors()), learningRate));
        this.export = export;
    }

    static TextualInversionSession start(TrainingContext context, ParameterValues p) throws IOException {
        String token = p.getString("token_string").strip();
        if (token.isEmpty() || token.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("token_string '" + token + "' must be one word without spaces");
        }
        PromptTemplates templates = PromptTemplates.select(p.getBoolean("use_object_template"),
                p.getBoolean("use_style_template"), p.getString("template_file"));
        int vectors = p.getInt("num_vectors_per_token");
        TokenEmbedding embedding;
        try {
            embedding = context.network().addToken(token, vectors, p.getString("init_word"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("token_string '" + token + "': " + e.getMessage(), e);
        }
        String weights = p.getString("weights").strip();
        if (!weights.isEmpty()) {
            startFrom(context, Path.of(weights), embedding);
        }
        long width = embedding.vectors().getShape().get(1);
        LOG.info("textual inversion: '{}' = {} vector(s) of {} from '{}'; prompts from {}", token, vectors, width,
                p.getString("init_word"), templates.usesCaptions() ? "the captions"
                        : templates.lines().size() + " templates");
        EmbeddingExport export = new EmbeddingExport(token, p.getString("save_model_as"),
                p.getString("save_precision"), context.schedule().predictionType());
        return new TextualInversionSession(embedding, templates, p.getDouble("learning_rate"), export);
    }

    /**
     * kohya's {@code weights}: the vectors start as those of an embedding file (A1111 {@code string_to_param}, kohya
     * {@code emb_params} or a diffusers token), which must have {@code num_vectors_per_token} rows of this model's
     * width.
     */
    private static void startFrom(TrainingContext context, Path file, TokenEmbedding embedding) throws IOException {
        Map<String, NDArray> tensors = context.readTensors(file);
        List<String> a1111 = tensors.keySet().stream().filter(k -> k.startsWith("string_to_param.")).toList();
        NDArray vectors;
        if (a1111.size() == 1) {
            vectors = tensors.get(a1111.get(0));
        } else if (a1111.isEmpty() && tensors.size() == 1) {
            vectors = tensors.values().iterator().next();
        } else {
            throw new IllegalArgumentException("weights " + file + " is not one embedding (tensors: "
                    + tensors.keySet() + ")");
        }
        Shape want = embedding.vectors().getShape();
        Shape have = vectors.getShape().dimension() == 1 ? new Shape(1, vectors.getShape().get(0)) : vectors.getShape();
        if (!have.equals(want)) {
            throw new IllegalArgumentException("weights " + file + " holds vectors " + have + "; num_vectors_per_token"
                    + " and this model's text width ask for " + want);
        }
        embedding.vectors().set(vectors.toFloatArray());
    }

    /** The trained word. */
    TokenEmbedding embedding() {
        return embedding;
    }

    @Override
    public List<ParameterGroup> parameterGroups() {
        return groups;
    }

    @Override
    public NDArray loss(TrainingStep step) {
        if (templates.usesCaptions()) {
            warnIfWordMissing(step.captions());
            return step.diffusionLoss();
        }
        return step.perSampleDiffusionLoss(templates.prompts(step.captions(), embedding.name(), step.seed())).mean();
    }

    /** A caption without the word trains nothing; kohya stays silent about it, which hides a wasted run. */
    private void warnIfWordMissing(List<String> captions) {
        if (warnedMissingWord) {
            return;
        }
        String word = embedding.name().toLowerCase(Locale.ROOT);
        for (String c : captions) {
            if (!c.toLowerCase(Locale.ROOT).contains(word)) {
                warnedMissingWord = true;
                LOG.warn("caption '{}' does not contain the token '{}': images captioned so do not train the"
                        + " embedding (put the token in the captions, or set use_object_template, use_style_template"
                        + " or template_file)", c, embedding.name());
                return;
            }
        }
    }

    @Override
    public void export(TrainingExport out) throws IOException {
        export.write(out, embedding.vectors());
    }
}
