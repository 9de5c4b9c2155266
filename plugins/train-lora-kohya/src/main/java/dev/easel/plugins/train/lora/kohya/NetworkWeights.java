package dev.easel.plugins.train.lora.kohya;

import ai.djl.ndarray.NDArray;
import dev.easel.api.training.TrainingContext;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A kohya {@code networks.lora} file to start from (kohya's {@code network_weights}): its modules by name, each a
 * {@code lora_down.weight}, a {@code lora_up.weight} and an optional {@code alpha} (old files without one mean alpha
 * = rank, as kohya reads them).
 */
final class NetworkWeights {
    private static final Set<String> SUFFIXES = Set.of("lora_down.weight", "lora_up.weight", "alpha");

    private final Path file;
    private final Map<String, Map<String, NDArray>> modules;
    private final Set<String> used = new TreeSet<>();

    private NetworkWeights(Path file, Map<String, Map<String, NDArray>> modules) {
        this.file = file;
        this.modules = modules;
    }

    /** Reads and checks the file: every module a LoRA one, with both factors. */
    static NetworkWeights read(TrainingContext context, Path file) throws IOException {
        Map<String, Map<String, NDArray>> modules = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : context.readTensors(file).entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.');
            String module = dot < 0 ? key : key.substring(0, dot);
            String suffix = dot < 0 ? "" : key.substring(dot + 1);
            if (!SUFFIXES.contains(suffix)) {
                throw new IOException(file + ": network_weights: tensor '" + key + "' is not part of a kohya "
                        + "networks.lora module (expected <module>.lora_down.weight, .lora_up.weight, .alpha)");
            }
            modules.computeIfAbsent(module, k -> new LinkedHashMap<>()).put(suffix, e.getValue());
        }
        if (modules.isEmpty()) {
            throw new IOException(file + ": network_weights: the file has no LoRA module");
        }
        for (Map.Entry<String, Map<String, NDArray>> m : modules.entrySet()) {
            if (!m.getValue().containsKey("lora_down.weight") || !m.getValue().containsKey("lora_up.weight")) {
                throw new IOException(file + ": network_weights: module '" + m.getKey() + "' lacks "
                        + (m.getValue().containsKey("lora_down.weight") ? "lora_up.weight" : "lora_down.weight"));
            }
        }
        return new NetworkWeights(file, modules);
    }

    Path file() {
        return file;
    }

    /** The first of the names that the file has, or {@code null}. */
    String find(List<String> names) {
        for (String n : names) {
            if (modules.containsKey(n)) {
                return n;
            }
        }
        return null;
    }

    /** The module's rank: the rows of its {@code lora_down}. */
    int rank(String module) {
        return (int) modules.get(module).get("lora_down.weight").getShape().get(0);
    }

    /** The module's alpha; its rank when the file stores none. */
    double alpha(String module) {
        NDArray a = modules.get(module).get("alpha");
        return a == null ? rank(module) : a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).getFloat();
    }

    /**
     * Copies the module's factors into freshly created trainable tensors of the same shapes.
     *
     * @throws IOException naming the module and both shapes when they differ
     */
    void copyInto(String module, Map<String, NDArray> trainable) throws IOException {
        for (String suffix : List.of("lora_down.weight", "lora_up.weight")) {
            NDArray from = modules.get(module).get(suffix);
            NDArray to = trainable.get(suffix);
            if (!from.getShape().equals(to.getShape())) {
                throw new IOException(file + ": network_weights: " + module + "." + suffix + " has shape "
                        + from.getShape() + ", this job's module needs " + to.getShape()
                        + " (another network_dim/conv_dim? dim_from_weights = true takes the file's)");
            }
            to.set(from.toFloatArray());
        }
        used.add(module);
    }

    /** Modules of the file no module of the job took. */
    List<String> unused() {
        List<String> out = new ArrayList<>();
        for (String m : modules.keySet()) {
            if (!used.contains(m)) {
                out.add(m);
            }
        }
        return out;
    }

    int size() {
        return modules.size();
    }

    /** Frees the file's arrays (the trainable tensors hold copies). */
    void close() {
        modules.values().forEach(m -> m.values().forEach(NDArray::close));
    }
}
