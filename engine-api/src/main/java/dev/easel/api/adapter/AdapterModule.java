package dev.easel.api.adapter;

import dev.easel.api.tensor.TensorInfo;
import java.util.Map;
import java.util.Objects;

/**
 * One adapted module as an {@link AdapterType} recognised it in a file.
 *
 * @param prefix     the key prefix shared by the module's tensors ({@code lora_unet_mid_block_attentions_0_proj_in})
 * @param tensors    the module's tensors keyed by the suffix after the prefix and a dot ({@code lora_down.weight})
 * @param rank       the rank (or the equivalent size for non-low-rank variants)
 * @param alpha      the stored alpha, or {@code null} when the file has none (scale then defaults per the variant)
 * @param variant    a short description of the detected sub-variant ({@code "conv 3x3, 1x1 up"}, {@code "tucker"})
 */
public record AdapterModule(String prefix, Map<String, TensorInfo> tensors, int rank, Double alpha, String variant) {
    public AdapterModule {
        Objects.requireNonNull(prefix, "prefix is null");
        tensors = Map.copyOf(tensors);
        Objects.requireNonNull(variant, "variant is null");
    }
}
