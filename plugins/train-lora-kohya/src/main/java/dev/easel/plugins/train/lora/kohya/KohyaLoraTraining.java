package dev.easel.plugins.train.lora.kohya;

import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.training.TrainingContext;
import dev.easel.api.training.TrainingMethod;
import dev.easel.api.training.TrainingSession;
import java.util.List;

/**
 * LoRA and LoCon as kohya's {@code train_network.py --network_module networks.lora} trains them: the keys of a kohya
 * config file mean what they mean there, and the result is a kohya {@code .safetensors} that AUTOMATIC1111, ComfyUI
 * and kohya's tools load as one of their own.
 */
public final class KohyaLoraTraining implements TrainingMethod {
    static final String ADAPTER_TYPE = "lora/kohya";

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of("lora/kohya", "1.1.0",
                "LoRA / LoCon training as kohya's networks.lora (UNet transformer blocks and text encoder; conv_dim "
                        + "for resnet convs), saved in kohya's format");
    }

    @Override
    public ParameterSchema parameters() {
        return ParameterSchema.of(
                ParameterSpec.integer("network_dim", 4, 1, 4096, "LoRA rank of Linear and 1x1 conv modules"),
                ParameterSpec.floating("network_alpha", 1.0, 0.0, 1e6,
                        "Scale alpha: the update is multiplied by alpha/rank (0: alpha = rank)"),
                ParameterSpec.text("network_args", "",
                        "kohya network_args: conv_dim=N conv_alpha=A (LoCon on 3x3 resnet/sampler convs), "
                                + "rank_dropout=P, module_dropout=P"),
                ParameterSpec.floating("network_dropout", 0.0, 0.0, 1.0,
                        "Dropout on the rank activations after lora_down"),
                ParameterSpec.floating("learning_rate", 1e-4, 0.0, 1e3, "Learning rate of groups without their own"),
                ParameterSpec.floating("unet_lr", -1, -1, 1e3, "Learning rate of the UNet modules (-1: learning_rate)"),
                ParameterSpec.floating("text_encoder_lr", -1, -1, 1e3,
                        "Learning rate of the text encoder modules (-1: learning_rate)"),
                ParameterSpec.text("network_weights", "",
                        "A kohya LoRA file to start from: its modules' factors replace the initial ones"),
                ParameterSpec.bool("dim_from_weights", false,
                        "Take the modules, ranks and alphas from network_weights instead of network_dim/conv_dim"),
                ParameterSpec.bool("network_train_unet_only", false, "Adapt the UNet only"),
                ParameterSpec.bool("network_train_text_encoder_only", false, "Adapt the text encoder only"),
                ParameterSpec.choice("save_precision", "float", List.of("float", "fp16", "bf16"),
                        "Element type of the saved adapter"),
                ParameterSpec.choice("save_model_as", "safetensors", List.of("safetensors"),
                        "File format of the saved adapter"));
    }

    @Override
    public TrainingSession start(TrainingContext context, ParameterValues parameters) throws java.io.IOException {
        return KohyaLoraSession.start(context, parameters);
    }
}
