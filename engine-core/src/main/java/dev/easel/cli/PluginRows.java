package dev.easel.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.api.ParameterSpec;
import dev.easel.core.plugin.PluginRecord;
import java.util.List;

/** The JSON shape of plugin listings, shared by {@code easel plugins list --json} and {@code GET /api/plugins}. */
public final class PluginRows {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PluginRows() {
    }

    /** One object per record: kind, id, version, bundle, bundleVersion, state, reason (and description). */
    public static ArrayNode toJson(List<PluginRecord> records) {
        ArrayNode array = JSON.createArrayNode();
        for (PluginRecord r : records) {
            ObjectNode o = array.addObject();
            o.put("kind", r.kindLabel());
            o.put("id", r.id());
            o.put("version", r.version());
            o.put("bundle", r.origin().bundle());
            o.put("bundleVersion", r.origin().bundleVersion());
            o.put("state", r.state().label());
            o.put("reason", r.reason());
            o.put("description", r.description());
            o.put("location", r.origin().location());
        }
        return array;
    }

    /** The full description of one service, with its parameter schema. */
    public static ObjectNode detail(PluginRecord r) {
        ObjectNode o = (ObjectNode) toJson(List.of(r)).get(0);
        if (r.plugin() != null) {
            ArrayNode params = o.putArray("parameters");
            for (ParameterSpec p : r.plugin().parameters().specs()) {
                ObjectNode po = params.addObject();
                po.put("name", p.name());
                po.put("type", p.type().name().toLowerCase(java.util.Locale.ROOT));
                po.put("default", p.defaultValue());
                if (p.min() != null) {
                    po.put("min", p.min());
                }
                if (p.max() != null) {
                    po.put("max", p.max());
                }
                if (!p.choices().isEmpty()) {
                    po.putPOJO("choices", p.choices());
                }
                po.put("perBlock", p.perBlock());
                po.put("description", p.description());
            }
        }
        return o;
    }

    /** Pretty JSON text. */
    public static String write(Object node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
