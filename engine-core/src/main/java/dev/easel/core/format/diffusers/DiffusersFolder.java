package dev.easel.core.format.diffusers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.format.pytorch.TorchCheckpointReader;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A diffusers pipeline folder ({@code model_index.json} with {@code unet/}, {@code vae/}, {@code text_encoder/},
 * {@code text_encoder_2/}), or a single component folder ({@code config.json} beside its weights), read as one
 * flat source: each tensor under its component's name as prefix ({@code unet.conv_in.weight}).
 *
 * <p>Weights are read from safetensors when present ({@code diffusion_pytorch_model.safetensors},
 * {@code model.safetensors}, then their {@code .fp16} variants), otherwise from the legacy {@code .bin} pickles
 * through the restricted unpickler; sharded weights are read through their {@code *.index.json}. Metadata carries what detection needs from the JSON configs:
 * {@code _class_name} of the pipeline and the scheduler's {@code prediction_type}.
 */
public final class DiffusersFolder implements TensorSource {
    /** The format id this reader reports. */
    public static final String FORMAT_ID = "format/diffusers";
    /** The weight-bearing components Easel reads, in pipeline order. */
    public static final List<String> COMPONENTS = List.of("unet", "vae", "text_encoder", "text_encoder_2");
    private static final List<String> WEIGHT_FILES = List.of("diffusion_pytorch_model.safetensors", "model.safetensors",
            "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors", "diffusion_pytorch_model.bin",
            "pytorch_model.bin", "diffusion_pytorch_model.fp16.bin", "pytorch_model.fp16.bin");
    private static final Map<String, String> CLASS_TO_COMPONENT = Map.of("UNet2DConditionModel", "unet",
            "AutoencoderKL", "vae", "CLIPTextModel", "text_encoder", "CLIPTextModelWithProjection", "text_encoder_2");
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Located(TensorSource source, String name) {
    }

    private final Path folder;
    private final List<TensorSource> parts;
    private final List<TensorInfo> tensors;
    private final Map<String, Located> byName;
    private final Map<String, String> metadata;

    private DiffusersFolder(Path folder, List<TensorSource> parts, List<TensorInfo> tensors,
            Map<String, Located> byName, Map<String, String> metadata) {
        this.folder = folder;
        this.parts = parts;
        this.tensors = tensors;
        this.byName = byName;
        this.metadata = metadata;
    }

    /** Whether a folder looks like a pipeline or a single component. */
    static boolean looksLikeOne(Path folder) {
        if (!Files.isDirectory(folder)) {
            return false;
        }
        if (Files.isRegularFile(folder.resolve("model_index.json"))) {
            return true;
        }
        if (!Files.isRegularFile(folder.resolve("config.json"))) {
            return false;
        }
        try {
            return !weightFiles(folder).isEmpty();
        } catch (ModelFormatException e) {
            return false;
        }
    }

