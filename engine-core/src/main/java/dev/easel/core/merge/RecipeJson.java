package dev.easel.core.merge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.api.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes merge recipes as JSON. The format (version 1):
 * <pre>{@code
 * {
 *   "format": "easel-merge-recipe", "version": 1,
 *   "models": {"base": "sd15.safetensors", "anime": "anime.safetensors", "real": "real.safetensors"},
 *   "merges": [
 *     {"name": "mix", "method": "weighted_sum", "inputs": ["anime", "real"], "params": {"alpha": 0.4},
 *      "block_weights": {"alpha": [0.5, 0, 0, ... 26 values]}},
 *     {"name": "out", "method": "add_difference", "inputs": ["base", "mix", "base"], "params": {"alpha": 1.0}}
 *   ],
 *   "output": "out", "dtype": "fp16", "seed": 42
 * }
 * }</pre>
 * Model paths are relative to the recipe file. A merge's inputs name models or earlier merges, so the graph has no
 * cycles; {@code output} defaults to the last merge. Block weights are a list in block order or an object by block
 * name. The same form, with file names only, is stored in the output's metadata under
 * {@value MergePlanner#RECIPE_METADATA_KEY}.
 */
public final class RecipeJson {
    /** The value of {@code "format"}. */
    public static final String FORMAT = "easel-merge-recipe";
    /** The only version this reader accepts. */
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper();

    private RecipeJson() {
    }

    /**
     * Reads a recipe file.
     *
     * @throws MergeException naming the file and the problem
     */
    public static RecipeFile read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new MergeException("recipe " + file + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new MergeException("cannot read recipe " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(root, file.toAbsolutePath().getParent());
        } catch (MergeException | IllegalArgumentException e) {
            throw new MergeException("recipe " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses a recipe tree; relative model paths resolve against {@code baseDir}. */
    public static RecipeFile parse(JsonNode root, Path baseDir) {
        if (root == null || !root.isObject()) {
            throw new MergeException("the recipe must be a JSON object");
        }
        if (root.has("format") && !FORMAT.equals(root.get("format").asText())) {
            throw new MergeException("\"format\" is '" + root.get("format").asText() + "', expected '" + FORMAT + "'");
        }
        if (root.has("version") && root.get("version").asInt() != VERSION) {
            throw new MergeException("recipe version " + root.get("version").asText() + " is not supported; this "
                    + "Easel reads version " + VERSION);
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("format", "version", "models", "merges", "output", "dtype", "seed").contains(f)) {
                throw new MergeException("unknown field \"" + f + "\"");
            }
        }
        Map<String, RecipeNode> nodes = new LinkedHashMap<>();
        JsonNode models = root.path("models");
        if (!models.isObject() || models.isEmpty()) {
            throw new MergeException("\"models\" must be an object of name: path");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = models.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Path p = Path.of(e.getValue().asText());
            nodes.put(e.getKey(), new RecipeNode.Model(p.isAbsolute() || baseDir == null ? p : baseDir.resolve(p)));
        }
        JsonNode merges = root.path("merges");
        if (!merges.isArray() || merges.isEmpty()) {
            throw new MergeException("\"merges\" must be a non-empty array");
        }
        String last = null;
        for (JsonNode m : merges) {
            String name = text(m, "name", "merge" + nodes.size());
            if (nodes.containsKey(name)) {
                throw new MergeException("name '" + name + "' is used twice");
            }
            String method = text(m, "method", null);
            if (method == null) {
                throw new MergeException("merge '" + name + "' has no \"method\"");
            }
            List<RecipeNode> inputs = new ArrayList<>();
            for (JsonNode in : m.path("inputs")) {
                RecipeNode n = nodes.get(in.asText());
                if (n == null) {
                    throw new MergeException("merge '" + name + "' uses '" + in.asText()
                            + "', which is neither a model nor an earlier merge");
                }
                inputs.add(n);
            }
            if (inputs.isEmpty()) {
                throw new MergeException("merge '" + name + "' has no \"inputs\"");
            }
            Map<String, Object> params = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = m.path("params").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                params.put(e.getKey(), e.getValue().isNumber() ? (Object) e.getValue().numberValue()
                        : e.getValue().isBoolean() ? (Object) e.getValue().booleanValue() : e.getValue().asText());
            }
            Map<String, BlockWeights> blocks = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = m.path("block_weights").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                blocks.put(e.getKey(), blockWeights(e.getValue(), name, e.getKey()));
            }
            nodes.put(name, new RecipeNode.Merge(method, params, blocks, inputs));
            last = name;
        }
        String output = text(root, "output", last);
        RecipeNode out = nodes.get(output);
        if (!(out instanceof RecipeNode.Merge)) {
            throw new MergeException("\"output\" '" + output + "' is not a merge of this recipe");
        }
        DType dtype = root.has("dtype") ? DType.parse(root.get("dtype").asText()) : null;
        Long seed = root.has("seed") ? root.get("seed").asLong() : null;
        return new RecipeFile(out, dtype, seed);
    }

    private static BlockWeights blockWeights(JsonNode v, String merge, String param) {
        if (v.isArray()) {
            List<Double> values = new ArrayList<>();
            v.forEach(x -> values.add(x.asDouble()));
            return BlockWeights.ofList(values);
        }
        if (v.isTextual()) {
            return BlockWeights.parse(v.asText());
        }
        if (v.isObject()) {
            Map<String, Double> named = new LinkedHashMap<>();
            v.fields().forEachRemaining(e -> named.put(e.getKey(), e.getValue().asDouble()));
            return BlockWeights.ofNamed(named);
        }
        throw new MergeException("block weights of '" + param + "' in merge '" + merge
                + "' must be a list or an object of block: value");
    }

    private static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    /** The request's recipe as stored in the output metadata: file names only, no folders. */
    public static String toMetadata(MergeRequest request) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        ObjectNode models = root.putObject("models");
        ArrayNode merges = root.putArray("merges");
        Map<RecipeNode, String> names = new IdentityHashMap<>();
        name(request.recipe(), names, models, merges);
        root.put("output", names.get(request.recipe()));
        if (request.outputDType() != null) {
            root.put("dtype", request.outputDType().name());
        }
        root.put("seed", request.seed());
        return root.toString();
    }

    private static String name(RecipeNode node, Map<RecipeNode, String> names, ObjectNode models, ArrayNode merges) {
        String known = names.get(node);
        if (known != null) {
            return known;
        }
        if (node instanceof RecipeNode.Model m) {
            for (Map.Entry<RecipeNode, String> e : names.entrySet()) {
                if (e.getKey() instanceof RecipeNode.Model o && o.path().equals(m.path())) {
                    return e.getValue();
                }
            }
            String n = String.valueOf((char) ('a' + Math.min(25, models.size())));
            if (models.size() >= 26) {
                n = "model" + models.size();
            }
            models.put(n, m.path().getFileName().toString());
            names.put(node, n);
            return n;
        }
        RecipeNode.Merge m = (RecipeNode.Merge) node;
        List<String> ins = new ArrayList<>();
        for (RecipeNode in : m.inputs()) {
            ins.add(name(in, names, models, merges));
        }
        String n = "merge" + merges.size();
        ObjectNode o = merges.addObject();
        o.put("name", n);
        o.put("method", m.method());
        ArrayNode inputs = o.putArray("inputs");
        ins.forEach(inputs::add);
        o.set("params", JSON.valueToTree(m.parameters()));
        if (!m.blockWeights().isEmpty()) {
            ObjectNode bw = o.putObject("block_weights");
            m.blockWeights().forEach((k, v) -> bw.set(k, v.values().isEmpty() ? JSON.valueToTree(v.named())
                    : JSON.valueToTree(v.values())));
        }
        names.put(node, n);
        return n;
    }
}
