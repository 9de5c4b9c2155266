package dev.easel.plugins.train.ti;

import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.training.TrainingContext;
import dev.easel.api.training.TrainingMethod;
import dev.easel.api.training.TrainingSession;
import java.io.IOException;
import java.util.List;

/**
 * Textual inversion: a new word whose vectors in the text encoder's embedding table are the only thing that trains.
 * Configured with the keys of kohya's {@code train_textual_inversion.py} (a kohya config file works as is), prompted
 * through kohya's object/style templates or an AUTOMATIC1111 template file ({@code [name]}, {@code [filewords]}), and
 * saved as AUTOMATIC1111's {@code .pt}, kohya's {@code emb_params} {@code .safetensors} and diffusers'
 * {@code learned_embeds} — each loads unchanged in the tool it comes from.
 */
public final class TextualInversionTraining implements TrainingMethod {
    /** The method id. */
    public static final String ID = "textual-inversion/kohya";

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of(ID, "1.0.0",
                "Textual inversion with kohya's config keys and templates or A1111 template files; saves A1111 .pt, "
                        + "kohya emb_params and diffusers learned_embeds");
    }

    @Override
    public ParameterSchema parameters() {
        return ParameterSchema.of(List.of(
                ParameterSpec.text("token_string", null,
                        "The new word the embedding trains (one word, not already in the vocabulary: zxq, <my-cat>)"),
                ParameterSpec.text("init_word", "*",
                        "Text whose token embeddings initialise the vectors, cycled over them (kohya's init_word)"),
                ParameterSpec.integer("num_vectors_per_token", 1, 1, 75, "Vectors (tokens) the word stands for"),
                ParameterSpec.bool("use_object_template", false,
                        "Ignore captions; train on kohya's object templates (\"a photo of a {}\", ...)"),
                ParameterSpec.bool("use_style_template", false,
                        "Ignore captions; train on kohya's style templates (\"a painting in the style of {}\", ...)"),
                ParameterSpec.text("template_file", "",
                        "A1111 prompt template file (one template a line, [name] and [filewords]), or a built-in: "
                                + String.join(", ", PromptTemplates.BUILT_IN)),
                ParameterSpec.floating("learning_rate", 5e-3, 0, 10,
                        "Learning rate of the vectors (A1111's default 0.005; kohya's examples use 5e-6 to 1e-4)"),
                ParameterSpec.text("weights", "",
                        "kohya: an embedding file to start from instead of init_word (A1111 .pt, emb_params, diffusers)"),
                ParameterSpec.choice("save_model_as", "all", List.of("all", "pt", "ckpt", "safetensors", "diffusers"),
                        "all: NAME.pt (A1111), NAME.safetensors (kohya emb_params) and NAME.learned_embeds."
                                + "safetensors (diffusers); or one of them (ckpt: the A1111 dict as NAME.ckpt)"),
                ParameterSpec.choice("save_precision", "float", List.of("float", "fp16", "bf16"),
                        "Element type of the saved vectors")));
    }

    @Override
    public TrainingSession start(TrainingContext context, ParameterValues parameters) throws IOException {
        return TextualInversionSession.start(context, parameters);
    }
}