    /** Opens every component's weights. */
    public static DiffusersFolder open(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new ModelFormatException(folder, "is not a folder");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Path> components = new LinkedHashMap<>();
        Path index = folder.resolve("model_index.json");
        if (Files.isRegularFile(index)) {
            JsonNode root = readJson(index);
            metadata.put("_class_name", root.path("_class_name").asText(""));
            for (String c : COMPONENTS) {
                if (root.has(c) && root.get(c).isArray() && !root.get(c).get(0).isNull() && Files.isDirectory(folder.resolve(c))) {
                    components.put(c, folder.resolve(c));
                }
            }
            Path scheduler = folder.resolve("scheduler").resolve("scheduler_config.json");
            if (Files.isRegularFile(scheduler)) {
                String prediction = readJson(scheduler).path("prediction_type").asText("");
                if (!prediction.isEmpty()) {
                    metadata.put("prediction_type", prediction);
                }
            }
        } else {
            JsonNode config = readJson(folder.resolve("config.json"));
            String cls = config.path("_class_name").asText(config.path("architectures").path(0).asText(""));
            String component = CLASS_TO_COMPONENT.get(cls);
            if (component == null) {
                throw new ModelFormatException(folder, "config.json names class '" + cls
                        + "', not a component Easel reads (" + CLASS_TO_COMPONENT.keySet() + ")");
            }
            components.put(component, folder);
        }
        if (components.isEmpty()) {
            throw new ModelFormatException(folder, "diffusers folder without any of " + COMPONENTS);
        }
        List<TensorSource> parts = new ArrayList<>();
        List<TensorInfo> tensors = new ArrayList<>();
        Map<String, Located> byName = new HashMap<>();
        try {
            for (Map.Entry<String, Path> c : components.entrySet()) {
                for (Path weights : weightFiles(c.getValue())) {
                    TensorSource part = weights.getFileName().toString().endsWith(".safetensors")
                            ? SafetensorsReader.open(weights) : TorchCheckpointReader.open(weights);
                    parts.add(part);
                    for (TensorInfo t : part.tensors()) {
                        String name = c.getKey() + "." + t.name();
                        if (byName.put(name, new Located(part, t.name())) != null) {
                            throw new ModelFormatException(weights, "tensor '" + t.name()
                                    + "' is also in another shard");
                        }
                        tensors.add(t.withName(name));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            for (TensorSource p : parts) {
                p.close();
            }
            throw e;
        }
        return new DiffusersFolder(folder, parts, Collections.unmodifiableList(tensors), byName,
                Collections.unmodifiableMap(metadata));
    }

    /** The weights of one component: its single file, or the shards its index lists. */
    private static List<Path> weightFiles(Path component) throws ModelFormatException {
        Path single = weightsOf(component);
        if (single != null) {
            return List.of(single);
        }
        for (String indexName : List.of("diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json",
                "diffusion_pytorch_model.fp16.safetensors.index.json", "model.fp16.safetensors.index.json",
                "diffusion_pytorch_model.bin.index.json", "pytorch_model.bin.index.json")) {
            Path index = component.resolve(indexName);
            if (Files.isRegularFile(index)) {
                JsonNode map = readJson(index).path("weight_map");
                if (!map.isObject() || map.isEmpty()) {
                    throw new ModelFormatException(index, "has no weight_map");
                }
                java.util.LinkedHashSet<Path> shards = new java.util.LinkedHashSet<>();
                for (JsonNode shard : (Iterable<JsonNode>) map::elements) {
                    String f = shard.asText("");
                    // A shard is a file beside the index: never a path that leaves the folder.
                    if (f.isEmpty() || f.contains("/") || f.contains("\\") || f.equals("..")) {
                        throw new ModelFormatException(index, "names an invalid shard file '" + f + "'");
                    }
                    Path p = component.resolve(f);
                    if (!Files.isRegularFile(p)) {
                        throw new ModelFormatException(index, "lists shard " + f + ", which is missing");
                    }
                    shards.add(p);
                }
                return List.copyOf(shards);
            }
        }
        throw new ModelFormatException(component, "no weights file (expected one of " + WEIGHT_FILES
                + " or a sharded *.index.json)");
    }

    static Path weightsOf(Path component) {
        for (String f : WEIGHT_FILES) {
            Path p = component.resolve(f);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static JsonNode readJson(Path file) throws ModelFormatException {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file, "is not valid JSON: " + e.getMessage());
        }
    }

    @Override
    public Path location() {
        return folder;
    }

    @Override
    public String formatId() {
        return FORMAT_ID;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        Located l = byName.get(name);
        return l == null ? Optional.empty() : l.source().info(l.name()).map(t -> t.withName(name));
    }

    @Override
    public ByteBuffer read(String name) throws IOException {
        Located l = byName.get(name);
        if (l == null) {
            throw new NoSuchElementException(folder + ": no tensor '" + name + "'");
        }
        return l.source().read(l.name());
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (TensorSource p : parts) {
            try {
                p.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
