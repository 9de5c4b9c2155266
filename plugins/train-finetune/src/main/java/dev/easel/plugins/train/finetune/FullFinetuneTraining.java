package dev.easel.plugins.train.finetune;

import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.training.TrainingContext;
import dev.easel.api.training.TrainingMethod;
import dev.easel.api.training.TrainingSession;
import java.util.List;

/**
 * Full fine-tuning as kohya's {@code fine_tune.py}: the keys of its config file mean what they mean there
 * ({@code learning_rate}, {@code train_text_encoder}, {@code learning_rate_te}, {@code save_precision}), and the
 * result is a whole checkpoint in the base model's ldm key layout.
 */
public final class FullFinetuneTraining implements TrainingMethod {
    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of("finetune/full", "1.0.0",
                "Full fine-tuning of the UNet (and the text encoder with train_text_encoder), saved as a whole "
                        + "ldm checkpoint, as kohya's fine_tune.py");
    }

    @Override
    public ParameterSchema parameters() {
        return ParameterSchema.of(
                ParameterSpec.floating("learning_rate", 2e-6, 0.0, 1e3, "Learning rate of the UNet"),
                ParameterSpec.bool("train_text_encoder", false, "Train the text encoder too"),
                ParameterSpec.floating("learning_rate_te", -1, -1, 1e3,
                        "Learning rate of the text encoder (-1: learning_rate)"),
                ParameterSpec.choice("save_precision", "float", List.of("float", "fp16", "bf16"),
                        "Element type of the saved weights"),
                ParameterSpec.choice("save_model_as", "safetensors", List.of("safetensors"),
                        "File format of the saved checkpoint"));
    }

    @Override
    public TrainingSession start(TrainingContext context, ParameterValues parameters) {
        return FullFinetuneSession.start(context, parameters);
    }
}
