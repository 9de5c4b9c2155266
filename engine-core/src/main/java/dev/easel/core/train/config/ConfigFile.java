package dev.easel.core.train.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a job config (TOML, or JSON by extension or content) into flat key/value pairs. Tables are flattened the
 * way kohya's {@code --config_file} reader does ({@code [model_arguments]}, {@code [training_arguments]} ...
 * only group keys); a key given twice is an error.
 */
public final class ConfigFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TomlMapper TOML = new TomlMapper();

    private ConfigFile() {
    }

    /** Reads a file. */
    public static Map<String, Object> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), null, "no such file");
        } catch (IOException e) {
            throw new ConfigException(file.toString(), null, "cannot read: " + e.getMessage());
        }
        boolean json = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")
                || text.stripLeading().startsWith("{");
        return parse(file.toString(), text, json);
    }

    /** Parses config text; {@code source} names it in errors. */
    public static Map<String, Object> parse(String source, String text, boolean json) {
        JsonNode root;
        try {
            root = json ? JSON.readTree(text) : TOML.readTree(text);
        } catch (JacksonException e) {
            throw new ConfigException(source, null, "not valid " + (json ? "JSON" : "TOML") + ": "
                    + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(source, null, "expected a table of keys");
        }
        Map<String, Object> flat = new LinkedHashMap<>();
        Map<String, String> where = new LinkedHashMap<>();
        flatten(source, root, "", flat, where);
        return flat;
    }

    private static void flatten(String source, JsonNode node, String table, Map<String, Object> flat,
                                Map<String, String> where) {
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            String key = f.getKey();
            JsonNode value = f.getValue();
            if (value.isObject()) {
                if (!table.isEmpty()) {
                    throw new ConfigException(source, key, "table '" + table + "." + key + "' is nested too deep");
                }
                flatten(source, value, key, flat, where);
                continue;
            }
            String here = table.isEmpty() ? "the top level" : "[" + table + "]";
            String before = where.put(key, here);
            if (before != null) {
                throw new ConfigException(source, key, "key '" + key + "' is set twice (in " + before + " and in "
                        + here + ")");
            }
            flat.put(key, toJava(source, key, value));
        }
    }

    static Object toJava(String source, String key, JsonNode value) {
        if (value.isNull()) {
            return null;
        }
        if (value.isBoolean()) {
            return value.booleanValue();
        }
        if (value.isIntegralNumber()) {
            return value.longValue();
        }
        if (value.isNumber()) {
            return value.doubleValue();
        }
        if (value.isTextual()) {
            return value.textValue();
        }
        if (value.isArray()) {
            List<Object> list = new ArrayList<>();
            for (JsonNode e : value) {
                if (e.isContainerNode()) {
                    throw new ConfigException(source, key, "key '" + key + "' must be a value or a list of values");
                }
                list.add(toJava(source, key, e));
            }
            return list;
        }
        throw new ConfigException(source, key, "key '" + key + "' has an unsupported value");
    }
}
