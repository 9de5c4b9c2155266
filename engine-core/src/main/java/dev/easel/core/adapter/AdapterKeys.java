package dev.easel.core.adapter;

import dev.easel.api.tensor.TensorInfo;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups an adapter file's tensor keys into modules ({@code <module>.<suffix>}). kohya and LyCORIS names hold no dot
 * before the suffix, so the module is everything before the first dot; PEFT/diffusers names are dotted paths, so the
 * suffix is the longest known one that ends the key.
 */
final class AdapterKeys {
    /** Suffixes of dotted (PEFT/diffusers) keys; kohya-style keys need none. */
    private static final List<String> DOTTED_SUFFIXES = List.of(
            "lora_A.weight", "lora_B.weight", "lora_A.default.weight", "lora_B.default.weight",
            "lora.down.weight", "lora.up.weight", "lora_linear_layer.down.weight", "lora_linear_layer.up.weight",
            "down.weight", "up.weight", "lora_magnitude_vector", "lora_magnitude_vector.default.weight",
            "lora_down.weight", "lora_up.weight", "lora_mid.weight", "alpha", "dora_scale",
            "hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2",
            "lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "lokr_t2",
            "oft_blocks", "oft_diag", "rescale", "on_input", "diff", "diff_b", "w_norm", "b_norm",
            "a1.weight", "a2.weight", "b1.weight", "b2.weight").stream()
            .sorted(Comparator.comparingInt(String::length).reversed()).toList();

    private AdapterKeys() {
    }

    static boolean kohyaStyle(String key) {
        int dot = key.indexOf('.');
        String head = dot < 0 ? key : key.substring(0, dot);
        return head.startsWith("lora_") || head.startsWith("lycoris_") || head.startsWith("oft_");
    }

    /** Module name to its tensors keyed by suffix, in file order. */
    static Map<String, Map<String, TensorInfo>> group(List<TensorInfo> tensors) {
        Map<String, Map<String, TensorInfo>> modules = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            String key = t.name();
            String module;
            String suffix;
            if (kohyaStyle(key) && key.indexOf('.') > 0) {
                module = key.substring(0, key.indexOf('.'));
                suffix = key.substring(key.indexOf('.') + 1);
            } else {
                String found = null;
                for (String s : DOTTED_SUFFIXES) {
                    if (key.endsWith("." + s)) {
                        found = s;
                        break;
                    }
                }
                if (found == null) {
                    int dot = key.lastIndexOf('.');
                    found = dot < 0 ? "" : key.substring(dot + 1);
                }
                module = found.isEmpty() ? key : key.substring(0, key.length() - found.length() - 1);
                suffix = found;
            }
            if (suffix.equals("lora_magnitude_vector.default.weight")) {
                suffix = "lora_magnitude_vector";
            }
            modules.computeIfAbsent(module, k -> new LinkedHashMap<>()).put(suffix, t);
        }
        return modules;
    }
}
